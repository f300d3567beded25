// Reductions over axes, argmax and softmax.
import { ShapeCodes } from "../../../diagnostics/codes.js";
import { shapeToString } from "../../ir/dim.js";
import { expectBool, expectIntList, fail } from "../context.js";
import type { BuiltinName } from "../../../dsl/signatures/builtins.js";
import { type BuiltinImpl, axisOf, get, tensorOf } from "./arguments.js";

function reduce(kind: "sum" | "mean" | "max" | "min" | "prod"): BuiltinImpl {
  return (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const ax = a.get("axes")!;
    const axes = expectIntList(ax.value, ax.span, "axes").map((i) => {
      if (i < -x.shape.length || i >= x.shape.length)
        fail(ShapeCodes.BadAxis, `axis ${i} is out of range for ${shapeToString(x.shape)}`, ax.span);
      return i < 0 ? i + x.shape.length : i;
    });
    const keepdims = expectBool(get(a, "keepdims").value, ctx.span, "keepdims");
    return { kind: "tensor", v: ctx.emit.op1("reduce", { kind, axes, keepdims }, [x], ctx.origin) };
  };
}
export const REDUCTIONS_BUILTINS = {
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
} satisfies { readonly [K in BuiltinName]?: BuiltinImpl };
