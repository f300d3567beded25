// The elementwise ops whose ONNX lowering the op registry leaves to this backend ("custom": relu, gelu), and cast and
// clip, which carry their attributes.
import { isFloat } from "../../compiler/ir/infer.js";
import type { NodeEmitter } from "./context.js";
import { attr, onnxDataType } from "./proto.js";

/** Relu on integers is Max(x, 0): onnxruntime implements Relu for floats only. */
export function lowerRelu(e: NodeEmitter): void {
  const dtype = e.node.inputs[0].dtype;
  if (isFloat(dtype)) return e.emit("Relu", e.inputs, [e.out()]);
  e.emit("Max", [e.inputs[0], e.scalar(dtype, 0)], [e.out()]);
}

/** ONNX Gelu from opset 20; before it, the formula of semantics.md spelled out in basic ops (as torch exports it). */
export function lowerGelu(e: NodeEmitter<"gelu">): void {
  const { approximate } = e.node.attrs;
  if (e.opset >= 20) return e.emit("Gelu", e.inputs, [e.out()], [attr.string("approximate", approximate)]);
  const [x] = e.inputs;
  const type = { dtype: e.node.inputs[0].dtype, shape: e.node.inputs[0].shape };
  const c = (value: number, tag: string) => e.scalar(type.dtype, value, tag);
  let phi: string; // 1 + erf(x/√2), or 1 + tanh(√(2/π)(x + 0.044715x³))
  if (approximate === "none") {
    const erf = e.apply("Erf", [e.apply("Div", [x, c(Math.SQRT2, "sqrt2")], type)], type);
    phi = e.apply("Add", [erf, c(1, "one")], type);
  } else {
    const cube = e.apply("Mul", [e.apply("Mul", [x, x], type, [], "square"), x], type, [], "cube");
    const inner = e.apply("Add", [x, e.apply("Mul", [cube, c(0.044715, "coeff")], type)], type);
    const tanh = e.apply("Tanh", [e.apply("Mul", [inner, c(Math.sqrt(2 / Math.PI), "scale")], type)], type);
    phi = e.apply("Add", [tanh, c(1, "one")], type);
  }
  e.emit("Mul", [e.apply("Mul", [x, phi], type, [], "x_phi"), c(0.5, "half")], [e.out()]);
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
