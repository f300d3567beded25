// WGSL scalar types of IR element types, and literals.
import type { DType } from "../../../util/tensor.js";

/** The type an IR value has inside a shader's expressions. */
export type ExprType = "f32" | "i32" | "bool";

export function exprTypeOf(dtype: DType): ExprType {
  if (dtype === "bool") return "bool";
  if (dtype === "f32" || dtype === "f16" || dtype === "bf16") return "f32";
  return "i32";
}

/** Element types a shader can hold: f64 has no WGSL counterpart. */
export function isSupportedType(dtype: DType): boolean {
  return dtype !== "f64";
}

export function f32Literal(x: number): string {
  const v = Math.fround(x);
  if (Number.isNaN(v)) return "from_bits(0x7fc00000u)";
  if (v === Infinity) return "from_bits(0x7f800000u)";
  if (v === -Infinity) return "from_bits(0xff800000u)";
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.0f`;
  return `${v.toPrecision(9)}f`;
}

export function i32Literal(x: number): string {
  const v = x | 0;
  return v === -2147483648 ? "i32(-2147483647 - 1)" : `${v}i`;
}

/** A literal of the value `x` (already converted to the element type) in the expression type of `dtype`. */
export function literal(dtype: DType, x: number): string {
  const t = exprTypeOf(dtype);
  if (t === "bool") return x !== 0 ? "true" : "false";
  return t === "f32" ? f32Literal(x) : i32Literal(x);
}

/** The zero of an expression type. */
export const zeroOf = (t: ExprType): string => (t === "f32" ? "0.0f" : t === "i32" ? "0i" : "false");
