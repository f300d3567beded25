// einops' `rearrange`, `repeat` and `reduce` as builtins: the pattern (src/dsl/einops-pattern.ts) is checked
// against the input's symbolic shape, then lowered to the core layout ops: a reshape, a transpose and a reshape
// (rearrange), with a reduce (reduce) or an expand (repeat) between; each step only where it changes something.
import {
  EINOPS_PARAMETERS,
  ELLIPSIS,
  type ParsedPattern,
  type PatternGroup,
  type PatternOperation,
  parsePattern,
  patternProblemDiagnostic,
  REDUCTIONS,
  type Reduction,
} from "../../../dsl/einops-pattern.js";
import { CheckCodes, ShapeCodes } from "../../../diagnostics/codes.js";
import { DiagnosticError, type Span } from "../../../diagnostics/diagnostics.js";
import {
  type Dim,
  dimDivExact,
  dimEq,
  dimProduct,
  dimToString,
  isStatic,
  shapeEq,
  shapeToString,
} from "../../ir/dim.js";
import type { Value as IrValue } from "../../ir/ir.js";
import type { BoundArgs, BuiltinContext, BuiltinImpl } from "./arguments.js";
import { expectDim, expectString, expectTensor, fail, provenance } from "../context.js";

/** A side of the pattern with the ellipsis expanded: each dimension as the names of its elementary axes. */
type Groups = string[][];

interface Resolved {
  left: Groups;
  right: Groups;
  sizes: Map<string, Dim>;
}

/** The ellipsis's i-th dimension (a name no axis can have). */
const ellipsisAxis = (i: number) => `${ELLIPSIS}${i}`;

function expand(groups: readonly PatternGroup[], ellipsisRank: number): Groups {
  return groups.flatMap((g) => {
    const names = g.axes.flatMap((a) =>
      a.name === ELLIPSIS ? Array.from({ length: ellipsisRank }, (_, i) => ellipsisAxis(i)) : [a.name],
    );
    const isBareEllipsis = !g.parenthesized && g.axes.length === 1 && g.axes[0].name === ELLIPSIS;
    return isBareEllipsis ? names.map((n) => [n]) : [names];
  });
}

const describe = (name: string) =>
  name.startsWith(ELLIPSIS)
    ? `the ellipsis's axis ${name.slice(ELLIPSIS.length)}`
    : name.includes("@")
      ? `the anonymous axis ${name.split("@")[0]}`
      : `'${name}'`;

/** Expands the ellipsis and infers every axis size from the input shape and the given sizes (einops' rules). */
function resolve(
  x: IrValue,
  pattern: ParsedPattern,
  given: Map<string, { dim: Dim; span: Span }>,
  patternSpan: Span,
  text: string,
): Resolved {
  const shape = x.shape;
  const bare = pattern.left.groups.length - (pattern.left.hasEllipsis ? 1 : 0);
  const mismatch = (message: string, span = patternSpan): never =>
    fail(ShapeCodes.PatternShapeMismatch, message, span, provenance(x, "the input"));
  if (pattern.left.hasEllipsis ? shape.length < bare : shape.length !== bare)
    mismatch(
      `the pattern "${text}" has ${bare}${pattern.left.hasEllipsis ? " or more" : ""} input ` +
        `dimension${bare === 1 ? "" : "s"}, but the input is ${shapeToString(shape)} (rank ${shape.length})`,
    );
  const ellipsisRank = shape.length - bare;
  const left = expand(pattern.left.groups, ellipsisRank);
  const right = expand(pattern.right.groups, ellipsisRank);
  const sizes = new Map<string, Dim>();
  for (const [name, g] of given) {
    if (isStatic(g.dim) && g.dim < 1)
      fail(ShapeCodes.PatternShapeMismatch, `the size of '${name}' must be positive, got ${g.dim}`, g.span);
    sizes.set(name, g.dim);
  }
  for (const a of [...pattern.left.groups, ...pattern.right.groups].flatMap((g) => g.axes))
    if (a.size !== undefined) sizes.set(a.name, a.size);
  left.forEach((group, i) => {
    const unknown = group.filter((n) => !sizes.has(n));
    const known = dimProduct(group.filter((n) => sizes.has(n)).map((n) => sizes.get(n)!));
    const what = `input dimension ${i} (${dimToString(shape[i])})`;
    if (unknown.length === 0) {
      if (!dimEq(known, shape[i])) {
        const parts = group.map((n) => `${describe(n)} = ${dimToString(sizes.get(n)!)}`).join(", ");
        mismatch(
          group.length
            ? `${what} does not match the pattern: ` +
                `${parts}${group.length > 1 ? ` (product ${dimToString(known)})` : ""}`
            : `${what} must be 1 for '1' or '()' in the pattern`,
          given.get(group[0])?.span,
        );
      }
      return;
    }
    if (unknown.length > 1)
      fail(
        CheckCodes.PatternCannotInfer,
        `the sizes of ${unknown.map(describe).join(" and ")} cannot both be inferred from ${what}`,
        patternSpan,
      );
    const inferred = dimDivExact(shape[i], known);
    if (inferred === undefined || (isStatic(inferred) && inferred < 1))
      mismatch(
        `${what} cannot be divided into ` +
          `${group.map((n) => (sizes.has(n) ? dimToString(sizes.get(n)!) : describe(n))).join(" × ")}: ` +
          `${dimToString(shape[i])} is not a multiple of ${dimToString(known)}`,
      );
    sizes.set(unknown[0], inferred!);
  });
  return { left, right, sizes };
}

const sizeOf = (sizes: Map<string, Dim>, group: readonly string[]): Dim => dimProduct(group.map((n) => sizes.get(n)!));

/**
 * Moves a tensor whose dimensions are `from` (groups of elementary axes) to `to` with the fewest layout ops
 * (reshape, transpose, reshape; each only where it changes the shape). The axes travel in runs that are contiguous,
 * in the same order, on both sides; the candidate runs are the output's groups, the input's groups and the longest
 * runs. Of equally short plans, one that splits before transposing wins when the output has more dimensions than
 * the input, one that merges after transposing otherwise (as hand-written reshape/permute chains usually go).
 */
function move(ctx: BuiltinContext, x: IrValue, from: Groups, to: Groups, sizes: Map<string, Dim>): IrValue {
  const order = from.flat();
  const target = to.flat();
  const outShape = to.map((g) => sizeOf(sizes, g));
  const position = new Map(order.map((n, i) => [n, i]));
  const longestRuns: Groups = [];
  target.forEach((n, i) => {
    const run = longestRuns[longestRuns.length - 1];
    if (i > 0 && position.get(n) === position.get(target[i - 1])! + 1) run.push(n);
    else longestRuns.push([n]);
  });
  // A candidate works when each run is contiguous and in order in both `order` and `target`.
  const contiguousIn = (seq: string[], run: string[]) => {
    const at = seq.indexOf(run[0]);
    return run.every((n, k) => seq[at + k] === n);
  };
  const candidates = to.length >= from.length ? [to, from, longestRuns] : [from, to, longestRuns];
  const plans = candidates.flatMap((runs) => {
    const parts = runs.filter((r) => r.length > 0);
    if (!parts.every((r) => contiguousIn(order, r) && contiguousIn(target, r))) return [];
    const inputOrder = [...parts].sort((a, b) => position.get(a[0])! - position.get(b[0])!);
    const outputOrder = [...parts].sort((a, b) => target.indexOf(a[0]) - target.indexOf(b[0]));
    const perm = outputOrder.map((r) => inputOrder.indexOf(r));
    const middle = inputOrder.map((r) => sizeOf(sizes, r));
    const transposed = perm.map((p) => middle[p]);
    const moves = perm.some((p, i) => p !== i);
    // Without a transpose one reshape does it all (the middle shape drops size-1 groups the output may want).
    const steps = moves
      ? [!shapeEq(middle, x.shape), true, !shapeEq(transposed, outShape)]
      : [false, false, !shapeEq(x.shape, outShape)];
    return [{ middle, perm, steps, cost: steps.filter(Boolean).length }];
  });
  const best = plans.reduce((a, b) => (b.cost < a.cost ? b : a));
  let y = x;
  if (best.steps[0]) y = ctx.emit.op1("reshape", { shape: best.middle }, [y], ctx.origin);
  if (best.steps[1]) y = ctx.emit.op1("transpose", { perm: best.perm }, [y], ctx.origin);
  if (best.steps[2]) y = ctx.emit.op1("reshape", { shape: outShape }, [y], ctx.origin);
  return y;
}

/** Splits the input dimensions that hold reduced axes, reduces them, then moves the rest into place. */
function lowerReduce(ctx: BuiltinContext, x: IrValue, r: Resolved, reduction: Reduction): IrValue {
  const kept = new Set(r.right.flat());
  const isReduced = (n: string) => !kept.has(n);
  const split: Groups = r.left.flatMap((g) => (g.some(isReduced) ? g.map((n) => [n]) : [g]));
  let y = x;
  const splitShape = split.map((g) => sizeOf(r.sizes, g));
  if (!shapeEq(splitShape, x.shape)) y = ctx.emit.op1("reshape", { shape: splitShape }, [y], ctx.origin);
  const axes = split.flatMap((g, i) => (g.length === 1 && isReduced(g[0]) ? [i] : []));
  if (axes.length) y = ctx.emit.op1("reduce", { kind: reduction, axes, keepdims: false }, [y], ctx.origin);
  return move(
    ctx,
    y,
    split.filter((g) => !(g.length === 1 && isReduced(g[0]))),
    r.right,
    r.sizes,
  );
}

/** Moves the input's axes into their output order, then broadcasts the new axes in (as size-1 dimensions). */
function lowerRepeat(ctx: BuiltinContext, x: IrValue, r: Resolved): IrValue {
  const old = new Set(r.left.flat());
  const target = r.right.flat();
  let y = move(
    ctx,
    x,
    r.left,
    target.filter((n) => old.has(n)).map((n) => [n]),
    r.sizes,
  );
  const withOnes = target.map((n) => (old.has(n) ? r.sizes.get(n)! : 1));
  const full = target.map((n) => r.sizes.get(n)!);
  if (!shapeEq(withOnes, y.shape)) y = ctx.emit.op1("reshape", { shape: withOnes }, [y], ctx.origin);
  if (!shapeEq(full, withOnes)) y = ctx.emit.op1("expand", { shape: full }, [y], ctx.origin);
  const outShape = r.right.map((g) => sizeOf(r.sizes, g));
  if (!shapeEq(outShape, y.shape)) y = ctx.emit.op1("reshape", { shape: outShape }, [y], ctx.origin);
  return y;
}

function einopsBuiltin(op: PatternOperation): BuiltinImpl {
  const fixed = EINOPS_PARAMETERS[op];
  return (ctx: BuiltinContext, a: BoundArgs) => {
    const t = a.get("tensor")!;
    const x = expectTensor(t.value, t.span, "tensor");
    const p = a.get("pattern")!;
    const text = expectString(p.value, p.span, "pattern");
    const given = new Map<string, { dim: Dim; span: Span }>();
    for (const [name, b] of a)
      if (!fixed.includes(name))
        given.set(name, { dim: expectDim(b.value, b.span, `the size of '${name}'`), span: b.span });
    let reduction: Reduction = "sum";
    if (op === "reduce") {
      const b = a.get("reduction")!;
      const name = expectString(b.value, b.span, "reduction");
      if (!(REDUCTIONS as readonly string[]).includes(name))
        fail(
          CheckCodes.UnknownReduction,
          `'${name}' is not a reduction`,
          b.span,
          [],
          `reduce with one of ${REDUCTIONS.map((n) => `"${n}"`).join(", ")}`,
        );
      reduction = name as Reduction;
    }
    const { pattern, problems } = parsePattern(text, op, [...given.keys()]);
    if (problems.length)
      throw new DiagnosticError(
        problems.map((q) => patternProblemDiagnostic(q, text, q.sizeName ? given.get(q.sizeName)!.span : p.span)),
      );
    const r = resolve(x, pattern, given, p.span, text);
    const y =
      op === "rearrange"
        ? move(ctx, x, r.left, r.right, r.sizes)
        : op === "reduce"
          ? lowerReduce(ctx, x, r, reduction)
          : lowerRepeat(ctx, x, r);
    return { kind: "tensor", v: y };
  };
}

/** The einops builtins; their signatures (and docs) are in src/dsl/signatures/builtins.ts. */
export const EINOPS_BUILTINS: { readonly [K in PatternOperation]: BuiltinImpl } = {
  rearrange: einopsBuiltin("rearrange"),
  repeat: einopsBuiltin("repeat"),
  reduce: einopsBuiltin("reduce"),
};
