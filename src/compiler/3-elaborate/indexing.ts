// Members (`x.shape`, `layer.dim`, layer groups) and subscripts of lists, layer groups and tensors.
import type * as A from "../../dsl/1-parse/ast.js";
import { CheckCodes, ShapeCodes } from "../../diagnostics/codes.js";
import { dimToString, isStatic, shapeToString } from "../ir/dim.js";
import type { Value as IrValue } from "../ir/ir.js";
import type { BuiltinContext } from "./builtins/index.js";
import { expectInt, expectTensor, fail, provenance } from "./context.js";
import type { Elaborator } from "./elaborate.js";
import { reshape, slice } from "./layout-ops.js";
import type { Activation, Scope } from "./scope.js";
import { describeKind, int, type Val } from "./values.js";

export function member(el: Elaborator, v: Val, e: A.MemberExpr, act: Activation): Val {
  const name = e.member.name;
  if (v.kind === "ns") {
    const entry = v.entries.get(name);
    if (!entry)
      fail(
        CheckCodes.UnknownName,
        `layer group ${v.path} has no '${name}'`,
        e.member.span,
        [],
        `it has: ${[...v.entries.keys()].join(", ")}`,
      );
    return entry;
  }
  if (v.kind === "tensor") {
    const t = v.v;
    if (name === "shape") return { kind: "list", items: t.shape.map((d) => int(d)) };
    if (name === "rank") return int(t.shape.length);
    if (name === "dtype") return { kind: "dtype", v: t.dtype };
    if (name === "T") {
      if (t.shape.length < 2)
        fail(ShapeCodes.RankMismatch, `.T needs rank >= 2, got ${shapeToString(t.shape)}`, e.span);
      const perm = t.shape.map((_, i) => i);
      [perm[perm.length - 1], perm[perm.length - 2]] = [perm[perm.length - 2], perm[perm.length - 1]];
      return { kind: "tensor", v: el.emit.op1("transpose", { perm }, [t], el.origin(e.span, act)) };
    }
  }
  if (v.kind === "layer" && v.layer.config.has(name)) return v.layer.config.get(name)!;
  fail(
    CheckCodes.UnknownName,
    `${describeKind(v)} has no member '${name}'`,
    e.member.span,
    [],
    v.kind === "tensor" ? "tensors have .shape, .rank, .dtype and .T" : undefined,
  );
}

export function index(el: Elaborator, v: Val, e: A.IndexExpr, scope: Scope, act: Activation): Val {
  if (v.kind === "ns") {
    if (e.subscripts.length !== 1 || e.subscripts[0].kind !== "At")
      fail(ShapeCodes.BadArgument, "a layer group takes one index", e.span);
    const sub = e.subscripts[0];
    const key = String(expectInt(el.evalExpr(sub.expr, scope, act), sub.span, "a layer index"));
    const entry = v.entries.get(key);
    if (!entry)
      fail(
        CheckCodes.UnknownName,
        `layer group ${v.path} has no [${key}]`,
        sub.span,
        [],
        `it has: ${[...v.entries.keys()].join(", ")}`,
      );
    return entry;
  }
  if (v.kind === "list" || v.kind === "tuple") {
    if (e.subscripts.length !== 1) fail(ShapeCodes.BadArgument, "a list takes one index", e.span);
    const sub = e.subscripts[0];
    if (sub.kind === "At") {
      const i = expectInt(el.evalExpr(sub.expr, scope, act), sub.span, "a list index");
      const j = i < 0 ? i + v.items.length : i;
      if (j < 0 || j >= v.items.length)
        fail(ShapeCodes.IndexOutOfRange, `index ${i} is outside a list of ${v.items.length}`, sub.span);
      return v.items[j];
    }
    if (sub.kind === "Slice") {
      const [start, end, step] = sliceBounds(el, sub, v.items.length, scope, act);
      const items: Val[] = [];
      for (let i = start; i < end; i += step) items.push(v.items[i]);
      return { kind: v.kind, items };
    }
    fail(ShapeCodes.BadArgument, "`...` does not index a list", sub.span);
  }
  if (v.kind === "dtype") {
    // `f32[2, 3]` in value position is a tensor type, used e.g. by zeros-like builtins; not needed yet.
    fail(ShapeCodes.TypeMismatch, "a tensor type is not a value here", e.span);
  }
  const t = expectTensor(v, e.target.span, "an indexed value");
  return { kind: "tensor", v: indexTensor(el, t, e, scope, act) };
}

function sliceBounds(
  el: Elaborator,
  sub: Extract<A.Subscript, { kind: "Slice" }>,
  n: number,
  scope: Scope,
  act: Activation,
): [number, number, number] {
  const num = (x: A.Expr | undefined, d: number) =>
    x ? expectInt(el.evalExpr(x, scope, act), x.span, "a slice bound") : d;
  const step = num(sub.step, 1);
  if (step < 1) fail(ShapeCodes.BadArgument, "slice steps must be positive", sub.span);
  const norm = (i: number) => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
  const start = norm(num(sub.start, 0));
  return [start, Math.max(start, norm(num(sub.end, n))), step];
}

function indexTensor(el: Elaborator, t: IrValue, e: A.IndexExpr, scope: Scope, act: Activation): IrValue {
  const subs = e.subscripts;
  const ell = subs.findIndex((s) => s.kind === "Ellipsis");
  if (subs.filter((s) => s.kind === "Ellipsis").length > 1)
    fail(ShapeCodes.BadArgument, "only one `...` per subscript", e.span);
  const explicit = subs.length - (ell >= 0 ? 1 : 0);
  if (explicit > t.shape.length)
    fail(
      ShapeCodes.RankMismatch,
      `${explicit} indices for a tensor of rank ${t.shape.length} ${shapeToString(t.shape)}`,
      e.span,
      provenance(t),
    );
  const perAxis: (A.Subscript | undefined)[] = [];
  for (const s of subs) {
    if (s.kind === "Ellipsis") for (let k = 0; k < t.shape.length - explicit; k++) perAxis.push(undefined);
    else perAxis.push(s);
  }
  const origin = el.origin(e.span, act);
  const ctx: BuiltinContext = { emit: el.emit, origin, span: e.span, print: el.print };
  let x = t;
  const drop: number[] = [];
  perAxis.forEach((s, axis) => {
    if (!s || (s.kind === "Slice" && !s.start && !s.end && !s.step)) return;
    const n = x.shape[axis];
    if (!isStatic(n))
      fail(ShapeCodes.NotCompileTime, `cannot index axis ${axis} of symbolic size ${dimToString(n)}`, s.span);
    if (s.kind === "At") {
      const i = expectInt(el.evalExpr(s.expr, scope, act), s.span, "an index");
      const j = i < 0 ? i + n : i;
      if (j < 0 || j >= n)
        fail(ShapeCodes.IndexOutOfRange, `index ${i} is outside axis ${axis} of size ${n}`, s.span, provenance(t));
      x = slice(ctx, x, axis, j, j + 1);
      drop.push(axis);
    } else if (s.kind === "Slice") {
      const [start, end, step] = sliceBounds(el, s, n, scope, act);
      if (start !== 0 || end !== n || step !== 1) x = slice(ctx, x, axis, start, end, step);
    }
  });
  if (drop.length)
    x = reshape(
      ctx,
      x,
      x.shape.filter((_, i) => !drop.includes(i)),
      e.span,
    );
  return x;
}
