// Reductions, arg-max and softmax. Reduce axes moved from attribute to input at opset 13 for ReduceSum and at
// opset 18 for the others.
import { normAxis } from "../../compiler/ir/infer.js";
import type { NodeEmitter } from "./context.js";
import { attr } from "./proto.js";

const REDUCE_OP = {
  sum: "ReduceSum",
  mean: "ReduceMean",
  max: "ReduceMax",
  min: "ReduceMin",
  prod: "ReduceProd",
} as const;

/** Emits a Reduce* node over non-negative, non-empty `axes` into `output`. */
export function emitReduce(
  e: NodeEmitter,
  opType: string,
  input: string,
  axes: readonly number[],
  keepdims: boolean,
  output: string,
): void {
  const axesAsInput = opType === "ReduceSum" ? e.opset >= 13 : e.opset >= 18;
  const keep = attr.int("keepdims", keepdims ? 1 : 0);
  if (axesAsInput) e.emit(opType, [input, e.i64s(axes, "axes")], [output], [keep]);
  else e.emit(opType, [input], [output], [attr.ints("axes", axes), keep]);
}

export function lowerReduce(e: NodeEmitter<"reduce">): void {
  const { kind, axes, keepdims } = e.node.attrs;
  const rank = e.node.inputs[0].shape.length;
  // ONNX reduces every axis when given none; the IR's empty reduction is the identity.
  if (axes.length === 0) return e.emit("Identity", e.inputs, [e.out()]);
  const sorted = axes.map((a) => normAxis(a, rank)).sort((a, b) => a - b);
  emitReduce(e, REDUCE_OP[kind], e.inputs[0], sorted, keepdims, e.out());
}

export function lowerArgmax(e: NodeEmitter<"argmax">): void {
  const { axis, keepdims } = e.node.attrs;
  const a = normAxis(axis, e.node.inputs[0].shape.length);
  e.emit(
    "ArgMax",
    e.inputs,
    [e.out()],
    [attr.int("axis", a), attr.int("keepdims", keepdims ? 1 : 0), attr.int("select_last_index", 0)],
  );
}

export function lowerSoftmax(e: NodeEmitter<"softmax">): void {
  const { axis } = e.node.attrs;
  e.emit("Softmax", e.inputs, [e.out()], [attr.int("axis", normAxis(axis, e.node.inputs[0].shape.length))]);
}
