// Builtins over compile-time values: lengths, shapes, integer maths, strings for weight names, and print.
import { ShapeCodes } from "../../../diagnostics/codes.js";
import { dimEq } from "../../ir/dim.js";
import { expectDim, expectInt, expectList, expectNumber, fail } from "../context.js";
import { bool, describeKind, int, show } from "../values.js";
import type { BuiltinName } from "../../../dsl/signatures/builtins.js";
import { type BuiltinImpl, tensorOf } from "./arguments.js";

export const COMPILE_TIME_BUILTINS = {
  len: (_ctx, a) => {
    const b = a.get("xs")!;
    return int(expectList(b.value, b.span, "xs").length);
  },
  shape: (ctx, a) => ({ kind: "list", items: tensorOf(ctx, a.get("x")!, "x").shape.map((d) => int(d)) }),
  floor_div: (_ctx, a) => {
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
    if (x.value.kind !== "int")
      fail(ShapeCodes.TypeMismatch, `str takes an int or a string, got ${describeKind(x.value)}`, x.span);
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
} satisfies { readonly [K in BuiltinName]?: BuiltinImpl };
