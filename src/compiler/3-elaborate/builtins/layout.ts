// Builtins that move or view elements without computing: permute, transpose, reshape, flatten, (un)squeeze,
// expand, concat, split and pad.
import { ShapeCodes } from "../../../diagnostics/codes.js";
import { dimProduct, dimToString, isStatic, shapeToString } from "../../ir/dim.js";
import { expectDimList, expectInt, expectIntList, expectList, expectNumber, fail } from "../context.js";
import type { BuiltinName } from "../../../dsl/signatures/builtins.js";
import { type BuiltinImpl, axisOf, get, tensorOf, toTensor, tupleOf } from "./arguments.js";
import { reshape, slice } from "../layout-ops.js";

export const LAYOUT_BUILTINS = {
  permute: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const p = a.get("perm")!;
    const perm = expectIntList(p.value, p.span, "perm").map((i) => (i < 0 ? i + x.shape.length : i));
    return { kind: "tensor", v: ctx.emit.op1("transpose", { perm }, [x], ctx.origin) };
  },
  transpose: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const i = axisOf(a, "a", x.shape.length);
    const j = axisOf(a, "b", x.shape.length);
    const perm = x.shape.map((_, k) => (k === i ? j : k === j ? i : k));
    return { kind: "tensor", v: ctx.emit.op1("transpose", { perm }, [x], ctx.origin) };
  },
  reshape: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const s = a.get("shape")!;
    return { kind: "tensor", v: reshape(ctx, x, expectDimList(s.value, s.span, "shape"), s.span) };
  },
  flatten: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const s = axisOf(a, "start", x.shape.length);
    const e = axisOf(a, "end", x.shape.length);
    const shape = [...x.shape.slice(0, s), dimProduct(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
    return { kind: "tensor", v: reshape(ctx, x, shape, ctx.span) };
  },
  unsqueeze: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const b = a.get("axis")!;
    let ax = expectInt(b.value, b.span, "axis");
    if (ax < 0) ax += x.shape.length + 1;
    if (ax < 0 || ax > x.shape.length)
      fail(ShapeCodes.BadAxis, `axis ${ax} is out of range for unsqueeze of ${shapeToString(x.shape)}`, b.span);
    return { kind: "tensor", v: reshape(ctx, x, [...x.shape.slice(0, ax), 1, ...x.shape.slice(ax)], ctx.span) };
  },
  squeeze: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const ax = axisOf(a, "axis", x.shape.length);
    if (x.shape[ax] !== 1)
      fail(
        ShapeCodes.ShapeMismatch,
        `squeeze: axis ${ax} of ${shapeToString(x.shape)} has size ${dimToString(x.shape[ax])}, not 1`,
        ctx.span,
      );
    return {
      kind: "tensor",
      v: reshape(
        ctx,
        x,
        x.shape.filter((_, i) => i !== ax),
        ctx.span,
      ),
    };
  },
  expand: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const s = a.get("shape")!;
    return {
      kind: "tensor",
      v: ctx.emit.op1("expand", { shape: expectDimList(s.value, s.span, "shape") }, [x], ctx.origin),
    };
  },
  concat: (ctx, a) => {
    const xs = a.get("xs")!;
    const ts = expectList(xs.value, xs.span, "xs").map((v, i) => toTensor(ctx, v, xs.span, `xs[${i}]`));
    if (ts.length === 0) fail(ShapeCodes.BadArgument, "concat needs at least one tensor", xs.span);
    const ax = axisOf(a, "axis", ts[0].shape.length);
    return { kind: "tensor", v: ts.length === 1 ? ts[0] : ctx.emit.op1("concat", { axis: ax }, ts, ctx.origin) };
  },
  split: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const ax = axisOf(a, "axis", x.shape.length);
    const n = x.shape[ax];
    if (!isStatic(n))
      fail(ShapeCodes.NotCompileTime, `split: axis ${ax} has symbolic size ${dimToString(n)}`, ctx.span);
    const s = a.get("sizes")!;
    let sizes: number[];
    if (s.value.kind === "int") {
      const parts = expectInt(s.value, s.span, "sizes");
      if (parts < 1 || n % parts !== 0)
        fail(ShapeCodes.NotDivisible, `split: ${n} does not divide into ${parts} equal parts`, s.span);
      sizes = Array(parts).fill(n / parts);
    } else sizes = expectIntList(s.value, s.span, "sizes");
    if (sizes.reduce((p, q) => p + q, 0) !== n)
      fail(ShapeCodes.ShapeMismatch, `split: sizes [${sizes.join(", ")}] do not add up to ${n}`, s.span);
    let at = 0;
    return tupleOf(sizes.map((k) => slice(ctx, x, ax, at, (at += k))));
  },
  pad: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const p = a.get("pads")!;
    const value = expectNumber(get(a, "value").value, ctx.span, "value");
    return {
      kind: "tensor",
      v: ctx.emit.op1("pad", { pads: expectIntList(p.value, p.span, "pads"), value }, [x], ctx.origin),
    };
  },
} satisfies { readonly [K in BuiltinName]?: BuiltinImpl };
