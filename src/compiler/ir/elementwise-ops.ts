// The elementwise op registry: every unary and binary core op declared once, with its type rule, reference
// semantics, cost, ONNX lowering, WGSL expression and builtin doc. The tables are mapped types over the op unions,
// so an op added to UnaryOp or BinaryOp without a row, or a row without a lowering, does not compile; each backend
// reads its lowering from here (or, for a row that says "custom", from a table the backend must complete).
import type { DType } from "../../util/tensor.js";
import { type Dim, dimEq, shapeToString } from "./dim.js";
import type { OpAttrs, OpName } from "./ir.js";
import {
  divI64,
  divInt,
  erf,
  gelu,
  geluTanh,
  intMul,
  powFloat,
  powI64,
  powInt,
  sigmoid,
} from "./interp/scalar-math.js";

export type UnaryOp =
  | "neg"
  | "abs"
  | "exp"
  | "log"
  | "sqrt"
  | "reciprocal"
  | "tanh"
  | "sigmoid"
  | "erf"
  | "gelu"
  | "relu"
  | "floor"
  | "ceil"
  | "sin"
  | "cos"
  | "not";
export type BinaryOp =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "pow"
  | "maximum"
  | "minimum"
  | "prelu"
  | "lt"
  | "le"
  | "gt"
  | "ge"
  | "eq"
  | "and"
  | "or";

/**
 * The ONNX lowering: one ONNX op of the same inputs and output, "custom" for a lowering the ONNX backend writes by
 * hand (its table of custom lowerings is typed by the rows that say so), or "none" to refuse with a diagnostic.
 */
export type OnnxLowering = { readonly op: string } | "custom" | "none";

/** WGSL helper functions an expression may call; the WGSL backend must define each (scalar-ops.ts). */
export type WgslHelper = "erf_f" | "tanh_f" | "sigmoid_f" | "gelu_f" | "gelu_tanh_f" | "pow_f" | "pow_i";

export interface WgslScalar<A> {
  /** Whether the operands are f32 in the shader (otherwise i32, or bool for bool ops). */
  readonly float: boolean;
  readonly attrs: A;
  /** A call of a helper, recording that the shader needs it. */
  call(helper: WgslHelper, ...args: string[]): string;
}

interface Row<A> {
  /** Transcendental: costs several times a load, so fused kernels avoid recomputing it per consumer. */
  readonly expensive: boolean;
  readonly onnx: OnnxLowering;
  /** The element expression in WGSL before narrowing to the result type; "none" refuses with a diagnostic. */
  readonly wgsl: ((operands: string[], c: WgslScalar<A>) => string) | "none";
}

export type UnaryRow<A = {}> = Row<A> &
  (
    | { readonly domain: "float" | "bool" }
    /** Numeric ops also run on i64, as BigInt. */
    | { readonly domain: "numeric"; readonly i64: (x: bigint) => bigint }
  ) & {
    /** Reference semantics on float64 numbers (every element type but i64; bool as 0 and 1). */
    readonly f64: (x: number, attrs: A) => number;
    /** A builtin function of the op's name (compile-time numbers fold with `f64`), with its one-line doc. */
    readonly builtin?: string;
  };

export interface BinaryRow extends Row<{}> {
  /** Operands (of one element type): numeric (all but bool), float only, bool only, or any. */
  readonly operands: "numeric" | "float" | "bool" | "any";
  /** The result's element type: the operands', or bool (comparisons). */
  readonly result: "same" | "bool";
  /** Reference semantics on float64 numbers for operands of `dtype` (integers wrap like their type). */
  readonly f64: (dtype: DType) => (a: number, b: number) => number;
  /** On i64 operands, as BigInt (stores wrap modulo 2^64); absent where i64 operands are not allowed. */
  readonly i64?: (a: bigint, b: bigint) => bigint;
  /** A rule beyond broadcasting on the operands' shapes, as a message; undefined when it holds. */
  readonly check?: (a: readonly Dim[], b: readonly Dim[], out: readonly Dim[]) => string | undefined;
}

const fn = (name: string) => (x: string[]) => `${name}(${x[0]})`;
const helper = (name: WgslHelper) => (x: string[], c: WgslScalar<unknown>) => c.call(name, x[0]);

const UNARY_TABLE = {
  neg: {
    domain: "numeric",
    f64: (x) => -x,
    i64: (x) => -x,
    expensive: false,
    onnx: { op: "Neg" },
    wgsl: (x) => `-(${x[0]})`,
  },
  abs: {
    domain: "numeric",
    f64: Math.abs,
    i64: (x) => (x < 0n ? -x : x),
    expensive: false,
    onnx: { op: "Abs" },
    wgsl: fn("abs"),
    builtin: "absolute value",
  },
  exp: {
    domain: "float",
    f64: Math.exp,
    expensive: true,
    onnx: { op: "Exp" },
    wgsl: fn("exp"),
    builtin: "e^x elementwise",
  },
  log: {
    domain: "float",
    f64: Math.log,
    expensive: true,
    onnx: { op: "Log" },
    wgsl: fn("log"),
    builtin: "natural logarithm",
  },
  sqrt: {
    domain: "float",
    f64: Math.sqrt,
    expensive: true,
    onnx: { op: "Sqrt" },
    wgsl: fn("sqrt"),
    builtin: "square root",
  },
  reciprocal: {
    domain: "float",
    f64: (x) => 1 / x,
    expensive: false,
    onnx: { op: "Reciprocal" },
    wgsl: (x) => `(1.0f / ${x[0]})`,
    builtin: "1/x",
  },
  tanh: {
    domain: "float",
    f64: Math.tanh,
    expensive: true,
    onnx: { op: "Tanh" },
    wgsl: helper("tanh_f"),
    builtin: "hyperbolic tangent",
  },
  sigmoid: {
    domain: "float",
    f64: sigmoid,
    expensive: true,
    onnx: { op: "Sigmoid" },
    wgsl: helper("sigmoid_f"),
    builtin: "logistic sigmoid",
  },
  erf: {
    domain: "float",
    f64: erf,
    expensive: true,
    onnx: { op: "Erf" },
    wgsl: helper("erf_f"),
    builtin: "Gauss error function",
  },
  // One op, so that backends can use a native kernel (ONNX Gelu from opset 20) or fuse it as one expression.
  gelu: {
    domain: "float",
    f64: (x, a) => (a.approximate === "tanh" ? geluTanh(x) : gelu(x)),
    expensive: true,
    onnx: "custom",
    wgsl: (x, c) => c.call(c.attrs.approximate === "tanh" ? "gelu_tanh_f" : "gelu_f", x[0]),
  },
  relu: {
    domain: "numeric",
    f64: (x) => (x < 0 ? 0 : x),
    i64: (x) => (x < 0n ? 0n : x),
    expensive: false,
    onnx: "custom",
    wgsl: (x, c) => (c.float ? `max(${x[0]}, 0.0f)` : `max(${x[0]}, 0i)`),
    builtin: "max(x, 0)",
  },
  floor: {
    domain: "float",
    f64: Math.floor,
    expensive: false,
    onnx: { op: "Floor" },
    wgsl: fn("floor"),
    builtin: "round down",
  },
  ceil: {
    domain: "float",
    f64: Math.ceil,
    expensive: false,
    onnx: { op: "Ceil" },
    wgsl: fn("ceil"),
    builtin: "round up",
  },
  sin: { domain: "float", f64: Math.sin, expensive: true, onnx: { op: "Sin" }, wgsl: fn("sin"), builtin: "sine" },
  cos: { domain: "float", f64: Math.cos, expensive: true, onnx: { op: "Cos" }, wgsl: fn("cos"), builtin: "cosine" },
  not: {
    domain: "bool",
    f64: (x) => (x === 0 ? 1 : 0),
    expensive: false,
    onnx: { op: "Not" },
    wgsl: (x) => `!(${x[0]})`,
  },
} as const satisfies { readonly [K in UnaryOp]: UnaryRow<OpAttrs[K]> };

const same = (f: (a: number, b: number) => number) => () => f;
const infix = (symbol: string) => (x: string[]) => `(${x[0]} ${symbol} ${x[1]})`;
const compare = (holds: (a: number | bigint, b: number | bigint) => boolean): Pick<BinaryRow, "f64" | "i64"> => ({
  f64: same((a, b) => (holds(a, b) ? 1 : 0)),
  i64: (a, b) => (holds(a, b) ? 1n : 0n),
});
const isInt = (d: DType) => d === "i32" || d === "i8" || d === "u8";

const BINARY_TABLE = {
  add: {
    operands: "numeric",
    result: "same",
    f64: same((a, b) => a + b),
    i64: (a, b) => a + b,
    expensive: false,
    onnx: { op: "Add" },
    wgsl: infix("+"),
  },
  sub: {
    operands: "numeric",
    result: "same",
    f64: same((a, b) => a - b),
    i64: (a, b) => a - b,
    expensive: false,
    onnx: { op: "Sub" },
    wgsl: infix("-"),
  },
  mul: {
    operands: "numeric",
    result: "same",
    f64: (d) => (isInt(d) ? intMul(d) : (a, b) => a * b),
    i64: (a, b) => a * b,
    expensive: false,
    onnx: { op: "Mul" },
    wgsl: infix("*"),
  },
  div: {
    operands: "numeric",
    result: "same",
    f64: (d) => (isInt(d) ? divInt : (a, b) => a / b),
    i64: divI64,
    expensive: false,
    onnx: { op: "Div" },
    wgsl: infix("/"),
  },
  pow: {
    operands: "numeric",
    result: "same",
    f64: (d) => (isInt(d) ? powInt(d) : powFloat),
    i64: powI64,
    expensive: true,
    onnx: { op: "Pow" },
    wgsl: (x, c) => c.call(c.float ? "pow_f" : "pow_i", x[0], x[1]),
  },
  maximum: {
    operands: "numeric",
    result: "same",
    f64: same(Math.max),
    i64: (a, b) => (a > b ? a : b),
    expensive: false,
    onnx: { op: "Max" },
    wgsl: (x) => `max(${x[0]}, ${x[1]})`,
  },
  minimum: {
    operands: "numeric",
    result: "same",
    f64: same(Math.min),
    i64: (a, b) => (a < b ? a : b),
    expensive: false,
    onnx: { op: "Min" },
    wgsl: (x) => `min(${x[0]}, ${x[1]})`,
  },
  /** x where x >= 0, slope * x where x < 0; the slope broadcasts to x's shape (torch PReLU, ONNX PRelu). */
  prelu: {
    operands: "float",
    result: "same",
    f64: same((a, b) => (a < 0 ? a * b : a)),
    expensive: false,
    onnx: { op: "PRelu" },
    wgsl: (x) => `select(${x[0]}, ${x[0]} * ${x[1]}, ${x[0]} < 0.0f)`,
    check: (x, slope, out) =>
      out.length === x.length && out.every((d, i) => dimEq(d, x[i]))
        ? undefined
        : `prelu: the slope ${shapeToString(slope)} must broadcast to the input's shape ${shapeToString(x)}`,
  },
  lt: {
    operands: "numeric",
    result: "bool",
    ...compare((a, b) => a < b),
    expensive: false,
    onnx: { op: "Less" },
    wgsl: infix("<"),
  },
  le: {
    operands: "numeric",
    result: "bool",
    ...compare((a, b) => a <= b),
    expensive: false,
    onnx: { op: "LessOrEqual" },
    wgsl: infix("<="),
  },
  gt: {
    operands: "numeric",
    result: "bool",
    ...compare((a, b) => a > b),
    expensive: false,
    onnx: { op: "Greater" },
    wgsl: infix(">"),
  },
  ge: {
    operands: "numeric",
    result: "bool",
    ...compare((a, b) => a >= b),
    expensive: false,
    onnx: { op: "GreaterOrEqual" },
    wgsl: infix(">="),
  },
  eq: {
    operands: "any",
    result: "bool",
    ...compare((a, b) => a === b),
    expensive: false,
    onnx: { op: "Equal" },
    wgsl: infix("=="),
  },
  and: {
    operands: "bool",
    result: "same",
    f64: same((a, b) => (a !== 0 && b !== 0 ? 1 : 0)),
    expensive: false,
    onnx: { op: "And" },
    wgsl: infix("&&"),
  },
  or: {
    operands: "bool",
    result: "same",
    f64: same((a, b) => (a !== 0 || b !== 0 ? 1 : 0)),
    expensive: false,
    onnx: { op: "Or" },
    wgsl: infix("||"),
  },
} as const satisfies { readonly [K in BinaryOp]: BinaryRow };

/** Ops whose ONNX lowering the ONNX backend writes by hand: its table of them is typed by this union. */
export type CustomOnnxOp =
  | { [K in UnaryOp]: (typeof UNARY_TABLE)[K]["onnx"] extends "custom" ? K : never }[UnaryOp]
  | { [K in BinaryOp]: (typeof BINARY_TABLE)[K]["onnx"] extends "custom" ? K : never }[BinaryOp];

export const UNARY: { readonly [K in UnaryOp]: UnaryRow<OpAttrs[K]> } = UNARY_TABLE;
export const BINARY: { readonly [K in BinaryOp]: BinaryRow } = BINARY_TABLE;

// Every elementwise op is a core op.
type Assert<T extends true> = T;
export type ElementwiseOpsAreCoreOps = Assert<UnaryOp | BinaryOp extends OpName ? true : false>;

/**
 * Ops registered at run time (a test's scratch op): checked, interpreted and lowered through the same rows. They
 * are not in OpName, so nothing can be written for them by hand; a backend without their lowering refuses them.
 */
const registeredUnary = new Map<string, UnaryRow>();
const registeredBinary = new Map<string, BinaryRow>();

/** Registers an elementwise op for the rest of the process (until the returned function removes it). */
export function registerElementwiseOp(
  name: string,
  row: { kind: "unary"; row: UnaryRow } | { kind: "binary"; row: BinaryRow },
): () => void {
  if (name in UNARY || name in BINARY || registeredUnary.has(name) || registeredBinary.has(name))
    throw new Error(`the op ${name} is already defined`);
  const table: Map<string, unknown> = row.kind === "unary" ? registeredUnary : registeredBinary;
  table.set(name, row.row);
  return () => void table.delete(name);
}

/** The unary row of an op, or undefined when it is not a unary elementwise op. */
// biome-ignore lint/suspicious/noExplicitAny: looked up by a name only known at run time, so the attribute type is not
export function unaryRow(op: string): UnaryRow<any> | undefined {
  return Object.hasOwn(UNARY, op) ? UNARY[op as UnaryOp] : registeredUnary.get(op);
}

export function binaryRow(op: string): BinaryRow | undefined {
  return Object.hasOwn(BINARY, op) ? BINARY[op as BinaryOp] : registeredBinary.get(op);
}

// biome-ignore lint/suspicious/noExplicitAny: looked up by a name only known at run time, so the attribute type is not
export function elementwiseRow(op: string): UnaryRow<any> | BinaryRow | undefined {
  return unaryRow(op) ?? binaryRow(op);
}
