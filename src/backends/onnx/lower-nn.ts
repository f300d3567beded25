// Normalisation, attention, convolution and pooling.
import { type Dim, dimProduct, isStatic, shapeEq } from "../../compiler/ir/dim.js";
import { broadcastShapes, normAxis } from "../../compiler/ir/infer.js";
import type { HostTensor } from "../../util/tensor.js";
import { fromNumbers } from "../../compiler/ir/interp/numeric.js";
import { resizeTaps } from "../../compiler/ir/interp/window.js";
import type { NodeEmitter } from "./context.js";
import { emitReduce } from "./lower-reduce.js";
import { attr } from "./proto.js";
import { emitReshape } from "./shapes.js";

/** onnxruntime's contrib op domain (EmitOnnxOptions.onnxruntimeOps). */
const ONNXRUNTIME_DOMAIN = "com.microsoft";

/**
 * LayerNormalization needs a scale; without one it gets a ones constant of the normalised shape. When that shape
 * is symbolic no constant can be made, so the normalisation is spelled out with ReduceMean.
 */
export function lowerLayerNorm(e: NodeEmitter<"layer_norm">): void {
  const { axis, eps } = e.node.attrs;
  const x = e.node.inputs[0];
  const ax = normAxis(axis, x.shape.length);
  const normShape = x.shape.slice(ax);
  const [input, scale, bias] = e.inputs;
  const attrs = [attr.int("axis", ax), attr.float("epsilon", eps)];
  if (scale !== undefined)
    return e.emit("LayerNormalization", [input, scale, ...(bias ? [bias] : [])], [e.out()], attrs);
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

/**
 * ONNX Attention (opset 23) takes [batch, heads, seq, width] operands whose batch and head dims agree, and
 * onnxruntime wants the additive mask's last two dims to be exactly [q seq, kv seq] (only its leading dims broadcast).
 */
function fitsOnnxAttention(e: NodeEmitter): boolean {
  const [q, k, v, bias] = e.node.inputs;
  const lead = (t: typeof q) => t.shape.slice(0, 2);
  const maskOk = !bias || (bias.shape.length >= 2 && shapeEq(bias.shape.slice(-2), [q.shape[2], k.shape[2]]));
  return (
    e.opset >= 23 &&
    q.shape.length === 4 &&
    [k, v].every((t) => t.shape.length === 4 && shapeEq(lead(t), lead(q))) &&
    maskOk
  );
}

/**
 * How an attention runs as onnxruntime's MultiHeadAttention with one head per batch row: q, k and v with their
 * leading dims merged into one batch ([N, seq, width], a free reshape), the bias as its attention_bias
 * [1 or N, 1, q seq, kv seq]. Undefined where the contrib op cannot take it: leading dims that broadcast, a bias
 * broadcast along another dim, a type other than f32, an empty operand, or a scale of 0 (which the op reads as
 * 1/sqrt(width)).
 */
function multiHeadAttentionForm(e: NodeEmitter<"attention">): { batch: Dim; biasBatch?: Dim } | undefined {
  const [q, k, v, bias] = e.node.inputs;
  const r = q.shape.length;
  const lead = q.shape.slice(0, -2);
  const sameLead = [k, v].every((t) => shapeEq(t.shape.slice(0, -2), lead));
  const empty = [q, k, v].some((t) => t.shape.some((d) => d === 0));
  if (!e.g.onnxruntimeOps || q.dtype !== "f32" || e.node.attrs.scale === 0 || !sameLead || empty) return undefined;
  const batch = dimProduct(lead);
  if (!bias) return { batch };
  if (bias.shape.length < 2 || !shapeEq(bias.shape.slice(-2), [q.shape[r - 2], k.shape[r - 2]])) return undefined;
  // The verifier keeps the bias's rank within the scores'.
  const biasLead = bias.shape.slice(0, -2);
  const padded = [...Array(lead.length - biasLead.length).fill(1), ...biasLead];
  if (padded.every((d) => d === 1)) return { batch, biasBatch: 1 };
  if (shapeEq(padded, lead)) return { batch, biasBatch: batch };
  return undefined;
}

/** `name` (of shape `from`) as `to`: a Reshape, or the tensor itself when the shapes agree. */
function reshaped(e: NodeEmitter, name: string, from: readonly Dim[], to: readonly Dim[], tag: string): string {
  if (shapeEq(from, to)) return name;
  const out = e.temp(tag, { dtype: e.node.inputs[0].dtype, shape: [...to] });
  emitReshape(e, name, from, to, out);
  return out;
}

/** The attention as com.microsoft MultiHeadAttention (see multiHeadAttentionForm), reshaped back to its output. */
function lowerMultiHeadAttention(e: NodeEmitter<"attention">, form: { batch: Dim; biasBatch?: Dim }): void {
  const [q, k, v, bias] = e.node.inputs;
  const rows = (t: typeof q) => [form.batch, ...t.shape.slice(-2)];
  const operands = [q, k, v].map((t, i) => reshaped(e, e.inputs[i], t.shape, rows(t), `${"qkv"[i]}_rows`));
  if (bias && form.biasBatch !== undefined) {
    const scores = [form.biasBatch, 1, ...bias.shape.slice(-2)];
    // Inputs 3 and 4 (a projection bias, a key padding mask) stay empty; 5 is the additive attention bias.
    operands.push("", "", reshaped(e, e.inputs[3], bias.shape, scores, "bias_rows"));
  }
  const out = e.node.outputs[0];
  const attrs = [attr.int("num_heads", 1), attr.float("scale", e.node.attrs.scale)];
  const merged = rows(out);
  const same = shapeEq(merged, out.shape);
  const result = same ? e.out() : e.temp("rows", { dtype: out.dtype, shape: merged });
  e.emit("MultiHeadAttention", operands, [result], attrs, ONNXRUNTIME_DOMAIN);
  if (!same) emitReshape(e, result, merged, out.shape, e.out());
}

/**
 * softmax(q @ k^T * scale + bias) @ v: onnxruntime's MultiHeadAttention where the graph may use it, ONNX Attention
 * from opset 23, else MatMul, Mul, Add, Softmax, MatMul.
 */
export function lowerAttention(e: NodeEmitter<"attention">): void {
  const { scale } = e.node.attrs;
  const form = multiHeadAttentionForm(e);
  if (form) return lowerMultiHeadAttention(e, form);
  if (fitsOnnxAttention(e)) return e.emit("Attention", e.inputs, [e.out()], [attr.float("scale", scale)]);
  const [q, k] = e.node.inputs;
  const [qn, kn, vn, bn] = e.inputs;
  const r = k.shape.length;
  const perm = [...Array(r - 2).keys(), r - 1, r - 2];
  const kt = e.apply("Transpose", [kn], { dtype: k.dtype, shape: perm.map((p) => k.shape[p]) }, [
    attr.ints("perm", perm),
  ]);
  const scoreShape: Dim[] = [
    ...broadcastShapes(q.shape.slice(0, -2), k.shape.slice(0, -2)),
    q.shape[r - 2],
    k.shape[r - 2],
  ];
  const scoreType = { dtype: q.dtype, shape: scoreShape };
  let scores = e.apply("MatMul", [qn, kt], scoreType, [], "scores");
  if (scale !== 1) scores = e.apply("Mul", [scores, e.scalar(q.dtype, scale, "scale")], scoreType, [], "scaled");
  if (bn !== undefined) scores = e.apply("Add", [scores, bn], scoreType, [], "biased");
  const probs = e.apply("Softmax", [scores], scoreType, [attr.int("axis", -1)], "probs");
  e.emit("MatMul", [probs, vn], [e.out()]);
}

/** BatchNormalization in inference mode (training_mode 0, the default since opset 14). */
export function lowerBatchNorm(e: NodeEmitter<"batch_norm">): void {
  const { eps } = e.node.attrs;
  e.emit("BatchNormalization", e.inputs, [e.out()], [attr.float("epsilon", eps)]);
}

export function lowerConv(e: NodeEmitter<"conv">): void {
  const { strides, pads, dilations, groups } = e.node.attrs;
  const kernel = e.node.inputs[1].shape.slice(2) as number[];
  e.emit(
    "Conv",
    e.inputs,
    [e.out()],
    [
      attr.ints("kernel_shape", kernel),
      attr.ints("strides", strides),
      attr.ints("pads", pads),
      attr.ints("dilations", dilations),
      attr.int("group", groups),
    ],
  );
}

export function lowerMaxPool(e: NodeEmitter<"max_pool">): void {
  const { kernel, strides, pads } = e.node.attrs;
  e.emit(
    "MaxPool",
    e.inputs,
    [e.out()],
    [attr.ints("kernel_shape", kernel), attr.ints("strides", strides), attr.ints("pads", pads)],
  );
}

export function lowerAvgPool(e: NodeEmitter<"avg_pool">): void {
  const { kernel, strides, pads, countIncludePad } = e.node.attrs;
  e.emit(
    "AveragePool",
    e.inputs,
    [e.out()],
    [
      attr.ints("kernel_shape", kernel),
      attr.ints("strides", strides),
      attr.ints("pads", pads),
      attr.int("count_include_pad", countIncludePad ? 1 : 0),
    ],
  );
}

/**
 * resize as two Gathers and a weighted sum per resized axis, with the taps of semantics.md as constants. (ONNX
 * Resize computes its source coordinates in float32 in its own order, which moves them by up to an ulp of the
 * coordinate: 1e-4 on a noisy 224 -> 112 image. PyTorch's own coordinates are what the model was trained with.)
 */
export function lowerResize(e: NodeEmitter<"resize">): void {
  const { sizes, alignCorners } = e.node.attrs;
  const x = e.node.inputs[0];
  let cur = e.inputs[0];
  const shape = [...x.shape];
  const axes = sizes.map((_, i) => i + 2).filter((axis) => shape[axis] !== sizes[axis - 2]);
  if (axes.length === 0) return e.emit("Identity", [cur], [e.out()]);
  axes.forEach((axis, k) => {
    const n = shape[axis] as number;
    const m = sizes[axis - 2];
    const taps = resizeTaps(n, m, alignCorners, x.dtype);
    shape[axis] = m;
    const type = { dtype: x.dtype, shape: [...shape] };
    const weightShape = [m, ...Array<number>(shape.length - axis - 1).fill(1)];
    const weight = (w: number[], tag: string) =>
      e.constant(fromNumbers(x.dtype, weightShape, x.dtype === "f64" ? w : w.map(Math.fround)), tag);
    const term = (idx: number[], w: number[], tag: string) =>
      e.apply(
        "Mul",
        [
          e.apply("Gather", [cur, e.i64s(idx, `${tag}_index`)], type, [attr.int("axis", axis)], `${tag}_gather`),
          weight(w, `${tag}_weight`),
        ],
        type,
        [],
        tag,
      );
    const [a, b] = [term(taps.i0, taps.w0, `axis${axis}_lo`), term(taps.i1, taps.w1, `axis${axis}_hi`)];
    if (k === axes.length - 1) e.emit("Add", [a, b], [e.out()]);
    else cur = e.apply("Add", [a, b], type, [], `axis${axis}`);
  });
}
