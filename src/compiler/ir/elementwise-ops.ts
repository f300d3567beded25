// The elementwise op registry: every unary and binary core op declared once, with its type rule, reference
// semantics, cost, ONNX lowering, WGSL expression, decomposition and builtin doc. The tables are mapped types over
// the op unions, so an op added to UnaryOp or BinaryOp without a row, or a row without a lowering, does not compile;
// each backend reads its lowering from here (or, for a row that says "custom", from a table the backend must
// complete), and a backend without a kernel of its own for a composite op lowers the row's decomposition.
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
 * The ONNX lowering: one ONNX op of the same inputs and output (from opset `since`, with string attributes made from
 * the op's), "custom" for a lowering the ONNX backend writes by hand (its table of custom lowerings is typed by the
 * rows that say so), or "none". Where the op is not available (before `since`, or "none"), the ONNX backend lowers
 * the row's decomposition, or refuses the node with a diagnostic when it has none.
 */
export type OnnxLowering<A = {}> =
  | { readonly op: string; readonly since?: number; readonly attrs?: (attrs: A) => Readonly<Record<string, string>> }
  | "custom"
  | "none";

/**
 * The ops a decomposition may use: attribute-free elementwise ops that every backend lowers directly (one ONNX op in
 * every opset, a WGSL expression), so a decomposition never needs another decomposition or a hand-written lowering.
 */
export type PrimitiveOp =
  | "neg"
  | "abs"
  | "exp"
  | "log"
  | "sqrt"
  | "reciprocal"
  | "tanh"
  | "erf"
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "maximum"
  | "minimum";

/** A composite op's value as a tree of primitive ops over its operands and scalar constants (of its element type). */
export type DecompositionExpr =
  | { readonly kind: "operand"; readonly index: number }
  | { readonly kind: "const"; readonly value: number; readonly tag: string }
  /** `tag` names the intermediate in backends that name them (ONNX tensors); by default its ONNX op type. */
  | {
      readonly kind: "op";
      readonly op: PrimitiveOp;
      readonly args: readonly DecompositionExpr[];
      readonly tag?: string;
    };

/** Writes a composite op as primitive ops: `operands` are its inputs, the result is its output. */
export type Decomposition<A = {}> = (operands: readonly DecompositionExpr[], attrs: A) => DecompositionExpr;

/** Builders for decompositions: `op("mul", [a, b])`, `constant(0.5, "half")`. */
export const op = (name: PrimitiveOp, args: readonly DecompositionExpr[], tag?: string): DecompositionExpr => ({
  kind: "op",
  op: name,
  args,
  tag,
});
export const constant = (value: number, tag: string): DecompositionExpr => ({ kind: "const", value, tag });

/** WGSL helper functions an expression may call; the WGSL backend must define each (scalar-ops.ts). */
export type WgslHelper = "erf_f" | "tanh_f" | "sigmoid_f" | "gelu_f" | "gelu_tanh_f" | "pow_f" | "pow_i";

export interface WgslScalar<A> {
  /** Whether the operands are f32 in the shader (otherwise i32, or bool for bool ops). */
  readonly float: boolean;
  readonly attrs: A;
  /** A call of a helper, recording that the shader needs it. */
  call(helper: WgslHelper, ...args: string[]): string;
  /** A constant of the operands' type. */
  literal(value: number): string;
}

interface Row<A> {
  /** Transcendental: costs several times a load, so fused kernels avoid recomputing it per consumer. */
  readonly expensive: boolean;
  readonly onnx: OnnxLowering<A>;
  /**
   * The element expression in WGSL before narrowing to the result type; "none" lowers the decomposition, or refuses
   * with a diagnostic when there is none.
   */
  readonly wgsl: ((operands: string[], c: WgslScalar<A>) => string) | "none";
  /** The op as primitive ops, for a backend that has no kernel of its own for it (see OnnxLowering). */
  readonly decompose?: Decomposition<A>;
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

/** 1 + erf(x/√2), GELU's 2Φ(x). */
const erfPhi = (x: DecompositionExpr) =>
  op("add", [op("erf", [op("div", [x, constant(Math.SQRT2, "sqrt2")])]), constant(1, "one")]);
/** 1 + tanh(√(2/π)(x + 0.044715x³)), its tanh approximation. */
function tanhPhi(x: DecompositionExpr): DecompositionExpr {
  const cube = op("mul", [op("mul", [x, x], "square"), x], "cube");
  const inner = op("add", [x, op("mul", [cube, constant(0.044715, "coeff")])]);
  return op("add", [op("tanh", [op("mul", [inner, constant(Math.sqrt(2 / Math.PI), "scale")])]), constant(1, "one")]);
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
    decompose: ([x]) => op("reciprocal", [op("add", [op("exp", [op("neg", [x])]), constant(1, "one")])]),
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
    onnx: { op: "Gelu", since: 20, attrs: (a) => ({ approximate: a.approximate }) },
    wgsl: (x, c) => c.call(c.attrs.approximate === "tanh" ? "gelu_tanh_f" : "gelu_f", x[0]),
    // The formula of semantics.md in basic ops, as torch exports it before opset 20.
    decompose: ([x], a) =>
      op("mul", [op("mul", [x, a.approximate === "none" ? erfPhi(x) : tanhPhi(x)], "x_phi"), constant(0.5, "half")]),
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
    decompose: ([x, slope]) =>
      op("add", [op("maximum", [x, constant(0, "zero")]), op("mul", [slope, op("minimum", [x, constant(0, "zero")])])]),
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

// Every elementwise op is a core op; a primitive op has no attributes and lowers directly in every backend.
type Assert<T extends true> = T;
export type ElementwiseOpsAreCoreOps = Assert<UnaryOp | BinaryOp extends OpName ? true : false>;
type Table = typeof UNARY_TABLE & typeof BINARY_TABLE;
type Direct<K extends keyof Table> = Table[K]["onnx"] extends { op: string; since: number }
  ? false
  : Table[K]["onnx"] extends { op: string }
    ? Table[K]["wgsl"] extends "none"
      ? false
      : {} extends OpAttrs[K]
        ? true
        : false
    : false;
export type PrimitiveOpsLowerDirectly = Assert<{ [K in PrimitiveOp]: Direct<K> }[PrimitiveOp]>;

/** The ONNX op type of a primitive op. */
export function primitiveOnnxOp(name: PrimitiveOp): string {
  return (elementwiseRow(name)!.onnx as { op: string }).op;
}

/** A decomposition's value on numbers, each primitive op by its reference semantics (at float64). */
export function evaluateDecomposition(expr: DecompositionExpr, operands: readonly number[]): number {
  if (expr.kind === "operand") return operands[expr.index];
  if (expr.kind === "const") return expr.value;
  const args = expr.args.map((a) => evaluateDecomposition(a, operands));
  const unary = unaryRow(expr.op);
  return unary ? unary.f64(args[0], {}) : binaryRow(expr.op)!.f64("f64")(args[0], args[1]);
}

/** Whether a decomposition uses an expensive op (its cost in fused kernels). */
function usesExpensiveOp(expr: DecompositionExpr): boolean {
  return expr.kind === "op" && (elementwiseRow(expr.op)!.expensive || expr.args.some(usesExpensiveOp));
}

/** A composite float op declared by its decomposition only: its semantics, cost and every lowering follow from it. */
export interface DecomposedUnaryRow {
  readonly domain: "float";
  readonly decompose: Decomposition;
  readonly builtin?: string;
}

/** The full row of an op declared by its decomposition only (every backend lowers the decomposition). */
function fromDecomposition(row: DecomposedUnaryRow): UnaryRow {
  const symbolic = row.decompose([{ kind: "operand", index: 0 }], {});
  return {
    ...row,
    f64: (x, attrs) => evaluateDecomposition(row.decompose([{ kind: "operand", index: 0 }], attrs), [x]),
    expensive: usesExpensiveOp(symbolic),
    onnx: "none",
    wgsl: "none",
  };
}

/**
 * Ops registered at run time (a test's scratch op): checked, interpreted and lowered through the same rows. They
 * are not in OpName, so nothing can be written for them by hand; a backend without their lowering refuses them.
 */
const registeredUnary = new Map<string, UnaryRow>();
const registeredBinary = new Map<string, BinaryRow>();

/** Registers an elementwise op for the rest of the process (until the returned function removes it). */
export function registerElementwiseOp(
  name: string,
  row:
    | { kind: "unary"; row: UnaryRow }
    | { kind: "binary"; row: BinaryRow }
    | { kind: "decomposed"; row: DecomposedUnaryRow },
): () => void {
  if (name in UNARY || name in BINARY || registeredUnary.has(name) || registeredBinary.has(name))
    throw new Error(`the op ${name} is already defined`);
  const table: Map<string, unknown> = row.kind === "binary" ? registeredBinary : registeredUnary;
  table.set(name, row.kind === "decomposed" ? fromDecomposition(row.row) : row.row);
  return () => void table.delete(name);
}

/**
 * The unary row of an op, or undefined when it is not a unary elementwise op. A row reads the attributes of a node
 * of its own op: for a core op K that is OpAttrs[K] (the table's type, which a name looked up at run time cannot
 * carry, hence the overloads); registered ops have none. Every row is a UnaryRow<never> (attributes are only ever
 * arguments of a row's functions), so the implementation returns that and the overloads say what the caller passes.
 */
export function unaryRow<K extends OpName>(op: K): UnaryRow<OpAttrs[K]> | undefined;
export function unaryRow(op: string): UnaryRow | undefined;
export function unaryRow(op: string): UnaryRow<never> | undefined {
  return Object.hasOwn(UNARY, op) ? UNARY[op as UnaryOp] : registeredUnary.get(op);
}

export function binaryRow(op: string): BinaryRow | undefined {
  return Object.hasOwn(BINARY, op) ? BINARY[op as BinaryOp] : registeredBinary.get(op);
}

/** The row of an elementwise op (unary or binary), typed like unaryRow's. */
export function elementwiseRow<K extends OpName>(op: K): UnaryRow<OpAttrs[K]> | BinaryRow | undefined;
export function elementwiseRow(op: string): UnaryRow | BinaryRow | undefined;
export function elementwiseRow(op: string): UnaryRow<never> | BinaryRow | undefined {
  return unaryRow(op) ?? binaryRow(op);
}
