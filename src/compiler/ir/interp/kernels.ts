// One entry point from an IR op to its reference kernel; used by the interpreter and by constant folding.
import type { HostTensor } from "../../../util/tensor.js";
import type { Dim } from "../dim.js";
import { normAxis } from "../infer.js";
import { type BinaryOp, binaryRow, type UnaryOp, unaryRow } from "../elementwise-ops.js";
import type { OpAttrs, OpName } from "../ir.js";
import { binary, cast, clip, unary, where } from "./elementwise.js";
import * as layout from "./layout.js";
import { argmax, attention, batchNorm, layerNorm, matmul, reduce, softmax } from "./linalg.js";
import { scalarOf } from "./numeric.js";
import { lstm } from "./recurrent.js";
import { sampleLinear, topk } from "./select.js";
import { avgPool, conv, maxPool, resizeLinear } from "./window.js";

/** Turns a possibly symbolic shape attribute into numbers (with the run's symbol values). */
export type ShapeResolver = (shape: readonly Dim[]) => number[];

type Kernel<K extends OpName> = (attrs: OpAttrs[K], ins: HostTensor[], resolve: ShapeResolver) => HostTensor[];

const axisOf = (x: HostTensor, a: number) => normAxis(a, x.shape.length);

/** The kernel of every computing op but the elementwise ones (their registry rows have theirs). */
const KERNELS: { readonly [K in Exclude<OpName, UnaryOp | BinaryOp | "input" | "param">]: Kernel<K> } = {
  const: (a) => [a.value],
  where: (_, [c, x, y]) => [where(c, x, y)],
  cast: (a, [x]) => [cast(x, a.to)],
  clip: (a, [x]) => [clip(x, a.min, a.max)],
  matmul: (_, [x, y]) => [matmul(x, y)],
  reduce: (a, [x]) => [reduce(x, a.kind, new Set(a.axes.map((i) => axisOf(x, i))), a.keepdims)],
  argmax: (a, [x]) => [argmax(x, axisOf(x, a.axis), a.keepdims)],
  softmax: (a, [x]) => [softmax(x, axisOf(x, a.axis))],
  layer_norm: (a, [x, scale, bias]) => [layerNorm(x, axisOf(x, a.axis), a.eps, scale, bias)],
  batch_norm: (a, [x, scale, bias, mean, variance]) => [batchNorm(x, scale, bias, mean, variance, a.eps)],
  attention: (a, [q, k, v, bias]) => [attention(q, k, v, a.scale, bias)],
  lstm: ({ reverse, bias }, ins) => {
    const state = bias ? 5 : 3;
    const [x, wIh, wHh] = ins;
    return lstm(
      {
        x,
        wIh,
        wHh,
        bIh: bias ? ins[3] : undefined,
        bHh: bias ? ins[4] : undefined,
        h0: ins[state],
        c0: ins[state + 1],
      },
      reverse,
    );
  },
  transpose: (a, [x]) => [layout.transpose(x, a.perm)],
  reshape: (a, [x], resolve) => [layout.reshape(x, resolve(a.shape))],
  expand: (a, [x], resolve) => [layout.expand(x, resolve(a.shape))],
  slice: (a, [x]) => [layout.slice(x, axisOf(x, a.axis), a.start, a.end, a.step)],
  concat: (a, ins) => [layout.concat(ins, axisOf(ins[0], a.axis))],
  pad: (a, [x]) => [layout.pad(x, a.pads, scalarOf(x.dtype, a.value))],
  gather: (a, [x, indices]) => [layout.gather(x, indices, axisOf(x, a.axis))],
  gather_elements: (a, [x, indices]) => [layout.gatherElements(x, indices, axisOf(x, a.axis))],
  conv: (a, [x, w, bias]) => [conv(x, w, bias, a)],
  max_pool: (a, [x]) => [maxPool(x, a)],
  avg_pool: (a, [x]) => [avgPool(x, a)],
  resize: (a, [x]) => [resizeLinear(x, a.sizes, a.alignCorners)],
  topk: (a, [x]) => topk(x, axisOf(x, a.axis), a.k, a.largest),
  sample_linear: (a, [x, positions]) => [sampleLinear(x, positions, axisOf(x, a.axis))],
};

/** Evaluates one computing op on concrete inputs; sources (`input`, `param`) are bound by the caller. */
export function evalOp<K extends OpName>(
  op: K,
  attrs: OpAttrs[K],
  ins: HostTensor[],
  resolve: ShapeResolver,
): HostTensor[] {
  const unaryOp = unaryRow(op);
  if (unaryOp) return [unary(unaryOp, ins[0], attrs)];
  const binaryOp = binaryRow(op);
  if (binaryOp) return [binary(binaryOp, ins[0], ins[1])];
  if (!Object.hasOwn(KERNELS, op)) throw new Error(`evalOp: ${op} is a source op or unknown`);
  return (KERNELS[op as keyof typeof KERNELS] as Kernel<K>)(attrs, ins, resolve);
}
