// Reshapes and slices made by the elaborator itself (indexing, constructs) as well as by builtins.
import { ShapeCodes } from "../../diagnostics/codes.js";
import type { Span } from "../../diagnostics/diagnostics.js";
import { type Dim, dimDivExact, dimProduct, dimToString, shapeToString } from "../ir/dim.js";
import type { Value as IrValue } from "../ir/ir.js";
import type { BuiltinContext } from "./builtins/arguments.js";
import { fail } from "./context.js";

/** Resolves a reshape target that may hold one -1, against the element count of `x`. */
export function resolveShape(x: IrValue, target: Dim[], span: Span): Dim[] {
  const holes = target.filter((d) => d === -1).length;
  if (holes > 1) fail(ShapeCodes.BadArgument, "reshape: at most one dimension may be -1", span);
  if (holes === 0) return target;
  const known = dimProduct(target.filter((d) => d !== -1));
  const rest = dimDivExact(dimProduct(x.shape), known);
  if (rest === undefined)
    fail(
      ShapeCodes.NotDivisible,
      `reshape: ${shapeToString(x.shape)} cannot be viewed as ${shapeToString(target)} ` +
        `(${dimToString(dimProduct(x.shape))} elements are not a multiple of ${dimToString(known)})`,
      span,
    );
  return target.map((d) => (d === -1 ? rest : d));
}

export function reshape(ctx: BuiltinContext, x: IrValue, shape: Dim[], span: Span): IrValue {
  return ctx.emit.op1("reshape", { shape: resolveShape(x, shape, span) }, [x], ctx.origin);
}

export function slice(ctx: BuiltinContext, x: IrValue, axis: number, start: number, end: number, step = 1): IrValue {
  return ctx.emit.op1("slice", { axis, start, end, step }, [x], ctx.origin);
}
