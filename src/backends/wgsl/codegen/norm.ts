// Softmax and layer norm as single kernels: a workgroup per row, statistics reduced in workgroup memory,
// the input read through its index function (so a transposed or negated input needs no copy of its own).
import type { OpAttrs } from "../../../compiler/ir/ir.js";
import { normAxis } from "../../../compiler/ir/infer.js";
import type { PlannedKernel } from "../plan.js";
import { shapeOf } from "../prepare.js";
import { around } from "./expr.js";
import { f32Literal } from "./scalar-types.js";
import { numelOf, u } from "./indexing.js";
import { GROUP_THREADS, perRowMain, workgroupReduce } from "./reduce.js";
import type { KernelModule, KernelWriter } from "./writer.js";

const sum = workgroupReduce("row_sum", "f32", (a, b) => `${a} + ${b}`);
const max = workgroupReduce("row_max", "f32", (a, b) => `max(${a}, ${b})`);
const each = (body: string) => `  for (var j = lid; j < n; j = j + ${u(GROUP_THREADS)}) {\n    ${body}\n  }`;

export function softmaxKernel(w: KernelWriter, k: PlannedKernel): KernelModule {
  const [x] = k.anchor.inputs;
  const shape = shapeOf(x);
  const [outer, n, inner] = around(shape, normAxis((k.anchor.attrs as OpAttrs["softmax"]).axis, shape.length));
  const at = (j: string) => `(r / ${u(inner)} * ${u(n)} + ${j}) * ${u(inner)} + r % ${u(inner)}`;
  const body = `  let n = ${u(n)};
  var m = from_bits(0xff800000u);
${each(`m = max(m, ${w.read(x, at("j"))});`)}
  m = row_max(lid, m);
  var s = 0.0f;
${each(`s = s + exp(${w.read(x, at("j"))} - m);`)}
  s = row_sum(lid, s);
${each(`emit(${at("j")}, exp(${w.read(x, at("j"))} - m) / s);`)}`;
  const { main, workgroups } = perRowMain(w, outer * inner, body);
  return w.finish(`${max}\n\n${sum}\n\n${w.epilogue()}\n\n${main}`, workgroups);
}

export function layerNormKernel(w: KernelWriter, k: PlannedKernel): KernelModule {
  const { axis, eps } = k.anchor.attrs as OpAttrs["layer_norm"];
  const [x, scale, bias] = k.anchor.inputs;
  const shape = shapeOf(x);
  const n = numelOf(shape.slice(normAxis(axis, shape.length)));
  const xAt = w.read(x, `r * ${u(n)} + j`);
  let y = "(xv - mean) * inv";
  if (scale) y = `${y} * ${w.read(scale, "j")}`;
  if (bias) y = `${y} + ${w.read(bias, "j")}`;
  const body = `  let n = ${u(n)};
  var s = 0.0f;
${each(`s = s + ${xAt};`)}
  let mean = row_sum(lid, s) / ${f32Literal(n)};
  var d2 = 0.0f;
${each(`let d = ${xAt} - mean; d2 = d2 + d * d;`)}
  let inv = 1.0f / sqrt(row_sum(lid, d2) / ${f32Literal(n)} + ${f32Literal(eps)});
${each(`let xv = ${xAt}; emit(r * ${u(n)} + j, ${y});`)}`;
  const { main, workgroups } = perRowMain(w, numelOf(shape) / n, body);
  return w.finish(`${sum}\n\n${w.epilogue()}\n\n${main}`, workgroups);
}
