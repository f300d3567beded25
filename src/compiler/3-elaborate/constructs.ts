// The DFER primitives as language constructs: `lift` (lifting scheme), `split_index` (content-aware splitting)
// and `cross_attention`. Each is checked as a unit and lowered to core ops tagged with the construct's name,
// so backends can recognise and fuse them (see docs/primitives.md).
import type * as A from "../../dsl/1-parse/ast.js";
import { CONSTRUCT_SIGNATURES, type ConstructName, SPLIT_INDEX_MODES } from "../../dsl/signatures/builtins.js";
import { CheckCodes, ShapeCodes } from "../../diagnostics/codes.js";
import type { Span } from "../../diagnostics/diagnostics.js";
import { type Dim, dimDivExact, dimEq, dimToString, isStatic, shapeToString } from "../ir/dim.js";
import type { Value as IrValue } from "../ir/ir.js";
import type { BuiltinContext } from "./builtins/index.js";
import { bindArgs, type CallArg } from "./call-binding.js";
import { reshape, slice } from "./layout-ops.js";
import { expectBool, expectInt, expectNumber, expectTensor, fail, provenance } from "./context.js";
import type { Elaborator } from "./elaborate.js";
import type { Activation, Scope } from "./scope.js";
import type { Val } from "./values.js";

/** How a construct is elaborated; its doc and arguments are in the signature table (src/dsl/signatures/builtins.ts). */
export interface Construct {
  /** Constructs with their own syntax (`lift`, `split_index`). */
  evalSyntax?: (el: Elaborator, e: A.Expr, scope: Scope, act: Activation) => Val;
  /** Constructs called like functions (`cross_attention(...)`). */
  call?: (el: Elaborator, args: CallArg[], span: Span, act: Activation) => Val;
}

const tensor = (v: IrValue): Val => ({ kind: "tensor", v });

function ctxFor(el: Elaborator, span: Span, act: Activation): BuiltinContext {
  return { emit: el.emit, origin: el.origin(span, act), span, print: el.print };
}

// ---- lift -----------------------------------------------------------------------------------------

function evalLift(el: Elaborator, e: A.Expr, scope: Scope, act: Activation): Val {
  const lift = e as A.LiftExpr;
  const inner = el.newScope(scope);
  const liftAct: Activation = { ...act, construct: "lift" };
  const approxName = lift.approx.name.name;
  const detailName = lift.detail.name.name;
  let approx = expectTensor(el.evalExpr(lift.approx.value, scope, act), lift.approx.value.span, "the approximation");
  let detail = expectTensor(el.evalExpr(lift.detail.value, scope, act), lift.detail.value.span, "the detail");
  inner.define(approxName, tensor(approx), lift.approx.name.span);
  inner.define(detailName, tensor(detail), lift.detail.name.span);
  for (const step of lift.steps) {
    const isUpdate = step.step.name === "update";
    // The checker (2-analyze/rules/lift-steps) reports malformed steps with all their context; this guards direct use.
    if ((isUpdate ? approxName : detailName) !== step.target.name || step.op !== (isUpdate ? "+=" : "-="))
      fail(CheckCodes.LiftStep, `'${step.step.name} ${step.target.name} ${step.op}' is not a lifting step`, step.span);
    const delta = expectTensor(
      el.evalExpr(step.value, inner, liftAct),
      step.value.span,
      `the ${step.step.name} result`,
    );
    const target = isUpdate ? approx : detail;
    if (!dimsEqual(delta.shape, target.shape) || delta.dtype !== target.dtype)
      fail(
        ShapeCodes.ShapeMismatch,
        `the ${isUpdate ? "updater" : "predictor"} returns ${delta.dtype}${shapeToString(delta.shape)}, but ` +
          `${step.target.name} is ${target.dtype}${shapeToString(target.shape)}`,
        step.value.span,
        [...provenance(delta, "the step's result"), ...provenance(target, step.target.name)],
      );
    const origin = el.origin(step.span, liftAct);
    if (isUpdate) approx = el.emit.op1("add", {}, [approx, delta], origin);
    else detail = el.emit.op1("sub", {}, [detail, delta], origin);
    inner.assign(isUpdate ? approxName : detailName, tensor(isUpdate ? approx : detail));
  }
  return { kind: "tuple", items: [tensor(approx), tensor(detail)] };
}

// ---- split_index ----------------------------------------------------------------------------------

function evalSplitIndex(el: Elaborator, e: A.Expr, scope: Scope, act: Activation): Val {
  const s = e as A.SplitIndexExpr;
  const x = expectTensor(el.evalExpr(s.input, scope, act), s.input.span, "the split input");
  const rawAxis = expectInt(el.evalExpr(s.axis, scope, act), s.axis.span, "the split axis");
  const rank = x.shape.length;
  if (rawAxis < -rank || rawAxis >= rank)
    fail(ShapeCodes.BadAxis, `axis ${rawAxis} is out of range for ${shapeToString(x.shape)}`, s.axis.span);
  const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
  const splitAct: Activation = { ...act, construct: "split_index" };
  const ctx = ctxFor(el, s.span, splitAct);
  const args = el.evalArgs(s.args, scope, act);
  const n = x.shape[axis];
  switch (s.mode.name) {
    case "even_odd": {
      bindArgs("even_odd", SPLIT_INDEX_MODES.even_odd, args, s.span);
      if (!isStatic(n) || n % 2 !== 0)
        fail(
          ShapeCodes.NotDivisible,
          `even_odd splitting needs an even axis length, axis ${axis} is ${dimToString(n)}`,
          s.axis.span,
        );
      return { kind: "tuple", items: [tensor(slice(ctx, x, axis, 0, n, 2)), tensor(slice(ctx, x, axis, 1, n, 2))] };
    }
    case "soft": {
      const a = bindArgs("soft", SPLIT_INDEX_MODES.soft, args, s.span);
      const sample = (name: string) => {
        const b = a.get(name)!;
        const pos = expectTensor(b.value, b.span, `the ${name} positions`);
        return tensor(
          el.emit.op1("sample_linear", { axis }, [x, leadingPositions(ctx, x, axis, pos, b.span)], ctx.origin),
        );
      };
      return { kind: "tuple", items: [sample("approx"), sample("detail")] };
    }
    case "topk": {
      const a = bindArgs("topk", SPLIT_INDEX_MODES.topk, args, s.span);
      const sb = a.get("scores")!;
      const scores = expectTensor(sb.value, sb.span, "the scores");
      const kb = a.get("k")!;
      const k = expectInt(kb.value, kb.span, "k");
      return hardSplit(ctx, x, axis, scores, k, sb.span, kb.span);
    }
    default:
      fail(
        CheckCodes.UnknownBlock,
        `unknown split_index mode '${s.mode.name}'`,
        s.mode.span,
        [],
        "modes: even_odd, soft(approx, detail), topk(scores, k)",
      );
  }
}

/**
 * Positions given as [K] or [N, K] (N = the input's first dim) become [N|1, 1, ..., K] with one dim per axis before
 * `axis`.
 */
function leadingPositions(ctx: BuiltinContext, x: IrValue, axis: number, pos: IrValue, span: Span): IrValue {
  const k = pos.shape[pos.shape.length - 1];
  if (pos.shape.length === 1) return reshape(ctx, pos, [...Array(axis).fill(1), k], span);
  if (pos.shape.length === 2 && axis >= 1 && (dimEq(pos.shape[0], x.shape[0]) || pos.shape[0] === 1))
    return reshape(ctx, pos, [pos.shape[0], ...Array(axis - 1).fill(1), k], span);
  fail(
    ShapeCodes.ShapeMismatch,
    `split positions must be [K] or [${dimToString(x.shape[0])}, K] for an input ${shapeToString(x.shape)} ` +
      `split along axis ${axis}, got ${shapeToString(pos.shape)}`,
    span,
    provenance(pos, "the positions"),
  );
}

/**
 * Hard split: the k highest-scoring positions form the approximation, the rest the detail; each group keeps
 * the original order along the axis (indices sorted ascending).
 */
function hardSplit(
  ctx: BuiltinContext,
  x: IrValue,
  axis: number,
  scores: IrValue,
  k: number,
  scoresSpan: Span,
  kSpan: Span,
): Val {
  const n = x.shape[axis];
  if (!isStatic(n))
    fail(ShapeCodes.NotCompileTime, `topk splitting needs a static axis length, got ${dimToString(n)}`, scoresSpan);
  if (k < 1 || k >= n) fail(ShapeCodes.BadArgument, `k = ${k} must leave both groups non-empty (1..${n - 1})`, kSpan);
  const perBatch = scores.shape.length === 2;
  if (
    !(scores.shape.length === 1 || (perBatch && axis >= 1 && dimEq(scores.shape[0], x.shape[0]))) ||
    !dimEq(scores.shape[scores.shape.length - 1], n)
  )
    fail(
      ShapeCodes.ShapeMismatch,
      `scores must be [${n}] or [${dimToString(x.shape[0])}, ${n}] for splitting ${shapeToString(x.shape)} ` +
        `along axis ${axis}, got ${shapeToString(scores.shape)}`,
      scoresSpan,
      provenance(scores, "the scores"),
    );
  const { emit, origin } = ctx;
  const last = scores.shape.length - 1;
  const order = emit.op("topk", { axis: last, k: n, largest: true }, [scores], origin)[1];
  const ascending = (idx: IrValue, count: number): IrValue => {
    const asFloat = emit.op1("cast", { to: "f32" }, [idx], origin);
    const sorted = emit.op("topk", { axis: last, k: count, largest: false }, [asFloat], origin)[0];
    return emit.op1("cast", { to: "i64" }, [sorted], origin);
  };
  const groups = [ascending(slice(ctx, order, last, 0, k), k), ascending(slice(ctx, order, last, k, n), n - k)];
  const gather = (idx: IrValue, count: number): IrValue => {
    if (!perBatch) return emit.op1("gather", { axis }, [x, idx], origin);
    const shaped = reshape(
      ctx,
      idx,
      [idx.shape[0], ...Array(axis - 1).fill(1), count, ...Array(x.shape.length - axis - 1).fill(1)],
      scoresSpan,
    );
    const full: Dim[] = x.shape.map((d, i) => (i === axis ? count : d));
    return emit.op1("gather_elements", { axis }, [x, emit.op1("expand", { shape: full }, [shaped], origin)], origin);
  };
  return { kind: "tuple", items: [tensor(gather(groups[0], k)), tensor(gather(groups[1], n - k))] };
}

// ---- cross_attention --------------------------------------------------------------------------------

function callCrossAttention(el: Elaborator, args: CallArg[], span: Span, act: Activation): Val {
  const a = bindArgs("cross_attention", CONSTRUCT_SIGNATURES.cross_attention, args, span);
  const crossAct: Activation = { ...act, construct: "cross_attention" };
  const ctx = ctxFor(el, span, crossAct);
  const get = (name: string) => a.get(name);
  const query = expectTensor(get("query")!.value, get("query")!.span, "the query");
  const context = expectTensor(get("context")!.value, get("context")!.span, "the context");
  const hb = get("heads")!;
  const heads = expectInt(hb.value, hb.span, "heads");
  if (heads < 1) fail(ShapeCodes.BadArgument, "heads must be >= 1", hb.span);
  if (query.shape.length !== 3 || context.shape.length !== 3)
    fail(
      ShapeCodes.RankMismatch,
      `cross_attention takes [B, N, C] tokens, got query ${shapeToString(query.shape)} and context ` +
        `${shapeToString(context.shape)}`,
      span,
      [...provenance(query, "the query"), ...provenance(context, "the context")],
    );
  const project = (name: string, input: IrValue): IrValue | undefined => {
    const b = get(name);
    if (!b) return undefined;
    if (b.value.kind !== "layer")
      fail(ShapeCodes.TypeMismatch, `${name} must be a layer (e.g. a Linear declared with \`layer\`)`, b.span);
    return expectTensor(
      el.callLayer(b.value.layer, [{ value: { kind: "tensor", v: input }, span: b.span }], b.span, "cross_attention"),
      b.span,
      `${name}'s result`,
    );
  };
  const kvGiven = get("kv");
  if (kvGiven && (get("k") || get("v")))
    fail(
      CheckCodes.DuplicateArgument,
      "give either a packed kv projection or separate k and v, not both",
      kvGiven.span,
    );
  if (!kvGiven && !(get("k") && get("v")))
    fail(CheckCodes.MissingArgument, "cross_attention needs kv (packed) or both k and v", span);
  const q = project("q", query)!;
  let k: IrValue;
  let v: IrValue;
  if (kvGiven) {
    const kv = project("kv", context)!;
    const width = kv.shape[2];
    if (!isStatic(width) || width % 2 !== 0)
      fail(
        ShapeCodes.NotDivisible,
        `a packed kv projection needs an even width, got ${dimToString(width)}`,
        kvGiven.span,
      );
    k = slice(ctx, kv, 2, 0, width / 2);
    v = slice(ctx, kv, 2, width / 2, width);
  } else {
    k = project("k", context)!;
    v = project("v", context)!;
  }
  const headsOf = (t: IrValue, what: string): IrValue => {
    const [b, n, d] = t.shape;
    const dh = dimDivExact(d, heads);
    if (dh === undefined)
      fail(
        ShapeCodes.NotDivisible,
        `${what} width ${dimToString(d)} does not split into ${heads} heads`,
        span,
        provenance(t, what),
      );
    return el.emit.op1("transpose", { perm: [0, 2, 1, 3] }, [reshape(ctx, t, [b, n, heads, dh], span)], ctx.origin);
  };
  const sb = get("scale");
  const headWidth = dimDivExact(q.shape[2], heads);
  const scale = sb
    ? expectNumber(sb.value, sb.span, "scale")
    : 1 / Math.sqrt(expectInt({ kind: "int", v: headWidth ?? 0 }, span, "the head width"));
  const o = el.emit.op1(
    "attention",
    { scale },
    [headsOf(q, "the query projection"), headsOf(k, "the key projection"), headsOf(v, "the value projection")],
    ctx.origin,
  );
  let merged = reshape(
    ctx,
    el.emit.op1("transpose", { perm: [0, 2, 1, 3] }, [o], ctx.origin),
    [o.shape[0], o.shape[2], dimMulStatic(o.shape[1], o.shape[3])],
    span,
  );
  const vr = get("value_residual");
  if (vr && expectBool(vr.value, vr.span, "value_residual")) {
    if (!dimsEqual(v.shape, merged.shape))
      fail(
        ShapeCodes.ShapeMismatch,
        `value_residual adds the values ${shapeToString(v.shape)} to the attention output ` +
          `${shapeToString(merged.shape)}: query and context need the same length`,
        vr.span,
      );
    merged = el.emit.op1("add", {}, [merged, v], ctx.origin);
  }
  return { kind: "tensor", v: project("out", merged) ?? merged };
}

function dimMulStatic(a: Dim, b: Dim): Dim {
  return isStatic(a) && isStatic(b)
    ? a * b
    : fail(ShapeCodes.NotCompileTime, "head counts and widths must be static", undefined);
}

function dimsEqual(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => dimEq(d, b[i]));
}

export const CONSTRUCTS: { readonly [K in ConstructName]: Construct } = {
  lift: { evalSyntax: evalLift },
  split_index: { evalSyntax: evalSplitIndex },
  cross_attention: { call: callCrossAttention },
};
