// Softmax and layer norm as single kernels: row statistics and the normalised output in one pass over memory
// per statistic, the input read through its index function (so a transposed or negated input needs no copy).
import { normAxis } from "../../../compiler/ir/infer.js";
import type { KernelOf } from "../plan.js";
import { shapeOf } from "../prepare.js";
import { around } from "./expr.js";
import { numelOf, u } from "./indexing.js";
import { rowShape, workgroupReduce } from "./rows.js";
import { f32Literal } from "./scalar-types.js";
import type { KernelModule, KernelWriter } from "./writer.js";

const SUM = workgroupReduce("row_sum", "f32", (a, b) => `${a} + ${b}`);
const MAX = workgroupReduce("row_max", "f32", (a, b) => `max(${a}, ${b})`);

export function softmaxKernel(w: KernelWriter, k: KernelOf<"softmax">): KernelModule {
  const [x] = k.anchor.inputs;
  const shape = shapeOf(x);
  const [outer, n, inner] = around(shape, normAxis(k.anchor.attrs.axis, shape.length));
  const axis = normAxis(k.anchor.attrs.axis, shape.length);
  const rows = rowShape(w, w.items(outer * inner, x, axis !== 0), n);
  const at = `(r / ${u(inner)} * ${u(n)} + j) * ${u(inner)} + r % ${u(inner)}`;
  const xAt = w.read(x, at);
  const body = `  var m = from_bits(0xff800000u);
  ${rows.each()} { m = max(m, ${xAt}); }
  m = ${rows.combine("row_max", "m")};
  var s = 0.0f;
  ${rows.each()} { s = s + exp(${xAt} - m); }
  s = ${rows.combine("row_sum", "s")};
  ${rows.each()} { emit(${at}, exp(${xAt} - m) / s); }`;
  const { main, workgroups } = rows.main(body);
  const shared = rows.parallel ? [MAX, SUM] : [];
  return w.finish([...shared, w.epilogue(), main].join("\n\n"), workgroups);
}

export function layerNormKernel(w: KernelWriter, k: KernelOf<"layer_norm">): KernelModule {
  const { axis, eps } = k.anchor.attrs;
  const [x, scale, bias] = k.anchor.inputs;
  const shape = shapeOf(x);
  const first = normAxis(axis, shape.length);
  const n = numelOf(shape.slice(first));
  const rows = rowShape(w, w.items(numelOf(shape) / n, x, first !== 0), n);
  const xAt = w.read(x, `r * ${u(n)} + j`);
  let y = "(xv - mean) * inv";
  if (scale) y = `${y} * ${w.read(scale, "j")}`;
  if (bias) y = `${y} + ${w.read(bias, "j")}`;
  const body = `  var s = 0.0f;
  ${rows.each()} { s = s + ${xAt}; }
  let mean = ${rows.combine("row_sum", "s")} / ${f32Literal(n)};
  var d2 = 0.0f;
  ${rows.each()} { let d = ${xAt} - mean; d2 = d2 + d * d; }
  let inv = 1.0f / sqrt(${rows.combine("row_sum", "d2")} / ${f32Literal(n)} + ${f32Literal(eps)});
  ${rows.each()} { let xv = ${xAt}; emit(r * ${u(n)} + j, ${y}); }`;
  const { main, workgroups } = rows.main(body);
  const shared = rows.parallel ? [SUM] : [];
  return w.finish([...shared, w.epilogue(), main].join("\n\n"), workgroups);
}
