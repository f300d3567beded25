// Normalisation, attention, convolution and pooling.
import { type Dim, isStatic } from "../../compiler/ir/dim.js";
import { broadcastShapes, normAxis } from "../../compiler/ir/infer.js";
import type { OpAttrs } from "../../compiler/ir/ir.js";
import type { HostTensor } from "../../util/tensor.js";
import { fromNumbers } from "../../compiler/ir/interp/numeric.js";
import type { NodeEmitter } from "./context.js";
import { emitReduce } from "./lower-reduce.js";
import { attr } from "./proto.js";
import { shapeTensor } from "./shapes.js";

/**
 * LayerNormalization needs a scale; without one it gets a ones constant of the normalised shape. When that shape
 * is symbolic no constant can be made, so the normalisation is spelled out with ReduceMean.
 */
export function lowerLayerNorm(e: NodeEmitter): void {
  const { axis, eps } = e.node.attrs as OpAttrs["layer_norm"];
  const x = e.node.inputs[0];
  const ax = normAxis(axis, x.shape.length);
  const normShape = x.shape.slice(ax);
  const [input, scale, bias] = e.inputs;
  const attrs = [attr.int("axis", ax), attr.float("epsilon", eps)];
  if (scale !== undefined) return e.emit("LayerNormalization", [input, scale, ...(bias ? [bias] : [])], [e.out()], attrs);
  if (normShape.every(isStatic)) {
    const ones = e.constant(onesLike(x.dtype, normShape as number[]), "ones");
    return e.emit("LayerNormalization", [input, ones, ...(bias ? [bias] : [])], [e.out()], attrs);
  }
  layerNormDecomposed(e, ax, eps, bias);
}

function onesLike(dtype: HostTensor["dtype"], shape: number[]): HostTensor {
  return fromNumbers(dtype, shape, new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(1));
}

function layerNormDecomposed(e: NodeEmitter, ax: number, eps: number, bias: string | undefined): void {
  const x = e.node.inputs[0];
  const axes = [...Array(x.shape.length - ax).keys()].map((i) => ax + i);
  const full = { dtype: x.dtype, shape: x.shape };
  const reduced = { dtype: x.dtype, shape: x.shape.map((d, i) => (i < ax ? d : 1)) };
  const mean = e.temp("mean", reduced);
  emitReduce(e, "ReduceMean", e.inputs[0], axes, true, mean);
  const centred = e.apply("Sub", [e.inputs[0], mean], full, [], "centred");
  const variance = e.temp("variance", reduced);
  emitReduce(e, "ReduceMean", e.apply("Mul", [centred, centred], full, [], "squared"), axes, true, variance);
  const std = e.apply("Sqrt", [e.apply("Add", [variance, e.scalar(x.dtype, eps, "eps")], reduced)], reduced);
  if (!bias) return e.emit("Div", [centred, std], [e.out()]);
  e.emit("Add", [e.apply("Div", [centred, std], full), bias], [e.out()]);
}

/** softmax(q @ k^T * scale + bias) @ v as MatMul, Mul, Add, Softmax, MatMul. */
export function lowerAttention(e: NodeEmitter): void {
  const { scale } = e.node.attrs as OpAttrs["attention"];
  const [q, k] = e.node.inputs;
  const [qn, kn, vn, bn] = e.inputs;
  const r = k.shape.length;
  const perm = [...Array(r - 2).keys(), r - 1, r - 2];
  const kt = e.apply("Transpose", [kn], { dtype: k.dtype, shape: perm.map((p) => k.shape[p]) }, [attr.ints("perm", perm)]);
  const scoreShape: Dim[] = [...broadcastShapes(q.shape.slice(0, -2), k.shape.slice(0, -2)), q.shape[r - 2], k.shape[r - 2]];
  const scoreType = { dtype: q.dtype, shape: scoreShape };
  let scores = e.apply("MatMul", [qn, kt], scoreType, [], "scores");
  if (scale !== 1) scores = e.apply("Mul", [scores, e.scalar(q.dtype, scale, "scale")], scoreType, [], "scaled");
  if (bn !== undefined) scores = e.apply("Add", [scores, bn], scoreType, [], "biased");
  const probs = e.apply("Softmax", [scores], scoreType, [attr.int("axis", -1)], "probs");
  e.emit("MatMul", [probs, vn], [e.out()]);
}

export function lowerConv(e: NodeEmitter): void {
  const { strides, pads, dilations, groups } = e.node.attrs as OpAttrs["conv"];
  const kernel = e.node.inputs[1].shape.slice(2) as number[];
  e.emit("Conv", e.inputs, [e.out()], [
    attr.ints("kernel_shape", kernel),
    attr.ints("strides", strides),
    attr.ints("pads", pads),
    attr.ints("dilations", dilations),
    attr.int("group", groups),
  ]);
}

export function lowerMaxPool(e: NodeEmitter): void {
  const { kernel, strides, pads } = e.node.attrs as OpAttrs["max_pool"];
  e.emit("MaxPool", e.inputs, [e.out()], [attr.ints("kernel_shape", kernel), attr.ints("strides", strides), attr.ints("pads", pads)]);
}

export function lowerAvgPool(e: NodeEmitter): void {
  const { kernel, strides, pads, countIncludePad } = e.node.attrs as OpAttrs["avg_pool"];
  e.emit("AveragePool", e.inputs, [e.out()], [
    attr.ints("kernel_shape", kernel),
    attr.ints("strides", strides),
    attr.ints("pads", pads),
    attr.int("count_include_pad", countIncludePad ? 1 : 0),
  ]);
}

/** Resize (linear) to the full output shape; `align_corners` or `half_pixel` coordinates, as semantics.md defines. */
export function lowerResize(e: NodeEmitter): void {
  const { alignCorners } = e.node.attrs as OpAttrs["resize"];
  const sizes = shapeTensor(e, e.node.outputs[0].shape);
  e.emit("Resize", [e.inputs[0], "", "", sizes], [e.out()], [
    attr.string("mode", "linear"),
    attr.string("coordinate_transformation_mode", alignCorners ? "align_corners" : "half_pixel"),
  ]);
}
