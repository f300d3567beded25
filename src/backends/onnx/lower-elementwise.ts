// Elementwise ops (and matmul) map 1:1 onto an ONNX op; cast and clip carry their attributes.
import { isFloat } from "../../compiler/ir/infer.js";
import type { OpAttrs, OpName } from "../../compiler/ir/ir.js";
import type { NodeEmitter } from "./context.js";
import { attr, onnxDataType } from "./proto.js";

export const ONE_TO_ONE: Partial<Record<OpName, string>> = {
  neg: "Neg",
  abs: "Abs",
  exp: "Exp",
  log: "Log",
  sqrt: "Sqrt",
  reciprocal: "Reciprocal",
  tanh: "Tanh",
  sigmoid: "Sigmoid",
  erf: "Erf",
  floor: "Floor",
  ceil: "Ceil",
  sin: "Sin",
  cos: "Cos",
  not: "Not",
  add: "Add",
  sub: "Sub",
  mul: "Mul",
  div: "Div",
  pow: "Pow",
  maximum: "Max",
  minimum: "Min",
  prelu: "PRelu",
  lt: "Less",
  le: "LessOrEqual",
  gt: "Greater",
  ge: "GreaterOrEqual",
  eq: "Equal",
  and: "And",
  or: "Or",
  where: "Where",
  matmul: "MatMul",
};

/** Relu on integers is Max(x, 0): onnxruntime implements Relu for floats only. */
export function lowerRelu(e: NodeEmitter): void {
  const dtype = e.node.inputs[0].dtype;
  if (isFloat(dtype)) return e.emit("Relu", e.inputs, [e.out()]);
  e.emit("Max", [e.inputs[0], e.scalar(dtype, 0)], [e.out()]);
}

export function lowerCast(e: NodeEmitter): void {
  const { to } = e.node.attrs as OpAttrs["cast"];
  e.emit("Cast", e.inputs, [e.out()], [attr.int("to", onnxDataType(to))]);
}

/** Clip with scalar bound initializers of x's type; an absent bound is an empty input name. */
export function lowerClip(e: NodeEmitter): void {
  const { min, max } = e.node.attrs as OpAttrs["clip"];
  const dtype = e.node.inputs[0].dtype;
  if (min === undefined && max === undefined) return e.emit("Identity", e.inputs, [e.out()]);
  const bounds = [min === undefined ? "" : e.scalar(dtype, min, "min"), ...(max === undefined ? [] : [e.scalar(dtype, max, "max")])];
  e.emit("Clip", [e.inputs[0], ...bounds], [e.out()]);
}
