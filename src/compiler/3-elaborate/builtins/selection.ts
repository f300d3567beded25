// Picking entries: gather, take_along, topk and linear sampling at fractional positions.
import { expectBool, expectInt } from "../context.js";
import type { BuiltinName } from "../../../dsl/signatures/builtins.js";
import { type BuiltinImpl, axisOf, get, tensorOf, tupleOf } from "./arguments.js";
import { constantFromList } from "../constant-tensors.js";

export const SELECTION_BUILTINS = {
  gather: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const i = a.get("indices")!;
    const idx =
      i.value.kind === "tensor"
        ? i.value.v
        : ctx.emit.builder.constant(constantFromList(i.value, i.span, "i64"), ctx.origin);
    const axis = axisOf(a, "axis", x.shape.length);
    return { kind: "tensor", v: ctx.emit.op1("gather", { axis }, [x, idx], ctx.origin) };
  },
  take_along: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const axis = axisOf(a, "axis", x.shape.length);
    return {
      kind: "tensor",
      v: ctx.emit.op1("gather_elements", { axis }, [x, tensorOf(ctx, a.get("indices")!, "indices")], ctx.origin),
    };
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
    return {
      kind: "tensor",
      v: ctx.emit.op1("sample_linear", { axis }, [x, tensorOf(ctx, a.get("positions")!, "positions")], ctx.origin),
    };
  },
} satisfies { readonly [K in BuiltinName]?: BuiltinImpl };
