// Checking values against declared types: kinds, element types, and tensor shapes with dimension names bound on
// first use (generic signatures) and compared afterwards.
import type * as A from "../../dsl/1-parse/ast.js";
import { CheckCodes, ShapeCodes } from "../../diagnostics/codes.js";
import type { Span } from "../../diagnostics/diagnostics.js";
import { DTYPES } from "../../util/tensor.js";
import { dimEq, dimToString, isStatic, shapeToString } from "../ir/dim.js";
import { expectDim, expectList, fail, provenance } from "./context.js";
import type { Elaborator } from "./elaborate.js";
import { rootActivation, type Scope } from "./scope.js";
import { exprText } from "./source-text.js";
import { describeKind, float, int, type Val } from "./values.js";

/**
 * Checks a value against a declared type. Names in tensor dims that are not yet bound are bound to the actual
 * dimension when `bindFree` (signatures are generic over them); `*N` binds a run of dims.
 */
export function matchType(
  el: Elaborator,
  type: A.TypeExpr,
  v: Val,
  scope: Scope,
  span: Span,
  bindFree: boolean,
  what: string,
): void {
  const mismatch = (expected: string): never =>
    fail(
      ShapeCodes.TypeMismatch,
      `${what} should be ${expected}, got ${describeKind(v)}`,
      span,
      v.kind === "tensor" ? provenance(v.v) : [],
      undefined,
    );
  switch (type.kind) {
    case "NamedType": {
      const n = type.name;
      if (n === "int" || n === "dim") return void (v.kind === "int" || mismatch(n));
      if (n === "float") return void (v.kind === "float" || (v.kind === "int" && isStatic(v.v)) || mismatch("a float"));
      if (n === "bool") return void (v.kind === "bool" || mismatch("a bool"));
      if (n === "string") return void (v.kind === "string" || mismatch("a string"));
      if (n === "layer") return void (v.kind === "layer" || mismatch("a layer"));
      if (n === "any") return;
      if (n === "tensor" || (DTYPES as readonly string[]).includes(n)) {
        if (v.kind !== "tensor") return mismatch(n === "tensor" ? "a tensor" : `a ${n} tensor`);
        if (n !== "tensor" && v.v.dtype !== n)
          fail(ShapeCodes.DTypeMismatch, `${what} should be ${n}, got ${v.v.dtype}`, span, provenance(v.v));
        return;
      }
      fail(
        CheckCodes.UnknownName,
        `unknown type '${n}'`,
        type.span,
        [],
        "types: int, float, bool, string, dim, layer, tensor, list<T>, (T, U), f32[dims]",
      );
    }
    case "ListType": {
      if (v.kind !== "list" && v.kind !== "tuple") return mismatch("a list");
      v.items.forEach((x, i) => matchType(el, type.element, x, scope, span, bindFree, `${what}[${i}]`));
      return;
    }
    case "TupleType": {
      if ((v.kind !== "tuple" && v.kind !== "list") || v.items.length !== type.elements.length)
        return mismatch(`a tuple of ${type.elements.length}`);
      type.elements.forEach((t, i) => matchType(el, t, v.items[i], scope, span, bindFree, `${what}.${i}`));
      return;
    }
    case "TensorType":
      return matchTensorType(el, type, v, scope, span, bindFree, what);
  }
}

function matchTensorType(
  el: Elaborator,
  type: A.TensorTypeExpr,
  v: Val,
  scope: Scope,
  span: Span,
  bindFree: boolean,
  what: string,
): void {
  if (v.kind !== "tensor")
    fail(ShapeCodes.TypeMismatch, `${what} should be a tensor ${type.dtype}[...], got ${describeKind(v)}`, span);
  const t = v.v;
  if ((DTYPES as readonly string[]).includes(type.dtype)) {
    if (t.dtype !== type.dtype)
      fail(ShapeCodes.DTypeMismatch, `${what} should be ${type.dtype}, got ${t.dtype}`, span, provenance(t));
  } else if (type.dtype !== "tensor") {
    // A dtype variable (e.g. `T[N, C]`): bound on first use, compared afterwards.
    const bound = scope.lookup(type.dtype);
    if (bound && bound.value.kind === "dtype") {
      if (bound.value.v !== t.dtype)
        fail(
          ShapeCodes.DTypeMismatch,
          `${what} should be ${bound.value.v} (${type.dtype}), got ${t.dtype}`,
          span,
          provenance(t),
        );
    } else if (bindFree) scope.define(type.dtype, { kind: "dtype", v: t.dtype }, type.span);
  }
  const rests = type.dims.filter((d) => d.kind === "DimRest");
  if (rests.length > 1)
    fail(ShapeCodes.BadDimension, "a tensor type may have at most one `...` or `*N`", rests[1].span);
  const restAt = type.dims.findIndex((d) => d.kind === "DimRest");
  const fixed = type.dims.length - rests.length;
  const rankOk = rests.length ? t.shape.length >= fixed : t.shape.length === fixed;
  const dimText = (d: A.TensorTypeExpr["dims"][number]) =>
    d.kind === "Dim" ? exprText(d.expr) : d.kind === "DimAny" ? "_" : d.name ? `*${d.name}` : "...";
  const expected = `${type.dtype}[${type.dims.map(dimText).join(", ")}]`;
  if (!rankOk)
    fail(
      ShapeCodes.RankMismatch,
      `${what} should have shape ${expected} (rank ${rests.length ? `>= ${fixed}` : fixed}), got ` +
        `${shapeToString(t.shape)}`,
      span,
      provenance(t),
    );
  const restLen = t.shape.length - fixed;
  const actualAt = (i: number) => (restAt >= 0 && i > restAt ? i - 1 + restLen : i);
  type.dims.forEach((d, i) => {
    if (d.kind === "DimAny") return;
    if (d.kind === "DimRest") {
      if (!d.name) return;
      const run = t.shape.slice(i, i + restLen);
      const bound = scope.lookup(d.name);
      if (bound) {
        const dims = expectList(bound.value, d.span, d.name).map((x) => expectDim(x, d.span, d.name!));
        if (dims.length !== run.length || !dims.every((x, k) => dimEq(x, run[k])))
          fail(
            ShapeCodes.ShapeMismatch,
            `${what} should have shape ${expected} with ${d.name} = ${shapeToString(dims)}, got ` +
              `${shapeToString(t.shape)}`,
            span,
            provenance(t),
          );
      } else if (bindFree) scope.define(d.name, { kind: "list", items: run.map((x) => int(x)) }, d.span);
      return;
    }
    const actual = t.shape[actualAt(i)];
    if (d.expr.kind === "Name" && !scope.lookup(d.expr.name) && bindFree) {
      scope.define(d.expr.name, int(actual), d.span);
      return;
    }
    const want = expectDim(el.evalExpr(d.expr, scope, rootActivation()), d.span, "a dimension");
    if (!dimEq(want, actual)) {
      const written = exprText(d.expr);
      const wantText = written === dimToString(want) ? written : `${written} = ${dimToString(want)}`;
      fail(
        ShapeCodes.ShapeMismatch,
        `${what} should have shape ${expected}, got ${shapeToString(t.shape)}: dimension ${actualAt(i)} is ` +
          `${dimToString(actual)}, expected ${wantText}`,
        span,
        [...provenance(t), { message: "the expected shape is declared here", span: d.span }],
      );
    }
  });
}

/** Converts a matched value to the declared kind (an int given for a float parameter becomes a float). */
export function coerce(type: A.TypeExpr, v: Val): Val {
  if (type.kind === "NamedType" && type.name === "float" && v.kind === "int" && isStatic(v.v)) return float(v.v);
  return v;
}
