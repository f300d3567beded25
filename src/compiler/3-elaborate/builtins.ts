// Built-in functions over tensors and compile-time values. Each lowers to core IR ops; compound layers
// (Linear, LayerNorm, attention, MLP, ...) live in the standard library written in `.net` (stdlib/).
import { CheckCodes, ShapeCodes } from "../codes.js";
import type { Span } from "../diagnostics.js";
import { BUILTIN_SIGNATURES, type BuiltinName, registerBuiltinSignature } from "../../dsl/signatures/builtins.js";
import { type Signature, signatureText } from "../../dsl/signatures/signature.js";
import { allocData, DTYPES, type DType, type HostTensor } from "../../util/tensor.js";
import { type Dim, dimDivExact, dimEq, dimProduct, dimToString, isStatic, shapeToString } from "../ir/dim.js";
import { isFloat } from "../ir/infer.js";
import type { Value as IrValue } from "../ir/ir.js";
import { UNARY, type UnaryOp, unaryRow } from "../ir/elementwise-ops.js";
import {
  type Emitter, expectBool, expectDim, expectDimList, expectDType, expectInt, expectIntList, expectList, expectNumber,
  expectString, expectTensor, fail, type Origin,
} from "./context.js";
import { bool, describeKind, float, int, NONE, show, type Val } from "./values.js";

export interface CallArg {
  name?: string;
  value: Val;
  span: Span;
}

type Bound = Map<string, { value: Val; span: Span }>;

/**
 * Binds call arguments (positional, then named) to a signature's parameters; a parameter left out takes its
 * default (at the call's span), an optional one stays unbound.
 */
export function bindArgs(callee: string, sig: Signature, args: CallArg[], span: Span): Bound {
  const names = sig.params.map((p) => p.name);
  const shown = signatureText(callee, sig);
  const bound: Bound = new Map();
  let pos = 0;
  for (const a of args) {
    const name = a.name ?? names[pos++];
    if (name === undefined) fail(CheckCodes.WrongArity, `${callee} takes at most ${names.length} arguments, got ${args.length}`, a.span, [], shown);
    if (!names.includes(name)) fail(CheckCodes.UnknownArgument, `${callee} has no parameter '${name}'`, a.span, [], shown);
    if (bound.has(name)) fail(CheckCodes.DuplicateArgument, `'${name}' is given twice`, a.span);
    bound.set(name, { value: a.value, span: a.span });
  }
  for (const p of sig.params) {
    if (bound.has(p.name) || p.optional) continue;
    if (p.default === undefined) fail(CheckCodes.MissingArgument, `${callee} needs an argument '${p.name}'`, span, [], shown);
    bound.set(p.name, { value: literal(p.default), span });
  }
  return bound;
}

export interface BuiltinContext {
  emit: Emitter;
  origin: Origin;
  span: Span;
  /** Shows a line at `span` as a NET3016 note (`print`). */
  print: (text: string, span: Span) => void;
}

/** A builtin's implementation, given its arguments bound by its signature (src/dsl/signatures/builtins.ts). */
export type BuiltinImpl = (ctx: BuiltinContext, a: Bound) => Val;

/** A parameter that is bound after bindArgs: given, or its default. */
function get(a: Bound, name: string): { value: Val; span: Span } {
  return a.get(name)!;
}

/** A default as written in a signature: a number, bool, `none`, element type or list of those. */
function literal(text: string): Val {
  if ((DTYPES as readonly string[]).includes(text)) return { kind: "dtype", v: text as DType };
  if (text === "true" || text === "false") return bool(text === "true");
  if (text === "none") return NONE;
  if (text.startsWith("[")) return { kind: "list", items: text.slice(1, -1).split(",").filter((s) => s.trim() !== "").map((s) => literal(s.trim())) };
  if (/^-?\d+$/.test(text)) return int(Number(text));
  return float(Number(text));
}

const tensorOf = (ctx: BuiltinContext, b: { value: Val; span: Span }, what: string): IrValue => toTensor(ctx, b.value, b.span, what);

/** Tensors pass through; numbers become scalar constants (f32 unless `like` says otherwise). */
export function toTensor(ctx: BuiltinContext, v: Val, span: Span, what: string, like?: DType): IrValue {
  if (v.kind === "tensor") return v.v;
  if (v.kind === "float") return ctx.emit.scalar(v.v, like && isFloat(like) ? like : "f32", ctx.origin);
  if (v.kind === "int" && isStatic(v.v)) return ctx.emit.scalar(v.v, like ?? "i64", ctx.origin);
  if (v.kind === "bool") return ctx.emit.scalar(v.v ? 1 : 0, "bool", ctx.origin);
  return expectTensor(v, span, what);
}

function axisOf(a: Bound, name: string, rank: number): number {
  const b = get(a, name);
  const ax = expectInt(b.value, b.span, name);
  if (ax < -rank || ax >= rank) fail(ShapeCodes.BadAxis, `${name} ${ax} is out of range for a tensor of rank ${rank}`, b.span);
  return ax < 0 ? ax + rank : ax;
}

/** A unary op's builtin: numbers fold at compile time by the op's reference semantics. */
export function unaryBuiltin(op: UnaryOp | (string & {})): BuiltinImpl {
  const row = unaryRow(op);
  if (!row?.builtin) throw new Error(`${op} is not a unary op with a builtin`);
  return (ctx, a) => {
    const x = a.get("x")!;
    if (x.value.kind === "float" || (x.value.kind === "int" && isStatic(x.value.v))) return float(row.f64(expectNumber(x.value, x.span, "x"), {}));
    return { kind: "tensor", v: ctx.emit.op1(op as UnaryOp, {}, [expectTensor(x.value, x.span, "x")], ctx.origin) };
  };
}

/** GELU as one op, so backends can use a native kernel (ONNX Gelu from opset 20) or fuse it as one expression. */
function geluBuiltin(): BuiltinImpl {
  return (ctx, a) => {
    const x = a.get("x")!;
    const given = a.get("approximate");
    const approximate = given ? expectString(given.value, given.span, "approximate") : "none";
    if (approximate !== "none" && approximate !== "tanh")
      fail(ShapeCodes.BadArgument, `gelu: approximate must be "none" or "tanh", got "${approximate}"`, given!.span, [], 'gelu(x, approximate = "tanh")');
    if (x.value.kind === "float" || (x.value.kind === "int" && isStatic(x.value.v))) return float(UNARY.gelu.f64(expectNumber(x.value, x.span, "x"), { approximate }));
    return { kind: "tensor", v: ctx.emit.op1("gelu", { approximate }, [expectTensor(x.value, x.span, "x")], ctx.origin) };
  };
}

function reduce(kind: "sum" | "mean" | "max" | "min" | "prod"): BuiltinImpl {
  return (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const ax = a.get("axes")!;
    const axes = expectIntList(ax.value, ax.span, "axes").map((i) => {
      if (i < -x.shape.length || i >= x.shape.length) fail(ShapeCodes.BadAxis, `axis ${i} is out of range for ${shapeToString(x.shape)}`, ax.span);
      return i < 0 ? i + x.shape.length : i;
    });
    const keepdims = expectBool(get(a, "keepdims").value, ctx.span, "keepdims");
    return { kind: "tensor", v: ctx.emit.op1("reduce", { kind, axes, keepdims }, [x], ctx.origin) };
  };
}

function tupleOf(vs: IrValue[]): Val {
  return { kind: "tuple", items: vs.map((v) => ({ kind: "tensor", v }) as Val) };
}

/** Resolves a reshape target that may hold one -1, against the element count of `x`. */
export function resolveShape(x: IrValue, target: Dim[], span: Span): Dim[] {
  const holes = target.filter((d) => d === -1).length;
  if (holes > 1) fail(ShapeCodes.BadArgument, "reshape: at most one dimension may be -1", span);
  if (holes === 0) return target;
  const known = dimProduct(target.filter((d) => d !== -1));
  const rest = dimDivExact(dimProduct(x.shape), known);
  if (rest === undefined)
    fail(ShapeCodes.NotDivisible, `reshape: ${shapeToString(x.shape)} cannot be viewed as ${shapeToString(target)} (${dimToString(dimProduct(x.shape))} elements are not a multiple of ${dimToString(known)})`, span);
  return target.map((d) => (d === -1 ? rest : d));
}

export function reshape(ctx: BuiltinContext, x: IrValue, shape: Dim[], span: Span): IrValue {
  return ctx.emit.op1("reshape", { shape: resolveShape(x, shape, span) }, [x], ctx.origin);
}

export function slice(ctx: BuiltinContext, x: IrValue, axis: number, start: number, end: number, step = 1): IrValue {
  return ctx.emit.op1("slice", { axis, start, end, step }, [x], ctx.origin);
}

/** An i64 or f32 constant tensor from a (nested) list of compile-time numbers. */
export function constantFromList(v: Val, span: Span, dtype?: DType): HostTensor {
  const shape: number[] = [];
  let probe: Val = v;
  while (probe.kind === "list" || probe.kind === "tuple") {
    shape.push(probe.items.length);
    if (probe.items.length === 0) break;
    probe = probe.items[0];
  }
  const flat: Val[] = [];
  const walk = (x: Val, depth: number) => {
    if (depth === shape.length) return void flat.push(x);
    const items = expectList(x, span, "tensor literal");
    if (items.length !== shape[depth]) fail(ShapeCodes.ShapeMismatch, `tensor literal is ragged: rows of ${shape[depth]} and ${items.length}`, span);
    for (const it of items) walk(it, depth + 1);
  };
  walk(v, 0);
  const kind = dtype ?? (flat.some((x) => x.kind === "float") ? "f32" : flat.every((x) => x.kind === "bool") && flat.length > 0 ? "bool" : "i64");
  const data = allocData(kind, flat.length);
  flat.forEach((x, i) => {
    const n = x.kind === "bool" ? (x.v ? 1 : 0) : expectNumber(x, span, "tensor literal element");
    if (data instanceof BigInt64Array) data[i] = BigInt(Math.trunc(n));
    else (data as Float32Array)[i] = n;
  });
  return { dtype: kind, shape, data };
}

const windowSpec = (extra: string[]) => ["x", ...extra];

function perDim(a: Bound, name: string, n: number): number[] {
  const b = get(a, name);
  const list = expectIntList(b.value, b.span, name);
  if (list.length === 1) return Array(n).fill(list[0]);
  if (list.length !== n) fail(ShapeCodes.BadArgument, `${name} needs 1 or ${n} values, got ${list.length}`, b.span);
  return list;
}

function padsOf(a: Bound, n: number): number[] {
  const b = get(a, "padding");
  const list = expectIntList(b.value, b.span, "padding");
  if (list.length === 1) return Array(2 * n).fill(list[0]);
  if (list.length === n) return [...list, ...list];
  if (list.length === 2 * n) return list;
  fail(ShapeCodes.BadArgument, `padding needs 1, ${n} or ${2 * n} values, got ${list.length}`, b.span);
}

/** Elements of one constant made at compile time (256 MiB of f32). */
const MAX_CONSTANT_ELEMENTS = 1 << 26;

export const BUILTINS: { readonly [K in BuiltinName]: BuiltinImpl } = {
  exp: unaryBuiltin("exp"),
  log: unaryBuiltin("log"),
  sqrt: unaryBuiltin("sqrt"),
  tanh: unaryBuiltin("tanh"),
  sigmoid: unaryBuiltin("sigmoid"),
  erf: unaryBuiltin("erf"),
  gelu: geluBuiltin(),
  relu: unaryBuiltin("relu"),
  abs: unaryBuiltin("abs"),
  floor: unaryBuiltin("floor"),
  ceil: unaryBuiltin("ceil"),
  sin: unaryBuiltin("sin"),
  cos: unaryBuiltin("cos"),
  reciprocal: unaryBuiltin("reciprocal"),
  maximum: (ctx, a) => binaryOrNumber(ctx, a, "maximum", Math.max),
  minimum: (ctx, a) => binaryOrNumber(ctx, a, "minimum", Math.min),
  prelu: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const s = a.get("slope")!;
    return { kind: "tensor", v: ctx.emit.op1("prelu", {}, [x, toTensor(ctx, s.value, s.span, "slope", x.dtype)], ctx.origin) };
  },
  where: (ctx, a) => {
    const c = tensorOf(ctx, a.get("cond")!, "cond");
    const x = a.get("a")!;
    const y = a.get("b")!;
    const like = x.value.kind === "tensor" ? x.value.v.dtype : y.value.kind === "tensor" ? y.value.v.dtype : undefined;
    return { kind: "tensor", v: ctx.emit.op1("where", {}, [c, toTensor(ctx, x.value, x.span, "a", like), toTensor(ctx, y.value, y.span, "b", like)], ctx.origin) };
  },
  clamp: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const lo = a.get("min");
    const hi = a.get("max");
    return {
      kind: "tensor",
      v: ctx.emit.op1("clip", { min: lo && expectNumber(lo.value, lo.span, "min"), max: hi && expectNumber(hi.value, hi.span, "max") }, [x], ctx.origin),
    };
  },
  cast: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const d = a.get("dtype")!;
    const to = expectDType(d.value, d.span, "dtype");
    return { kind: "tensor", v: x.dtype === to ? x : ctx.emit.op1("cast", { to }, [x], ctx.origin) };
  },
  matmul: (ctx, a) => ({ kind: "tensor", v: ctx.emit.op1("matmul", {}, [tensorOf(ctx, a.get("a")!, "a"), tensorOf(ctx, a.get("b")!, "b")], ctx.origin) }),
  permute: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const p = a.get("perm")!;
    const perm = expectIntList(p.value, p.span, "perm").map((i) => (i < 0 ? i + x.shape.length : i));
    return { kind: "tensor", v: ctx.emit.op1("transpose", { perm }, [x], ctx.origin) };
  },
  transpose: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const i = axisOf(a, "a", x.shape.length);
    const j = axisOf(a, "b", x.shape.length);
    const perm = x.shape.map((_, k) => (k === i ? j : k === j ? i : k));
    return { kind: "tensor", v: ctx.emit.op1("transpose", { perm }, [x], ctx.origin) };
  },
  reshape: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const s = a.get("shape")!;
    return { kind: "tensor", v: reshape(ctx, x, expectDimList(s.value, s.span, "shape"), s.span) };
  },
  flatten: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const s = axisOf(a, "start", x.shape.length);
    const e = axisOf(a, "end", x.shape.length);
    const shape = [...x.shape.slice(0, s), dimProduct(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
    return { kind: "tensor", v: reshape(ctx, x, shape, ctx.span) };
  },
  unsqueeze: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const b = a.get("axis")!;
    let ax = expectInt(b.value, b.span, "axis");
    if (ax < 0) ax += x.shape.length + 1;
    if (ax < 0 || ax > x.shape.length) fail(ShapeCodes.BadAxis, `axis ${ax} is out of range for unsqueeze of ${shapeToString(x.shape)}`, b.span);
    return { kind: "tensor", v: reshape(ctx, x, [...x.shape.slice(0, ax), 1, ...x.shape.slice(ax)], ctx.span) };
  },
  squeeze: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const ax = axisOf(a, "axis", x.shape.length);
    if (x.shape[ax] !== 1) fail(ShapeCodes.ShapeMismatch, `squeeze: axis ${ax} of ${shapeToString(x.shape)} has size ${dimToString(x.shape[ax])}, not 1`, ctx.span);
    return { kind: "tensor", v: reshape(ctx, x, x.shape.filter((_, i) => i !== ax), ctx.span) };
  },
  expand: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const s = a.get("shape")!;
    return { kind: "tensor", v: ctx.emit.op1("expand", { shape: expectDimList(s.value, s.span, "shape") }, [x], ctx.origin) };
  },
  concat: (ctx, a) => {
    const xs = a.get("xs")!;
    const ts = expectList(xs.value, xs.span, "xs").map((v, i) => toTensor(ctx, v, xs.span, `xs[${i}]`));
    if (ts.length === 0) fail(ShapeCodes.BadArgument, "concat needs at least one tensor", xs.span);
    const ax = axisOf(a, "axis", ts[0].shape.length);
    return { kind: "tensor", v: ts.length === 1 ? ts[0] : ctx.emit.op1("concat", { axis: ax }, ts, ctx.origin) };
  },
  split: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const ax = axisOf(a, "axis", x.shape.length);
    const n = x.shape[ax];
    if (!isStatic(n)) fail(ShapeCodes.NotCompileTime, `split: axis ${ax} has symbolic size ${dimToString(n)}`, ctx.span);
    const s = a.get("sizes")!;
    let sizes: number[];
    if (s.value.kind === "int") {
      const parts = expectInt(s.value, s.span, "sizes");
      if (parts < 1 || n % parts !== 0) fail(ShapeCodes.NotDivisible, `split: ${n} does not divide into ${parts} equal parts`, s.span);
      sizes = Array(parts).fill(n / parts);
    } else sizes = expectIntList(s.value, s.span, "sizes");
    if (sizes.reduce((p, q) => p + q, 0) !== n) fail(ShapeCodes.ShapeMismatch, `split: sizes [${sizes.join(", ")}] do not add up to ${n}`, s.span);
    let at = 0;
    return tupleOf(sizes.map((k) => slice(ctx, x, ax, at, (at += k))));
  },
  sum: reduce("sum"),
  mean: reduce("mean"),
  amax: reduce("max"),
  amin: reduce("min"),
  prod: reduce("prod"),
  argmax: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const axis = axisOf(a, "axis", x.shape.length);
    const keepdims = expectBool(get(a, "keepdims").value, ctx.span, "keepdims");
    return { kind: "tensor", v: ctx.emit.op1("argmax", { axis, keepdims }, [x], ctx.origin) };
  },
  softmax: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const axis = axisOf(a, "axis", x.shape.length);
    return { kind: "tensor", v: ctx.emit.op1("softmax", { axis }, [x], ctx.origin) };
  },
  layer_norm: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const axis = axisOf(a, "axis", x.shape.length);
    const eps = expectNumber(get(a, "eps").value, ctx.span, "eps");
    const ins = [x];
    const scale = a.get("scale");
    const bias = a.get("bias");
    if (bias && !scale) fail(ShapeCodes.BadArgument, "layer_norm: a bias needs a scale", bias.span);
    if (scale) ins.push(tensorOf(ctx, scale, "scale"));
    if (bias) ins.push(tensorOf(ctx, bias, "bias"));
    return { kind: "tensor", v: ctx.emit.op1("layer_norm", { axis, eps }, ins, ctx.origin) };
  },
  batch_norm: (ctx, a) => {
    const eps = expectNumber(get(a, "eps").value, ctx.span, "eps");
    const ins = ["x", "scale", "bias", "mean", "var"].map((name) => tensorOf(ctx, a.get(name)!, name));
    return { kind: "tensor", v: ctx.emit.op1("batch_norm", { eps }, ins, ctx.origin) };
  },
  attention: (ctx, a) => {
    const q = tensorOf(ctx, a.get("q")!, "q");
    const ins = [q, tensorOf(ctx, a.get("k")!, "k"), tensorOf(ctx, a.get("v")!, "v")];
    const b = a.get("bias");
    if (b) ins.push(tensorOf(ctx, b, "bias"));
    const s = a.get("scale");
    const width = q.shape[q.shape.length - 1];
    const scale = s ? expectNumber(s.value, s.span, "scale") : 1 / Math.sqrt(expectInt({ kind: "int", v: width }, ctx.span, "the head width"));
    return { kind: "tensor", v: ctx.emit.op1("attention", { scale }, ins, ctx.origin) };
  },
  lstm: (ctx, a) => {
    const ins = ["x", "w_ih", "w_hh"].map((n) => tensorOf(ctx, a.get(n)!, n));
    const [bi, bh, h0, c0] = ["b_ih", "b_hh", "h0", "c0"].map((n) => a.get(n));
    if (!bi !== !bh) fail(ShapeCodes.BadArgument, "lstm: give both biases (b_ih and b_hh) or neither", (bi ?? bh)!.span);
    if (!h0 !== !c0) fail(ShapeCodes.BadArgument, "lstm: give both initial states (h0 and c0) or neither", (h0 ?? c0)!.span);
    if (bi && bh) ins.push(tensorOf(ctx, bi, "b_ih"), tensorOf(ctx, bh, "b_hh"));
    if (h0 && c0) ins.push(tensorOf(ctx, h0, "h0"), tensorOf(ctx, c0, "c0"));
    const reverse = expectBool(get(a, "reverse").value, ctx.span, "reverse");
    return tupleOf(ctx.emit.op("lstm", { reverse, bias: bi !== undefined }, ins, ctx.origin));
  },
  conv: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const w = tensorOf(ctx, a.get("weight")!, "weight");
    const n = w.shape.length - 2;
    const ins = [x, w];
    const b = a.get("bias");
    if (b) ins.push(tensorOf(ctx, b, "bias"));
    const groups = expectInt(get(a, "groups").value, ctx.span, "groups");
    const attrs = { strides: perDim(a, "stride", n), pads: padsOf(a, n), dilations: perDim(a, "dilation", n), groups };
    return { kind: "tensor", v: ctx.emit.op1("conv", attrs, ins, ctx.origin) };
  },
  max_pool: (ctx, a) => pool(ctx, a, "max_pool"),
  avg_pool: (ctx, a) => pool(ctx, a, "avg_pool"),
  resize_linear: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const n = x.shape.length - 2;
    if (n < 1) fail(ShapeCodes.RankMismatch, `resize_linear needs [N, C, spatial...], got ${shapeToString(x.shape)}`, ctx.span);
    const alignCorners = expectBool(get(a, "align_corners").value, ctx.span, "align_corners");
    return { kind: "tensor", v: ctx.emit.op1("resize", { sizes: perDim(a, "size", n), alignCorners }, [x], ctx.origin) };
  },
  pad: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const p = a.get("pads")!;
    const value = expectNumber(get(a, "value").value, ctx.span, "value");
    return { kind: "tensor", v: ctx.emit.op1("pad", { pads: expectIntList(p.value, p.span, "pads"), value }, [x], ctx.origin) };
  },
  gather: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const i = a.get("indices")!;
    const idx = i.value.kind === "tensor" ? i.value.v : ctx.emit.builder.constant(constantFromList(i.value, i.span, "i64"), ctx.origin);
    const axis = axisOf(a, "axis", x.shape.length);
    return { kind: "tensor", v: ctx.emit.op1("gather", { axis }, [x, idx], ctx.origin) };
  },
  take_along: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const axis = axisOf(a, "axis", x.shape.length);
    return { kind: "tensor", v: ctx.emit.op1("gather_elements", { axis }, [x, tensorOf(ctx, a.get("indices")!, "indices")], ctx.origin) };
  },
  topk: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const kb = a.get("k")!;
    const axis = axisOf(a, "axis", x.shape.length);
    const largest = expectBool(get(a, "largest").value, ctx.span, "largest");
    return tupleOf(ctx.emit.op("topk", { axis, k: expectInt(kb.value, kb.span, "k"), largest }, [x], ctx.origin));
  },
  sample_linear: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const axis = axisOf(a, "axis", x.shape.length);
    return { kind: "tensor", v: ctx.emit.op1("sample_linear", { axis }, [x, tensorOf(ctx, a.get("positions")!, "positions")], ctx.origin) };
  },
  tensor: (ctx, a) => {
    const v = a.get("values")!;
    const d = a.get("dtype");
    return { kind: "tensor", v: ctx.emit.builder.constant(constantFromList(v.value, v.span, d && expectDType(d.value, d.span, "dtype")), ctx.origin) };
  },
  full: (ctx, a) => {
    const s = a.get("shape")!;
    const shape = expectIntList(s.value, s.span, "shape");
    const v = a.get("value")!;
    const d = a.get("dtype");
    const dtype = d ? expectDType(d.value, d.span, "dtype") : "f32";
    const n = shape.reduce((p, q) => p * q, 1);
    if (n > MAX_CONSTANT_ELEMENTS) fail(ShapeCodes.TooLarge, `full: ${n} elements is too large for a constant`, s.span);
    const data = allocData(dtype, n);
    const x = expectNumber(v.value, v.span, "value");
    if (data instanceof BigInt64Array) data.fill(BigInt(Math.trunc(x)));
    else (data as Float32Array).fill(x);
    return { kind: "tensor", v: ctx.emit.builder.constant({ dtype, shape, data }, ctx.origin) };
  },
  arange: (ctx, a) => {
    const nb = a.get("n")!;
    const n = expectInt(nb.value, nb.span, "n");
    const d = a.get("dtype");
    const dtype = d ? expectDType(d.value, d.span, "dtype") : "i64";
    if (n < 0) fail(ShapeCodes.BadArgument, `arange: n is ${n}, a length cannot be negative`, nb.span);
    if (n > MAX_CONSTANT_ELEMENTS) fail(ShapeCodes.TooLarge, `arange: ${n} elements is too large for a constant`, nb.span);
    const data = allocData(dtype, n);
    for (let i = 0; i < n; i++) (data as Float32Array)[i] = data instanceof BigInt64Array ? (BigInt(i) as never) : i;
    return { kind: "tensor", v: ctx.emit.builder.constant({ dtype, shape: [n], data }, ctx.origin) };
  },
  len: (_ctx, a) => {
    const b = a.get("xs")!;
    return int(expectList(b.value, b.span, "xs").length);
  },
  shape: (ctx, a) => ({ kind: "list", items: tensorOf(ctx, a.get("x")!, "x").shape.map((d) => int(d)) }),
  floor_div: (ctx, a) => {
    const x = a.get("a")!;
    const y = a.get("b")!;
    const d = expectInt(y.value, y.span, "b");
    if (d === 0) fail(ShapeCodes.DivisionByZero, "floor_div by zero", y.span);
    return int(Math.floor(expectInt(x.value, x.span, "a") / d));
  },
  int: (_ctx, a) => {
    const x = a.get("x")!;
    return int(Math.trunc(expectNumber(x.value, x.span, "x")));
  },
  str: (_ctx, a) => {
    const x = a.get("x")!;
    if (x.value.kind === "string") return x.value;
    if (x.value.kind !== "int") fail(ShapeCodes.TypeMismatch, `str takes an int or a string, got ${describeKind(x.value)}`, x.span);
    return { kind: "string", v: String(expectInt(x.value, x.span, "the argument of str")) };
  },
  dim_eq: (_ctx, a) => {
    const x = a.get("a")!;
    const y = a.get("b")!;
    return bool(dimEq(expectDim(x.value, x.span, "a"), expectDim(y.value, y.span, "b")));
  },
  print: (ctx, a) => {
    const x = a.get("x")!;
    ctx.print(show(x.value), x.span);
    return x.value;
  },
};

/** Implementations added at run time with their signatures (a scratch op registered by a test). */
const registered = new Map<string, { sig: Signature; impl: BuiltinImpl }>();

/** Adds a builtin beside the table; returns the function that removes it again. */
export function registerBuiltin(name: string, sig: Signature, impl: BuiltinImpl): () => void {
  const unregister = registerBuiltinSignature(name, sig);
  registered.set(name, { sig, impl });
  return () => {
    registered.delete(name);
    unregister();
  };
}

/** A builtin's signature and implementation, if `name` is one. */
export function builtinOf(name: string): { sig: Signature; impl: BuiltinImpl } | undefined {
  if (Object.hasOwn(BUILTINS, name)) return { sig: BUILTIN_SIGNATURES[name as BuiltinName], impl: BUILTINS[name as BuiltinName] };
  return registered.get(name);
}

function binaryOrNumber(ctx: BuiltinContext, a: Bound, op: "maximum" | "minimum", math: (x: number, y: number) => number): Val {
  const x = a.get("a")!;
  const y = a.get("b")!;
  if (x.value.kind !== "tensor" && y.value.kind !== "tensor") {
    const r = math(expectNumber(x.value, x.span, "a"), expectNumber(y.value, y.span, "b"));
    return x.value.kind === "int" && y.value.kind === "int" ? int(r) : float(r);
  }
  const like = x.value.kind === "tensor" ? x.value.v.dtype : (y.value as { v: IrValue }).v.dtype;
  return { kind: "tensor", v: ctx.emit.op1(op, {}, [toTensor(ctx, x.value, x.span, "a", like), toTensor(ctx, y.value, y.span, "b", like)], ctx.origin) };
}

function pool(ctx: BuiltinContext, a: Bound, op: "max_pool" | "avg_pool"): Val {
  const x = tensorOf(ctx, a.get("x")!, "x");
  const n = x.shape.length - 2;
  if (n < 1) fail(ShapeCodes.RankMismatch, `${op} needs [N, C, spatial...], got ${shapeToString(x.shape)}`, ctx.span);
  const kernel = perDim(a, "kernel", n);
  const strides = get(a, "stride").value.kind === "none" ? kernel : perDim(a, "stride", n);
  const pads = padsOf(a, n);
  if (op === "max_pool") return { kind: "tensor", v: ctx.emit.op1("max_pool", { kernel, strides, pads }, [x], ctx.origin) };
  const countIncludePad = expectBool(get(a, "count_include_pad").value, ctx.span, "count_include_pad");
  return { kind: "tensor", v: ctx.emit.op1("avg_pool", { kernel, strides, pads, countIncludePad }, [x], ctx.origin) };
}

