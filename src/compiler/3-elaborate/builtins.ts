// Built-in functions over tensors and compile-time values. Each lowers to core IR ops; compound layers
// (Linear, LayerNorm, attention, MLP, ...) live in the standard library written in `.net` (stdlib/).
import { CheckCodes, ShapeCodes } from "../../diagnostics/codes.js";
import type { Span } from "../../diagnostics/diagnostics.js";
import { allocData, type DType, type HostTensor } from "../../util/tensor.js";
import { type Dim, dimDivExact, dimEq, dimProduct, dimToString, isStatic, shapeToString } from "../ir/dim.js";
import { isFloat } from "../ir/infer.js";
import type { Value as IrValue } from "../ir/ir.js";
import { UNARY, type UnaryOp, unaryRow } from "../ir/elementwise-ops.js";
import {
  type Emitter, expectBool, expectDim, expectDimList, expectDType, expectInt, expectIntList, expectList, expectNumber,
  expectString, expectTensor, fail, type Origin,
} from "./context.js";
import { EINOPS_BUILTINS } from "./rearrange.js";
import { bool, describeKind, float, int, NONE, show, type Val } from "./values.js";

export interface CallArg {
  name?: string;
  value: Val;
  span: Span;
}

export type Bound = Map<string, { value: Val; span: Span }>;

/**
 * Binds call arguments to a builtin's parameter spec: "x", "axis=-1" (has a default), "bias?" (optional), and
 * "**sizes" (any other named arguments, bound under their own names).
 */
export function bindArgs(callee: string, spec: string[], args: CallArg[], span: Span): Bound {
  const rest = spec.some((s) => s.startsWith("**"));
  spec = spec.filter((s) => !s.startsWith("**"));
  const names = spec.map((s) => s.replace(/[?=].*$/, ""));
  const bound: Bound = new Map();
  let pos = 0;
  for (const a of args) {
    const name = a.name ?? names[pos++];
    if (name === undefined) fail(CheckCodes.WrongArity, `${callee} takes at most ${names.length} arguments, got ${args.length}`, a.span, [], `${callee}(${spec.join(", ")})`);
    if (!names.includes(name) && !rest) fail(CheckCodes.UnknownArgument, `${callee} has no parameter '${name}'`, a.span, [], `${callee}(${spec.join(", ")})`);
    if (bound.has(name)) fail(CheckCodes.DuplicateArgument, `'${name}' is given twice`, a.span);
    bound.set(name, { value: a.value, span: a.span });
  }
  spec.forEach((s, i) => {
    if (bound.has(names[i])) return;
    if (s.endsWith("?")) return;
    const eq = s.indexOf("=");
    if (eq < 0) fail(CheckCodes.MissingArgument, `${callee} needs an argument '${names[i]}'`, span, [], `${callee}(${spec.join(", ")})`);
  });
  return bound;
}

export interface BuiltinContext {
  emit: Emitter;
  origin: Origin;
  span: Span;
  /** Shows a line at `span` as a NET3016 note (`print`). */
  print: (text: string, span: Span) => void;
}

type Impl = (ctx: BuiltinContext, a: Bound) => Val;

export interface Builtin {
  spec: string[];
  impl: Impl;
  doc: string;
}

function arg(a: Bound, name: string): { value: Val; span: Span } | undefined {
  return a.get(name);
}

function defaultOf(spec: string[], name: string): string | undefined {
  const s = spec.find((x) => x.startsWith(name + "="));
  return s?.slice(name.length + 1);
}

/** Reads a parameter: the bound value, or the spec default parsed as a literal. */
function get(a: Bound, spec: string[], name: string, span: Span): { value: Val; span: Span } {
  const b = arg(a, name);
  if (b) return b;
  const d = defaultOf(spec, name);
  if (d === undefined) fail(CheckCodes.MissingArgument, `missing argument '${name}'`, span);
  return { value: literal(d), span };
}

function literal(text: string): Val {
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

function axisOf(a: Bound, spec: string[], name: string, rank: number, span: Span): number {
  const b = get(a, spec, name, span);
  const ax = expectInt(b.value, b.span, name);
  if (ax < -rank || ax >= rank) fail(ShapeCodes.BadAxis, `${name} ${ax} is out of range for a tensor of rank ${rank}`, b.span);
  return ax < 0 ? ax + rank : ax;
}

/** A unary op's builtin (doc from its registry row): numbers fold at compile time by the op's reference semantics. */
export function unaryBuiltin(op: UnaryOp | (string & {})): Builtin {
  const row = unaryRow(op);
  if (!row?.builtin) throw new Error(`${op} is not a unary op with a builtin`);
  return {
    spec: ["x"],
    doc: row.builtin,
    impl: (ctx, a) => {
      const x = a.get("x")!;
      if (x.value.kind === "float" || (x.value.kind === "int" && isStatic(x.value.v))) return float(row.f64(expectNumber(x.value, x.span, "x"), {}));
      return { kind: "tensor", v: ctx.emit.op1(op as UnaryOp, {}, [expectTensor(x.value, x.span, "x")], ctx.origin) };
    },
  };
}

/** GELU as one op, so backends can use a native kernel (ONNX Gelu from opset 20) or fuse it as one expression. */
function geluBuiltin(): Builtin {
  return {
    spec: ["x", "approximate?"],
    doc: 'GELU: x·Φ(x); approximate = "tanh" for the tanh approximation',
    impl: (ctx, a) => {
      const x = a.get("x")!;
      const given = a.get("approximate");
      const approximate = given ? expectString(given.value, given.span, "approximate") : "none";
      if (approximate !== "none" && approximate !== "tanh")
        fail(ShapeCodes.BadArgument, `gelu: approximate must be "none" or "tanh", got "${approximate}"`, given!.span, [], 'gelu(x, approximate = "tanh")');
      if (x.value.kind === "float" || (x.value.kind === "int" && isStatic(x.value.v))) return float(UNARY.gelu.f64(expectNumber(x.value, x.span, "x"), { approximate }));
      return { kind: "tensor", v: ctx.emit.op1("gelu", { approximate }, [expectTensor(x.value, x.span, "x")], ctx.origin) };
    },
  };
}

function reduce(kind: "sum" | "mean" | "max" | "min" | "prod", doc: string): Builtin {
  const spec = ["x", "axes", "keepdims=false"];
  return {
    spec,
    doc,
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const ax = a.get("axes")!;
      const axes = expectIntList(ax.value, ax.span, "axes").map((i) => {
        if (i < -x.shape.length || i >= x.shape.length) fail(ShapeCodes.BadAxis, `axis ${i} is out of range for ${shapeToString(x.shape)}`, ax.span);
        return i < 0 ? i + x.shape.length : i;
      });
      const keepdims = expectBool(get(a, spec, "keepdims", ctx.span).value, ctx.span, "keepdims");
      return { kind: "tensor", v: ctx.emit.op1("reduce", { kind, axes, keepdims }, [x], ctx.origin) };
    },
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

function perDim(a: Bound, spec: string[], name: string, n: number, span: Span): number[] {
  const b = get(a, spec, name, span);
  const list = expectIntList(b.value, b.span, name);
  if (list.length === 1) return Array(n).fill(list[0]);
  if (list.length !== n) fail(ShapeCodes.BadArgument, `${name} needs 1 or ${n} values, got ${list.length}`, b.span);
  return list;
}

function padsOf(a: Bound, spec: string[], n: number, span: Span): number[] {
  const b = get(a, spec, "padding", span);
  const list = expectIntList(b.value, b.span, "padding");
  if (list.length === 1) return Array(2 * n).fill(list[0]);
  if (list.length === n) return [...list, ...list];
  if (list.length === 2 * n) return list;
  fail(ShapeCodes.BadArgument, `padding needs 1, ${n} or ${2 * n} values, got ${list.length}`, b.span);
}

/** Elements of one constant made at compile time (256 MiB of f32). */
const MAX_CONSTANT_ELEMENTS = 1 << 26;

export const BUILTINS: Record<string, Builtin> = {
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
  maximum: {
    spec: ["a", "b"],
    doc: "elementwise maximum (numbers: the larger)",
    impl: (ctx, a) => binaryOrNumber(ctx, a, "maximum", Math.max),
  },
  minimum: {
    spec: ["a", "b"],
    doc: "elementwise minimum (numbers: the smaller)",
    impl: (ctx, a) => binaryOrNumber(ctx, a, "minimum", Math.min),
  },
  prelu: {
    spec: ["x", "slope"],
    doc: "x where x >= 0, slope * x below 0; the slope broadcasts to x (torch.nn.PReLU)",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const s = a.get("slope")!;
      return { kind: "tensor", v: ctx.emit.op1("prelu", {}, [x, toTensor(ctx, s.value, s.span, "slope", x.dtype)], ctx.origin) };
    },
  },
  where: {
    spec: ["cond", "a", "b"],
    doc: "a where cond else b",
    impl: (ctx, a) => {
      const c = tensorOf(ctx, a.get("cond")!, "cond");
      const x = a.get("a")!;
      const y = a.get("b")!;
      const like = x.value.kind === "tensor" ? x.value.v.dtype : y.value.kind === "tensor" ? y.value.v.dtype : undefined;
      return { kind: "tensor", v: ctx.emit.op1("where", {}, [c, toTensor(ctx, x.value, x.span, "a", like), toTensor(ctx, y.value, y.span, "b", like)], ctx.origin) };
    },
  },
  clamp: {
    spec: ["x", "min?", "max?"],
    doc: "clip x to [min, max]",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const lo = a.get("min");
      const hi = a.get("max");
      return {
        kind: "tensor",
        v: ctx.emit.op1("clip", { min: lo && expectNumber(lo.value, lo.span, "min"), max: hi && expectNumber(hi.value, hi.span, "max") }, [x], ctx.origin),
      };
    },
  },
  cast: {
    spec: ["x", "dtype"],
    doc: "convert the element type",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const d = a.get("dtype")!;
      const to = expectDType(d.value, d.span, "dtype");
      return { kind: "tensor", v: x.dtype === to ? x : ctx.emit.op1("cast", { to }, [x], ctx.origin) };
    },
  },
  matmul: {
    spec: ["a", "b"],
    doc: "matrix product with numpy batching (the @ operator)",
    impl: (ctx, a) => ({ kind: "tensor", v: ctx.emit.op1("matmul", {}, [tensorOf(ctx, a.get("a")!, "a"), tensorOf(ctx, a.get("b")!, "b")], ctx.origin) }),
  },
  permute: {
    spec: ["x", "perm"],
    doc: "reorder axes",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const p = a.get("perm")!;
      const perm = expectIntList(p.value, p.span, "perm").map((i) => (i < 0 ? i + x.shape.length : i));
      return { kind: "tensor", v: ctx.emit.op1("transpose", { perm }, [x], ctx.origin) };
    },
  },
  transpose: {
    spec: ["x", "a=-2", "b=-1"],
    doc: "swap two axes (the last two by default)",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const spec = BUILTINS.transpose.spec;
      const i = axisOf(a, spec, "a", x.shape.length, ctx.span);
      const j = axisOf(a, spec, "b", x.shape.length, ctx.span);
      const perm = x.shape.map((_, k) => (k === i ? j : k === j ? i : k));
      return { kind: "tensor", v: ctx.emit.op1("transpose", { perm }, [x], ctx.origin) };
    },
  },
  reshape: {
    spec: ["x", "shape"],
    doc: "view with another shape (one dimension may be -1)",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const s = a.get("shape")!;
      return { kind: "tensor", v: reshape(ctx, x, expectDimList(s.value, s.span, "shape"), s.span) };
    },
  },
  flatten: {
    spec: ["x", "start=0", "end=-1"],
    doc: "merge axes start..end (inclusive) into one",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const spec = BUILTINS.flatten.spec;
      const s = axisOf(a, spec, "start", x.shape.length, ctx.span);
      const e = axisOf(a, spec, "end", x.shape.length, ctx.span);
      const shape = [...x.shape.slice(0, s), dimProduct(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
      return { kind: "tensor", v: reshape(ctx, x, shape, ctx.span) };
    },
  },
  unsqueeze: {
    spec: ["x", "axis"],
    doc: "insert an axis of size 1",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const b = a.get("axis")!;
      let ax = expectInt(b.value, b.span, "axis");
      if (ax < 0) ax += x.shape.length + 1;
      if (ax < 0 || ax > x.shape.length) fail(ShapeCodes.BadAxis, `axis ${ax} is out of range for unsqueeze of ${shapeToString(x.shape)}`, b.span);
      return { kind: "tensor", v: reshape(ctx, x, [...x.shape.slice(0, ax), 1, ...x.shape.slice(ax)], ctx.span) };
    },
  },
  squeeze: {
    spec: ["x", "axis"],
    doc: "remove an axis of size 1",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const ax = axisOf(a, BUILTINS.squeeze.spec, "axis", x.shape.length, ctx.span);
      if (x.shape[ax] !== 1) fail(ShapeCodes.ShapeMismatch, `squeeze: axis ${ax} of ${shapeToString(x.shape)} has size ${dimToString(x.shape[ax])}, not 1`, ctx.span);
      return { kind: "tensor", v: reshape(ctx, x, x.shape.filter((_, i) => i !== ax), ctx.span) };
    },
  },
  expand: {
    spec: ["x", "shape"],
    doc: "broadcast to a shape",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const s = a.get("shape")!;
      return { kind: "tensor", v: ctx.emit.op1("expand", { shape: expectDimList(s.value, s.span, "shape") }, [x], ctx.origin) };
    },
  },
  concat: {
    spec: ["xs", "axis=0"],
    doc: "join tensors along an axis",
    impl: (ctx, a) => {
      const xs = a.get("xs")!;
      const ts = expectList(xs.value, xs.span, "xs").map((v, i) => toTensor(ctx, v, xs.span, `xs[${i}]`));
      if (ts.length === 0) fail(ShapeCodes.BadArgument, "concat needs at least one tensor", xs.span);
      const ax = axisOf(a, BUILTINS.concat.spec, "axis", ts[0].shape.length, ctx.span);
      return { kind: "tensor", v: ts.length === 1 ? ts[0] : ctx.emit.op1("concat", { axis: ax }, ts, ctx.origin) };
    },
  },
  split: {
    spec: ["x", "sizes", "axis=0"],
    doc: "cut into consecutive pieces of the given sizes (or that many equal pieces)",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const ax = axisOf(a, BUILTINS.split.spec, "axis", x.shape.length, ctx.span);
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
  },
  ...EINOPS_BUILTINS,
  sum: reduce("sum", "sum over axes"),
  mean: reduce("mean", "mean over axes"),
  amax: reduce("max", "maximum over axes"),
  amin: reduce("min", "minimum over axes"),
  prod: reduce("prod", "product over axes"),
  argmax: {
    spec: ["x", "axis=-1", "keepdims=false"],
    doc: "index of the maximum along an axis (i64)",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const spec = BUILTINS.argmax.spec;
      const axis = axisOf(a, spec, "axis", x.shape.length, ctx.span);
      const keepdims = expectBool(get(a, spec, "keepdims", ctx.span).value, ctx.span, "keepdims");
      return { kind: "tensor", v: ctx.emit.op1("argmax", { axis, keepdims }, [x], ctx.origin) };
    },
  },
  softmax: {
    spec: ["x", "axis=-1"],
    doc: "softmax along an axis",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const axis = axisOf(a, BUILTINS.softmax.spec, "axis", x.shape.length, ctx.span);
      return { kind: "tensor", v: ctx.emit.op1("softmax", { axis }, [x], ctx.origin) };
    },
  },
  layer_norm: {
    spec: ["x", "scale?", "bias?", "eps=1e-5", "axis=-1"],
    doc: "normalise over the axes from `axis` to the last, then scale and shift",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const spec = BUILTINS.layer_norm.spec;
      const axis = axisOf(a, spec, "axis", x.shape.length, ctx.span);
      const eps = expectNumber(get(a, spec, "eps", ctx.span).value, ctx.span, "eps");
      const ins = [x];
      const scale = a.get("scale");
      const bias = a.get("bias");
      if (bias && !scale) fail(ShapeCodes.BadArgument, "layer_norm: a bias needs a scale", bias.span);
      if (scale) ins.push(tensorOf(ctx, scale, "scale"));
      if (bias) ins.push(tensorOf(ctx, bias, "bias"));
      return { kind: "tensor", v: ctx.emit.op1("layer_norm", { axis, eps }, ins, ctx.origin) };
    },
  },
  batch_norm: {
    spec: ["x", "scale", "bias", "mean", "var", "eps=1e-5"],
    doc: "inference batch normalisation over axis 1: (x - mean) / sqrt(var + eps) * scale + bias, per channel",
    impl: (ctx, a) => {
      const spec = BUILTINS.batch_norm.spec;
      const eps = expectNumber(get(a, spec, "eps", ctx.span).value, ctx.span, "eps");
      const ins = ["x", "scale", "bias", "mean", "var"].map((name) => tensorOf(ctx, a.get(name)!, name));
      return { kind: "tensor", v: ctx.emit.op1("batch_norm", { eps }, ins, ctx.origin) };
    },
  },
  attention: {
    spec: ["q", "k", "v", "bias?", "scale?"],
    doc: "softmax(q @ k^T * scale + bias) @ v; scale defaults to 1/sqrt(head width)",
    impl: (ctx, a) => {
      const q = tensorOf(ctx, a.get("q")!, "q");
      const ins = [q, tensorOf(ctx, a.get("k")!, "k"), tensorOf(ctx, a.get("v")!, "v")];
      const b = a.get("bias");
      if (b) ins.push(tensorOf(ctx, b, "bias"));
      const s = a.get("scale");
      const width = q.shape[q.shape.length - 1];
      const scale = s ? expectNumber(s.value, s.span, "scale") : 1 / Math.sqrt(expectInt({ kind: "int", v: width }, ctx.span, "the head width"));
      return { kind: "tensor", v: ctx.emit.op1("attention", { scale }, ins, ctx.origin) };
    },
  },
  lstm: {
    spec: ["x", "w_ih", "w_hh", "b_ih?", "b_hh?", "h0?", "c0?", "reverse=false"],
    doc: "one LSTM direction over [T, N, I] with PyTorch's weights (gates i, f, g, o): the tuple (y [T, N, H], h_n, c_n)",
    impl: (ctx, a) => {
      const ins = ["x", "w_ih", "w_hh"].map((n) => tensorOf(ctx, a.get(n)!, n));
      const [bi, bh, h0, c0] = ["b_ih", "b_hh", "h0", "c0"].map((n) => a.get(n));
      if (!bi !== !bh) fail(ShapeCodes.BadArgument, "lstm: give both biases (b_ih and b_hh) or neither", (bi ?? bh)!.span);
      if (!h0 !== !c0) fail(ShapeCodes.BadArgument, "lstm: give both initial states (h0 and c0) or neither", (h0 ?? c0)!.span);
      if (bi && bh) ins.push(tensorOf(ctx, bi, "b_ih"), tensorOf(ctx, bh, "b_hh"));
      if (h0 && c0) ins.push(tensorOf(ctx, h0, "h0"), tensorOf(ctx, c0, "c0"));
      const reverse = expectBool(get(a, BUILTINS.lstm.spec, "reverse", ctx.span).value, ctx.span, "reverse");
      return tupleOf(ctx.emit.op("lstm", { reverse, bias: bi !== undefined }, ins, ctx.origin));
    },
  },
  conv: {
    spec: windowSpec(["weight", "bias?", "stride=1", "padding=0", "dilation=1", "groups=1"]),
    doc: "N-d convolution (N from the weight's rank); padding per side or per dim",
    impl: (ctx, a) => {
      const spec = BUILTINS.conv.spec;
      const x = tensorOf(ctx, a.get("x")!, "x");
      const w = tensorOf(ctx, a.get("weight")!, "weight");
      const n = w.shape.length - 2;
      const ins = [x, w];
      const b = a.get("bias");
      if (b) ins.push(tensorOf(ctx, b, "bias"));
      const groups = expectInt(get(a, spec, "groups", ctx.span).value, ctx.span, "groups");
      const attrs = { strides: perDim(a, spec, "stride", n, ctx.span), pads: padsOf(a, spec, n, ctx.span), dilations: perDim(a, spec, "dilation", n, ctx.span), groups };
      return { kind: "tensor", v: ctx.emit.op1("conv", attrs, ins, ctx.origin) };
    },
  },
  max_pool: {
    spec: windowSpec(["kernel", "stride=none", "padding=0"]),
    doc: "N-d max pooling (stride defaults to the kernel)",
    impl: (ctx, a) => pool(ctx, a, "max_pool"),
  },
  avg_pool: {
    spec: windowSpec(["kernel", "stride=none", "padding=0", "count_include_pad=true"]),
    doc: "N-d average pooling (stride defaults to the kernel)",
    impl: (ctx, a) => pool(ctx, a, "avg_pool"),
  },
  resize_linear: {
    spec: windowSpec(["size", "align_corners=false"]),
    doc: "linear (bi-, trilinear) resize of the spatial axes of [N, C, spatial...] to `size`, as F.interpolate",
    impl: (ctx, a) => {
      const spec = BUILTINS.resize_linear.spec;
      const x = tensorOf(ctx, a.get("x")!, "x");
      const n = x.shape.length - 2;
      if (n < 1) fail(ShapeCodes.RankMismatch, `resize_linear needs [N, C, spatial...], got ${shapeToString(x.shape)}`, ctx.span);
      const alignCorners = expectBool(get(a, spec, "align_corners", ctx.span).value, ctx.span, "align_corners");
      return { kind: "tensor", v: ctx.emit.op1("resize", { sizes: perDim(a, spec, "size", n, ctx.span), alignCorners }, [x], ctx.origin) };
    },
  },
  pad: {
    spec: ["x", "pads", "value=0.0"],
    doc: "constant padding; pads = [begin per axis..., end per axis...]",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const p = a.get("pads")!;
      const value = expectNumber(get(a, BUILTINS.pad.spec, "value", ctx.span).value, ctx.span, "value");
      return { kind: "tensor", v: ctx.emit.op1("pad", { pads: expectIntList(p.value, p.span, "pads"), value }, [x], ctx.origin) };
    },
  },
  gather: {
    spec: ["x", "indices", "axis=0"],
    doc: "numpy.take: pick entries along an axis",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const i = a.get("indices")!;
      const idx = i.value.kind === "tensor" ? i.value.v : ctx.emit.builder.constant(constantFromList(i.value, i.span, "i64"), ctx.origin);
      const axis = axisOf(a, BUILTINS.gather.spec, "axis", x.shape.length, ctx.span);
      return { kind: "tensor", v: ctx.emit.op1("gather", { axis }, [x, idx], ctx.origin) };
    },
  },
  take_along: {
    spec: ["x", "indices", "axis"],
    doc: "numpy.take_along_axis",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const axis = axisOf(a, BUILTINS.take_along.spec, "axis", x.shape.length, ctx.span);
      return { kind: "tensor", v: ctx.emit.op1("gather_elements", { axis }, [x, tensorOf(ctx, a.get("indices")!, "indices")], ctx.origin) };
    },
  },
  topk: {
    spec: ["x", "k", "axis=-1", "largest=true"],
    doc: "the k largest (or smallest) entries and their i64 indices, sorted",
    impl: (ctx, a) => {
      const spec = BUILTINS.topk.spec;
      const x = tensorOf(ctx, a.get("x")!, "x");
      const kb = a.get("k")!;
      const axis = axisOf(a, spec, "axis", x.shape.length, ctx.span);
      const largest = expectBool(get(a, spec, "largest", ctx.span).value, ctx.span, "largest");
      return tupleOf(ctx.emit.op("topk", { axis, k: expectInt(kb.value, kb.span, "k"), largest }, [x], ctx.origin));
    },
  },
  sample_linear: {
    spec: ["x", "positions", "axis"],
    doc: "linear interpolation along an axis at fractional positions, clamped to the ends",
    impl: (ctx, a) => {
      const x = tensorOf(ctx, a.get("x")!, "x");
      const axis = axisOf(a, BUILTINS.sample_linear.spec, "axis", x.shape.length, ctx.span);
      return { kind: "tensor", v: ctx.emit.op1("sample_linear", { axis }, [x, tensorOf(ctx, a.get("positions")!, "positions")], ctx.origin) };
    },
  },
  tensor: {
    spec: ["values", "dtype?"],
    doc: "a constant tensor from a (nested) list",
    impl: (ctx, a) => {
      const v = a.get("values")!;
      const d = a.get("dtype");
      return { kind: "tensor", v: ctx.emit.builder.constant(constantFromList(v.value, v.span, d && expectDType(d.value, d.span, "dtype")), ctx.origin) };
    },
  },
  full: {
    spec: ["shape", "value", "dtype=f32"],
    doc: "a constant tensor filled with one value",
    impl: (ctx, a) => {
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
  },
  arange: {
    spec: ["n", "dtype=i64"],
    doc: "the constant tensor [0, 1, ..., n-1]",
    impl: (ctx, a) => {
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
  },
  len: {
    spec: ["xs"],
    doc: "length of a list or tuple",
    impl: (_ctx, a) => {
      const b = a.get("xs")!;
      return int(expectList(b.value, b.span, "xs").length);
    },
  },
  shape: {
    spec: ["x"],
    doc: "the dimensions of a tensor as a list",
    impl: (ctx, a) => ({ kind: "list", items: tensorOf(ctx, a.get("x")!, "x").shape.map((d) => int(d)) }),
  },
  floor_div: {
    spec: ["a", "b"],
    doc: "integer division rounding down",
    impl: (ctx, a) => {
      const x = a.get("a")!;
      const y = a.get("b")!;
      const d = expectInt(y.value, y.span, "b");
      if (d === 0) fail(ShapeCodes.DivisionByZero, "floor_div by zero", y.span);
      return int(Math.floor(expectInt(x.value, x.span, "a") / d));
    },
  },
  int: {
    spec: ["x"],
    doc: "truncate a number to an int",
    impl: (_ctx, a) => {
      const x = a.get("x")!;
      return int(Math.trunc(expectNumber(x.value, x.span, "x")));
    },
  },
  str: {
    spec: ["x"],
    doc: "a known int as a string (a string is returned as is), for computed weight names: `\"w_\" + str(i)`",
    impl: (_ctx, a) => {
      const x = a.get("x")!;
      if (x.value.kind === "string") return x.value;
      if (x.value.kind !== "int") fail(ShapeCodes.TypeMismatch, `str takes an int or a string, got ${describeKind(x.value)}`, x.span);
      return { kind: "string", v: String(expectInt(x.value, x.span, "the argument of str")) };
    },
  },
  dim_eq: {
    spec: ["a", "b"],
    doc: "whether two dimensions are equal",
    impl: (_ctx, a) => {
      const x = a.get("a")!;
      const y = a.get("b")!;
      return bool(dimEq(expectDim(x.value, x.span, "a"), expectDim(y.value, y.span, "b")));
    },
  },
  print: {
    spec: ["x"],
    doc: "shows a value at elaboration as a note (tensors by their type) and returns it",
    impl: (ctx, a) => {
      const x = a.get("x")!;
      ctx.print(show(x.value), x.span);
      return x.value;
    },
  },
};

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
  const spec = BUILTINS[op].spec;
  const x = tensorOf(ctx, a.get("x")!, "x");
  const n = x.shape.length - 2;
  if (n < 1) fail(ShapeCodes.RankMismatch, `${op} needs [N, C, spatial...], got ${shapeToString(x.shape)}`, ctx.span);
  const kernel = perDim(a, spec, "kernel", n, ctx.span);
  const strides = get(a, spec, "stride", ctx.span).value.kind === "none" ? kernel : perDim(a, spec, "stride", n, ctx.span);
  const pads = padsOf(a, spec, n, ctx.span);
  if (op === "max_pool") return { kind: "tensor", v: ctx.emit.op1("max_pool", { kernel, strides, pads }, [x], ctx.origin) };
  const countIncludePad = expectBool(get(a, spec, "count_include_pad", ctx.span).value, ctx.span, "count_include_pad");
  return { kind: "tensor", v: ctx.emit.op1("avg_pool", { kernel, strides, pads, countIncludePad }, [x], ctx.origin) };
}

