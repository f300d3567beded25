// Bodies of `fn vN(i: u32) -> T`: the element at flat index i of an inlined node's value, computed from its
// inputs' elements. Layout ops are pure index maps; gathers and linear sampling read their index input first.
// ../ops.ts places each in the WGSL lowering table.
import type { Node } from "../../../compiler/ir/ir.js";
import { normAxis } from "../../../compiler/ir/infer.js";
import { scalarOf, toNumbers } from "../../../compiler/ir/interp/numeric.js";
import { shapeOf } from "../prepare.js";
import { broadcastIndex, coord, linear, numelOf, u } from "./indexing.js";
import { stridesOf } from "../../../util/tensor.js";
import { f32Literal, literal } from "./scalar-types.js";
import type { KernelWriter } from "./writer.js";

const ret = (expr: string) => `  return ${expr};`;

export const reshapeBody = (node: Node<"reshape">, w: KernelWriter): string => ret(w.read(node.inputs[0], "i"));

export const expandBody = (node: Node<"expand">, w: KernelWriter): string =>
  ret(w.read(node.inputs[0], broadcastIndex(shapeOf(node.outputs[0]), shapeOf(node.inputs[0]), "i")));

/** Splits a shape around `axis` into element counts [outer, n, inner]. */
export function around(shape: readonly number[], axis: number): [number, number, number] {
  return [numelOf(shape.slice(0, axis)), shape[axis], numelOf(shape.slice(axis + 1))];
}

export function transposeBody(node: Node<"transpose">, w: KernelWriter): string {
  const { perm } = node.attrs;
  const [x] = node.inputs;
  const out = shapeOf(node.outputs[0]);
  const xs = stridesOf(shapeOf(x));
  return ret(
    w.read(
      x,
      linear(
        out.map((_, d) => coord("i", out, d)),
        perm.map((p) => xs[p]),
      ),
    ),
  );
}

export function sliceBody(node: Node<"slice">, w: KernelWriter): string {
  const a = node.attrs;
  const [x] = node.inputs;
  const out = shapeOf(node.outputs[0]);
  const axis = normAxis(a.axis, out.length);
  const xs = stridesOf(shapeOf(x));
  const terms = out.map((_, d) => coord("i", out, d));
  const index = linear(
    terms,
    xs.map((s, d) => (d === axis ? s * a.step : s)),
  );
  return ret(w.read(x, a.start === 0 ? index : `${index} + ${u(a.start * xs[axis])}`));
}

export function concatBody(node: Node<"concat">, w: KernelWriter): string {
  const out = shapeOf(node.outputs[0]);
  const axis = normAxis(node.attrs.axis, out.length);
  const [, n, inner] = around(out, axis);
  const lines = [
    `  let c = ${coord("i", out, axis)};`,
    `  let outer = i / ${u(n * inner)};`,
    `  let t = i % ${u(inner)};`,
  ];
  let offset = 0;
  node.inputs.forEach((x, k) => {
    const size = shapeOf(x)[axis];
    const read = w.read(x, `(outer * ${u(size)} + c - ${u(offset)}) * ${u(inner)} + t`);
    offset += size;
    lines.push(k === node.inputs.length - 1 ? ret(read) : `  if (c < ${u(offset)}) { return ${read}; }`);
  });
  return lines.join("\n");
}

export function padBody(node: Node<"pad">, w: KernelWriter): string {
  const a = node.attrs;
  const [x] = node.inputs;
  const xShape = shapeOf(x);
  const out = shapeOf(node.outputs[0]);
  const r = out.length;
  const xs = stridesOf(xShape);
  const lines: string[] = [];
  const inside: string[] = [];
  const terms = out.map((_, d) => {
    lines.push(`  let c${d} = ${coord("i", out, d)};`);
    if (a.pads[d] === 0 && a.pads[d + r] === 0) return `c${d}`;
    inside.push(
      a.pads[d] > 0 ? `c${d} >= ${u(a.pads[d])} && c${d} < ${u(a.pads[d] + xShape[d])}` : `c${d} < ${u(xShape[d])}`,
    );
    return a.pads[d] > 0 ? `(c${d} - ${u(a.pads[d])})` : `c${d}`;
  });
  const fill = literal(x.dtype, toNumbers(scalarOf(x.dtype, a.value))[0]);
  const read = w.read(x, linear(terms, xs));
  if (inside.length === 0) return [...lines, ret(read)].join("\n");
  return [...lines, `  if (${inside.join(" && ")}) { return ${read}; }`, ret(fill)].join("\n");
}

/** A possibly negative i64 index along an axis of length n, as a u32 position. */
const position = (k: string, n: number) => `u32(select(${k}, ${k} + ${n}i, ${k} < 0i))`;

export function gatherBody(node: Node<"gather">, w: KernelWriter): string {
  const [x, idx] = node.inputs;
  const xShape = shapeOf(x);
  const axis = normAxis(node.attrs.axis, xShape.length);
  const [, n, inner] = around(xShape, axis);
  const m = numelOf(shapeOf(idx));
  return [
    `  let o = i / ${u(m * inner)};`,
    `  let j = (i / ${u(inner)}) % ${u(m)};`,
    `  let k = ${w.read(idx, "j")};`,
    ret(w.read(x, `(o * ${u(n)} + ${position("k", n)}) * ${u(inner)} + i % ${u(inner)}`)),
  ].join("\n");
}

export function gatherElementsBody(node: Node<"gather_elements">, w: KernelWriter): string {
  const [x, idx] = node.inputs;
  const out = shapeOf(node.outputs[0]);
  const axis = normAxis(node.attrs.axis, out.length);
  const [, m, inner] = around(out, axis);
  const n = shapeOf(x)[axis];
  return [
    `  let k = ${w.read(idx, "i")};`,
    ret(w.read(x, `(i / ${u(m * inner)} * ${u(n)} + ${position("k", n)}) * ${u(inner)} + i % ${u(inner)}`)),
  ].join("\n");
}

export function sampleLinearBody(node: Node<"sample_linear">, w: KernelWriter): string {
  const [x, pos] = node.inputs;
  const xShape = shapeOf(x);
  const posShape = shapeOf(pos);
  const axis = normAxis(node.attrs.axis, xShape.length);
  const [, n, inner] = around(xShape, axis);
  const k = posShape[posShape.length - 1];
  const row = broadcastIndex(xShape.slice(0, axis), posShape.slice(0, -1), "l");
  const at = (j: string) => w.read(x, `(l * ${u(n)} + ${j}) * ${u(inner)} + t`);
  return [
    `  let l = i / ${u(k * inner)};`,
    `  let t = i % ${u(inner)};`,
    `  let p = clamp(${w.read(pos, `${row} * ${u(k)} + (i / ${u(inner)}) % ${u(k)}`)}, 0.0f, ${f32Literal(n - 1)});`,
    `  let p0 = floor(p);`,
    `  let f = p - p0;`,
    `  let j0 = u32(p0);`,
    `  let j1 = min(j0 + 1u, ${u(n - 1)});`,
    ret(`(1.0f - f) * ${at("j0")} + f * ${at("j1")}`),
  ].join("\n");
}

/** Separable linear resampling of the spatial axes: 2^k taps of x, weighted by the fractional positions. */
export function resizeBody(node: Node<"resize">, w: KernelWriter): string {
  const { sizes, alignCorners } = node.attrs;
  const [x] = node.inputs;
  const spatial = shapeOf(x).slice(2);
  const xs = stridesOf(spatial);
  const outPlane = numelOf(sizes);
  const lines = [`  let nc = i / ${u(outPlane)};`, `  let p = i % ${u(outPlane)};`];
  spatial.forEach((n, d) => {
    const m = sizes[d];
    // PyTorch rounds the scale to f32 before using it.
    const scale = Math.fround(alignCorners ? (m === 1 ? 0 : (n - 1) / (m - 1)) : n / m);
    const j = `f32(${coord("p", sizes, d)})`;
    const src = alignCorners ? `${j} * ${f32Literal(scale)}` : `max(0.0f, ${f32Literal(scale)} * (${j} + 0.5f) - 0.5f)`;
    lines.push(
      `  let s${d} = ${src};`,
      `  let a${d} = min(u32(floor(s${d})), ${u(n - 1)});`,
      `  let b${d} = min(a${d} + 1u, ${u(n - 1)});`,
      `  let f${d} = s${d} - f32(a${d});`,
    );
  });
  const taps = Array.from({ length: 2 ** spatial.length }, (_, corner) => {
    const high = (d: number) => ((corner >> d) & 1) === 1;
    const weight = spatial.map((_, d) => (high(d) ? `f${d}` : `(1.0f - f${d})`)).join(" * ");
    const at = linear(
      spatial.map((_, d) => (high(d) ? `b${d}` : `a${d}`)),
      xs,
    );
    return `${weight} * ${w.read(x, `nc * ${u(numelOf(spatial))} + ${at}`)}`;
  });
  return [...lines, ret(taps.join(" + "))].join("\n");
}
