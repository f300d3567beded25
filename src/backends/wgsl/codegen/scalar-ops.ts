// The per-element expression of every scalar IR op (unary, binary, where, cast, clip, batch_norm) as WGSL, following
// semantics.md: i8/u8 wrap after integer arithmetic, f16/bf16 results are rounded to their precision.
import {
  type BinaryRow,
  type DecompositionExpr,
  elementwiseRow,
  type UnaryRow,
  type WgslHelper,
} from "../../../compiler/ir/elementwise-ops.js";
import type { Node, OpAttrs, OpName } from "../../../compiler/ir/ir.js";
import type { DType } from "../../../util/tensor.js";
import { exprTypeOf, f32Literal, i32Literal, literal } from "./scalar-types.js";

/** WGSL functions the expressions may call, by name: each helper an op-registry row may call, and this file's own. */
export const HELPERS: Record<string, string> = {
  from_bits: `// Infinities and NaN from their bit patterns at run time: WGSL rejects them in constant expressions.
fn from_bits(b: u32) -> f32 { return bitcast<f32>(b); }`,
  erf_f: `// Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, far below the 1e-3 the backend is held to.
fn erf_f(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  return sign(x) * (1.0 - poly * exp(-a * a));
}`,
  tanh_f: `// From exp(-2|x|), which cannot overflow (the builtin may return NaN for large |x| on some drivers).
fn tanh_f(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}`,
  gelu_f: `fn gelu_f(x: f32) -> f32 {
  return 0.5 * x * (1.0 + erf_f(x * 0.70710678118654752));
}`,
  gelu_tanh_f: `fn gelu_tanh_f(x: f32) -> f32 {
  return 0.5 * x * (1.0 + tanh_f(0.79788456080286536 * (x + 0.044715 * x * x * x)));
}`,
  sigmoid_f: `fn sigmoid_f(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}`,
  pow_f: `// C pow: WGSL's pow is undefined for negative bases, which C defines for integral exponents.
fn pow_f(a: f32, b: f32) -> f32 {
  if (b == 0.0 || a == 1.0) { return 1.0; }
  let r = pow(abs(a), b);
  if (a >= 0.0) { return r; }
  if (b != floor(b)) { return from_bits(0x7fc00000u); }
  return select(r, -r, fract(b * 0.5) != 0.0);
}`,
  pow_i: `fn pow_i(a: i32, b: i32) -> i32 {
  if (b < 0) {
    if (a == 1) { return 1; }
    if (a == -1) { return select(1, -1, (b & 1) != 0); }
    return 0;
  }
  var r = 1i;
  var base = a;
  var e = b;
  loop {
    if (e == 0) { break; }
    if ((e & 1) != 0) { r = r * base; }
    base = base * base;
    e = e >> 1u;
  }
  return r;
}`,
  round_f16: `// pack2x16float is undefined past f16's range: values that round beyond 65504 become infinities first.
fn round_f16(x: f32) -> f32 {
  if (abs(x) >= 65520.0) { return sign(x) * from_bits(0x7f800000u); }
  return unpack2x16float(pack2x16float(vec2f(x, 0.0))).x;
}`,
  round_bf16: `fn round_bf16(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return x; }
  return bitcast<f32>((b + 0x7fffu + ((b >> 16u) & 1u)) & 0xffff0000u);
}`,
} satisfies Record<WgslHelper | "from_bits" | "round_f16" | "round_bf16", string>;

/** Brings an i32 or f32 result to the IR element type's range or precision (a no-op for i32, i64 and f32). */
export function narrow(dtype: DType, expr: string, use: (helper: string) => void): string {
  switch (dtype) {
    case "i8":
      return `((${expr}) << 24u) >> 24u`;
    case "u8":
      return `((${expr}) & 255i)`;
    case "f16":
      use("round_f16");
      return `round_f16(${expr})`;
    case "bf16":
      use("round_bf16");
      return `round_bf16(${expr})`;
    default:
      return expr;
  }
}

/** Converts an expression of the element type `from` to `to`, as `cast` defines it. */
export function castExpr(x: string, from: DType, to: DType, use: (h: string) => void): string {
  const [f, t] = [exprTypeOf(from), exprTypeOf(to)];
  let out: string;
  if (t === "bool") out = f === "bool" ? x : f === "f32" ? `(${x} != 0.0f)` : `(${x} != 0i)`;
  else if (f === "bool") out = t === "f32" ? `select(0.0f, 1.0f, ${x})` : `select(0i, 1i, ${x})`;
  else out = f === t ? x : `${t}(${x})`;
  // Only the narrow targets need rounding or wrapping; the rest hold every value the conversion yields.
  return from === to ? out : narrow(to, out, use);
}

export function clipExpr(x: string, dtype: DType, attrs: OpAttrs["clip"]): string {
  const float = exprTypeOf(dtype) === "f32";
  const bound = (v: number) => (float ? f32Literal(v) : i32Literal(Math.trunc(v)));
  let out = x;
  if (attrs.min !== undefined) out = `max(${out}, ${bound(attrs.min)})`;
  if (attrs.max !== undefined) out = `min(${out}, ${bound(attrs.max)})`;
  return out;
}

/** batch_norm per element: (x - mean) / sqrt(var + eps) * scale + bias. */
export function batchNormExpr(
  node: Node<"batch_norm">,
  [x, scale, bias, mean, variance]: readonly string[],
  use: (helper: string) => void,
): string {
  return narrow(
    node.outputs[0].dtype,
    `((${x} - ${mean}) / sqrt(${variance} + ${f32Literal(node.attrs.eps)}) * ${scale} + ${bias})`,
    use,
  );
}

/** The element expression of an elementwise op by its registry row (its WGSL expression, or its decomposition). */
export function elementwiseExpr(
  row: UnaryRow<OpAttrs[OpName]> | BinaryRow,
  node: Node,
  operands: readonly string[],
  use: (helper: string) => void,
): string {
  const out = node.outputs[0].dtype;
  const inType = node.inputs[0].dtype;
  const float = exprTypeOf(inType) === "f32";
  if (row.wgsl === "none" && !row.decompose)
    throw new Error(`${node.op} is not a scalar op of the WGSL backend (a compiler bug)`);
  const call = (helper: WgslHelper, ...args: string[]) => {
    use(helper);
    return `${helper}(${args.join(", ")})`;
  };
  const constant = (value: number) => {
    const text = literal(inType, value);
    if (text.startsWith("from_bits(")) use("from_bits");
    return text;
  };
  const scalar = { float, attrs: node.attrs, call, literal: constant };
  if (row.wgsl !== "none") return narrow(out, row.wgsl([...operands], scalar), use);
  // No WGSL expression of its own: its decomposition, each primitive op as its row's expression.
  const expression = (x: DecompositionExpr): string => {
    if (x.kind === "operand") return operands[x.index];
    if (x.kind === "const") return constant(x.value);
    const primitive = elementwiseRow(x.op)!.wgsl as Exclude<UnaryRow["wgsl"], "none">;
    return primitive(x.args.map(expression), { ...scalar, attrs: {} });
  };
  return narrow(
    out,
    expression(
      row.decompose!(
        operands.map((_, index) => ({ kind: "operand", index })),
        node.attrs,
      ),
    ),
    use,
  );
}
