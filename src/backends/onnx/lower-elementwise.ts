// The elementwise ops whose ONNX lowering the op registry leaves to this backend ("custom": relu), the registry's
// decompositions of composite ops, and cast and clip, which carry their attributes.
import { type DecompositionExpr, primitiveOnnxOp } from "../../compiler/ir/elementwise-ops.js";
import { isFloat } from "../../compiler/ir/infer.js";
import type { NodeEmitter } from "./context.js";
import { attr, onnxDataType } from "./proto.js";

/** Relu on integers is Max(x, 0): onnxruntime implements Relu for floats only. */
export function lowerRelu(e: NodeEmitter): void {
  const dtype = e.node.inputs[0].dtype;
  if (isFloat(dtype)) return e.emit("Relu", e.inputs, [e.out()]);
  e.emit("Max", [e.inputs[0], e.scalar(dtype, 0)], [e.out()]);
}

/**
 * A composite op as its registry decomposition: one ONNX node per primitive op, in the order of their operands, the
 * intermediates of the node's output type (decompositions keep it), the constants scalars of that type.
 */
export function lowerDecomposition(e: NodeEmitter, expr: DecompositionExpr): void {
  const type = { dtype: e.node.outputs[0].dtype, shape: e.node.outputs[0].shape };
  const value = (x: DecompositionExpr): string => {
    if (x.kind === "operand") return e.inputs[x.index];
    if (x.kind === "const") return e.scalar(type.dtype, x.value, x.tag);
    const opType = primitiveOnnxOp(x.op);
    return e.apply(opType, x.args.map(value), type, [], x.tag ?? opType);
  };
  if (expr.kind !== "op") return e.emit("Identity", [value(expr)], [e.out()]);
  e.emit(primitiveOnnxOp(expr.op), expr.args.map(value), [e.out()]);
}

export function lowerCast(e: NodeEmitter<"cast">): void {
  const { to } = e.node.attrs;
  e.emit("Cast", e.inputs, [e.out()], [attr.int("to", onnxDataType(to))]);
}

/** Clip with scalar bound initializers of x's type; an absent bound is an empty input name. */
export function lowerClip(e: NodeEmitter<"clip">): void {
  const { min, max } = e.node.attrs;
  const dtype = e.node.inputs[0].dtype;
  if (min === undefined && max === undefined) return e.emit("Identity", e.inputs, [e.out()]);
  const bounds = [
    min === undefined ? "" : e.scalar(dtype, min, "min"),
    ...(max === undefined ? [] : [e.scalar(dtype, max, "max")]),
  ];
  e.emit("Clip", [e.inputs[0], ...bounds], [e.out()]);
}
