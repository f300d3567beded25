// Constant tensors made at compile time: from a list, filled with one value, or a range.
import { ShapeCodes } from "../../../diagnostics/codes.js";
import { allocData } from "../../../util/tensor.js";
import { expectDType, expectInt, expectIntList, expectNumber, fail } from "../context.js";
import type { BuiltinName } from "../../../dsl/signatures/builtins.js";
import type { BuiltinImpl } from "./arguments.js";
import { constantFromList, MAX_CONSTANT_ELEMENTS } from "../constant-tensors.js";

export const CONSTANTS_BUILTINS = {
  tensor: (ctx, a) => {
    const v = a.get("values")!;
    const d = a.get("dtype");
    return {
      kind: "tensor",
      v: ctx.emit.builder.constant(
        constantFromList(v.value, v.span, d && expectDType(d.value, d.span, "dtype")),
        ctx.origin,
      ),
    };
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
    if (n > MAX_CONSTANT_ELEMENTS)
      fail(ShapeCodes.TooLarge, `arange: ${n} elements is too large for a constant`, nb.span);
    const data = allocData(dtype, n);
    for (let i = 0; i < n; i++) (data as Float32Array)[i] = data instanceof BigInt64Array ? (BigInt(i) as never) : i;
    return { kind: "tensor", v: ctx.emit.builder.constant({ dtype, shape: [n], data }, ctx.origin) };
  },
} satisfies { readonly [K in BuiltinName]?: BuiltinImpl };
