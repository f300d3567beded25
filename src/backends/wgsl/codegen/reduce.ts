// Reductions (sum, mean, max, min, prod over any axes) and argmax. Short reductions give each thread one
// output; long ones give each output a workgroup that reduces in workgroup memory.
import type { OpAttrs } from "../../../compiler/ir/ir.js";
import { normAxis } from "../../../compiler/ir/infer.js";
import type { PlannedKernel } from "../plan.js";
import { shapeOf } from "../prepare.js";
import { around } from "./expr.js";
import { coord, linear, numelOf, stridesOf, u } from "./indexing.js";
import { perElementMain } from "./pointwise.js";
import { type ExprType, exprTypeOf } from "./scalar-types.js";
import { ENTRY, ENTRY_ARGS, grid, type KernelModule, type KernelWriter } from "./writer.js";

/** Reductions at least this long get a workgroup per output. */
const PARALLEL_FROM = 256;
export const GROUP_THREADS = 64;

type Kind = OpAttrs["reduce"]["kind"];

function identity(kind: Kind, t: ExprType): string {
  const float = t === "f32";
  switch (kind) {
    case "max":
      return float ? "from_bits(0xff800000u)" : "i32(-2147483647 - 1)";
    case "min":
      return float ? "from_bits(0x7f800000u)" : "2147483647i";
    case "prod":
      return float ? "1.0f" : "1i";
    default:
      return float ? "0.0f" : "0i";
  }
}

function combine(kind: Kind, a: string, b: string): string {
  if (kind === "max" || kind === "min") return `${kind}(${a}, ${b})`;
  return kind === "prod" ? `${a} * ${b}` : `${a} + ${b}`;
}

/** A tree reduction of one value per thread over the workgroup; every thread gets the result. */
export function workgroupReduce(name: string, t: string, op: (a: string, b: string) => string): string {
  return `var<workgroup> ${name}_part: array<${t}, ${GROUP_THREADS}>;

fn ${name}(lid: u32, v: ${t}) -> ${t} {
  ${name}_part[lid] = v;
  workgroupBarrier();
  for (var s = ${u(GROUP_THREADS / 2)}; s > 0u; s = s >> 1u) {
    if (lid < s) { ${name}_part[lid] = ${op(`${name}_part[lid]`, `${name}_part[lid + s]`)}; }
    workgroupBarrier();
  }
  let r = ${name}_part[0];
  workgroupBarrier();
  return r;
}`;
}

/** One workgroup per row: `body` runs with `r` (the row) defined, after rows past the end have returned. */
export function perRowMain(w: KernelWriter, rows: number, body: string): { main: string; workgroups: [number, number, number] } {
  const g = grid(rows, w.ctx.maxWorkgroupsPerDimension);
  const main = `${ENTRY}(${GROUP_THREADS}) fn main(${ENTRY_ARGS}) {
  let r = ${g.index};
  if (r >= ${u(rows)}) { return; }
${body}
}`;
  return { main, workgroups: g.workgroups };
}

export function reduceKernel(w: KernelWriter, k: PlannedKernel): KernelModule {
  const { kind, axes } = k.anchor.attrs as OpAttrs["reduce"];
  const [x] = k.anchor.inputs;
  const xShape = shapeOf(x);
  const xs = stridesOf(xShape);
  const reduced = new Set(axes.map((a) => normAxis(a, xShape.length)));
  const keptAxes = xShape.map((_, d) => d).filter((d) => !reduced.has(d));
  const redAxes = [...reduced].sort((a, b) => a - b);
  const keptShape = keptAxes.map((d) => xShape[d]);
  const redShape = redAxes.map((d) => xShape[d]);
  const [outputs, count] = [numelOf(keptShape), numelOf(redShape)];
  const t = exprTypeOf(x.dtype);
  const base = linear(keptAxes.map((_, j) => coord("o", keptShape, j)), keptAxes.map((d) => xs[d]));
  const offset = linear(redAxes.map((_, j) => coord("e", redShape, j)), redAxes.map((d) => xs[d]));
  const element = w.read(x, `base + ${offset}`);
  const finish = (acc: string) => (kind !== "mean" ? acc : t === "f32" ? `${acc} / ${count}.0f` : `${acc} / ${count}i`);
  const loop = (start: string, step: string) => `  let base = ${base};
  var acc = ${identity(kind, t)};
  for (var e = ${start}; e < ${u(count)}; e = e + ${step}) {
    acc = ${combine(kind, "acc", element)};
  }`;
  if (count < PARALLEL_FROM) {
    const { main, workgroups } = perElementMain(w, outputs, `  let o = i;\n${loop("0u", "1u")}\n  emit(o, ${finish("acc")});`);
    return w.finish(`${w.epilogue()}\n\n${main}`, workgroups);
  }
  const body = `  let o = r;\n${loop("lid", u(GROUP_THREADS))}\n  let total = reduce_all(lid, acc);\n  if (lid == 0u) { emit(o, ${finish("total")}); }`;
  const { main, workgroups } = perRowMain(w, outputs, body);
  return w.finish(`${workgroupReduce("reduce_all", t, (a, b) => combine(kind, a, b))}\n\n${w.epilogue()}\n\n${main}`, workgroups);
}

export function argmaxKernel(w: KernelWriter, k: PlannedKernel): KernelModule {
  const [x] = k.anchor.inputs;
  const xShape = shapeOf(x);
  const axis = normAxis((k.anchor.attrs as OpAttrs["argmax"]).axis, xShape.length);
  const [outer, n, inner] = around(xShape, axis);
  const at = (j: string) => w.read(x, `(i / ${u(inner)} * ${u(n)} + ${j}) * ${u(inner)} + i % ${u(inner)}`);
  const body = `  var best = ${at("0u")};
  var index = 0i;
  for (var j = 1u; j < ${u(n)}; j = j + 1u) {
    let v = ${at("j")};
    if (v > best) { best = v; index = i32(j); }
  }
  emit(i, index);`;
  const { main, workgroups } = perElementMain(w, outer * inner, body);
  return w.finish(`${w.epilogue()}\n\n${main}`, workgroups);
}
