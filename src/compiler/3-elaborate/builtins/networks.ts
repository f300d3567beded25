// Linear algebra, normalisation, attention, recurrence and windows (convolution, pooling, resizing).
import { ShapeCodes } from "../../../diagnostics/codes.js";
import { shapeToString } from "../../ir/dim.js";
import { expectBool, expectInt, expectNumber, fail } from "../context.js";
import type { Val } from "../values.js";
import type { BuiltinName } from "../../../dsl/signatures/builtins.js";
import {
  type BuiltinImpl,
  type BuiltinContext,
  type BoundArgs,
  axisOf,
  get,
  padsOf,
  perDim,
  tensorOf,
  tupleOf,
} from "./arguments.js";

function pool(ctx: BuiltinContext, a: BoundArgs, op: "max_pool" | "avg_pool"): Val {
  const x = tensorOf(ctx, a.get("x")!, "x");
  const n = x.shape.length - 2;
  if (n < 1) fail(ShapeCodes.RankMismatch, `${op} needs [N, C, spatial...], got ${shapeToString(x.shape)}`, ctx.span);
  const kernel = perDim(a, "kernel", n);
  const strides = get(a, "stride").value.kind === "none" ? kernel : perDim(a, "stride", n);
  const pads = padsOf(a, n);
  if (op === "max_pool")
    return { kind: "tensor", v: ctx.emit.op1("max_pool", { kernel, strides, pads }, [x], ctx.origin) };
  const countIncludePad = expectBool(get(a, "count_include_pad").value, ctx.span, "count_include_pad");
  return { kind: "tensor", v: ctx.emit.op1("avg_pool", { kernel, strides, pads, countIncludePad }, [x], ctx.origin) };
}
export const NETWORKS_BUILTINS = {
  matmul: (ctx, a) => ({
    kind: "tensor",
    v: ctx.emit.op1("matmul", {}, [tensorOf(ctx, a.get("a")!, "a"), tensorOf(ctx, a.get("b")!, "b")], ctx.origin),
  }),
  layer_norm: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const axis = axisOf(a, "axis", x.shape.length);
    const eps = expectNumber(get(a, "eps").value, ctx.span, "eps");
    const ins = [x];
    const scale = a.get("scale");
    const bias = a.get("bias");
    if (bias && !scale) fail(ShapeCodes.BadArgument, "layer_norm: a bias needs a scale", bias.span);
    if (scale) ins.push(tensorOf(ctx, scale, "scale"));
    if (bias) ins.push(tensorOf(ctx, bias, "bias"));
    return { kind: "tensor", v: ctx.emit.op1("layer_norm", { axis, eps }, ins, ctx.origin) };
  },
  batch_norm: (ctx, a) => {
    const eps = expectNumber(get(a, "eps").value, ctx.span, "eps");
    const ins = ["x", "scale", "bias", "mean", "var"].map((name) => tensorOf(ctx, a.get(name)!, name));
    return { kind: "tensor", v: ctx.emit.op1("batch_norm", { eps }, ins, ctx.origin) };
  },
  attention: (ctx, a) => {
    const q = tensorOf(ctx, a.get("q")!, "q");
    const ins = [q, tensorOf(ctx, a.get("k")!, "k"), tensorOf(ctx, a.get("v")!, "v")];
    const b = a.get("bias");
    if (b) ins.push(tensorOf(ctx, b, "bias"));
    const s = a.get("scale");
    const width = q.shape[q.shape.length - 1];
    const scale = s
      ? expectNumber(s.value, s.span, "scale")
      : 1 / Math.sqrt(expectInt({ kind: "int", v: width }, ctx.span, "the head width"));
    return { kind: "tensor", v: ctx.emit.op1("attention", { scale }, ins, ctx.origin) };
  },
  lstm: (ctx, a) => {
    const ins = ["x", "w_ih", "w_hh"].map((n) => tensorOf(ctx, a.get(n)!, n));
    const [bi, bh, h0, c0] = ["b_ih", "b_hh", "h0", "c0"].map((n) => a.get(n));
    if (!bi !== !bh)
      fail(ShapeCodes.BadArgument, "lstm: give both biases (b_ih and b_hh) or neither", (bi ?? bh)!.span);
    if (!h0 !== !c0)
      fail(ShapeCodes.BadArgument, "lstm: give both initial states (h0 and c0) or neither", (h0 ?? c0)!.span);
    if (bi && bh) ins.push(tensorOf(ctx, bi, "b_ih"), tensorOf(ctx, bh, "b_hh"));
    if (h0 && c0) ins.push(tensorOf(ctx, h0, "h0"), tensorOf(ctx, c0, "c0"));
    const reverse = expectBool(get(a, "reverse").value, ctx.span, "reverse");
    return tupleOf(ctx.emit.op("lstm", { reverse, bias: bi !== undefined }, ins, ctx.origin));
  },
  conv: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const w = tensorOf(ctx, a.get("weight")!, "weight");
    const n = w.shape.length - 2;
    const ins = [x, w];
    const b = a.get("bias");
    if (b) ins.push(tensorOf(ctx, b, "bias"));
    const groups = expectInt(get(a, "groups").value, ctx.span, "groups");
    const attrs = { strides: perDim(a, "stride", n), pads: padsOf(a, n), dilations: perDim(a, "dilation", n), groups };
    return { kind: "tensor", v: ctx.emit.op1("conv", attrs, ins, ctx.origin) };
  },
  max_pool: (ctx, a) => pool(ctx, a, "max_pool"),
  avg_pool: (ctx, a) => pool(ctx, a, "avg_pool"),
  resize_linear: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const n = x.shape.length - 2;
    if (n < 1)
      fail(ShapeCodes.RankMismatch, `resize_linear needs [N, C, spatial...], got ${shapeToString(x.shape)}`, ctx.span);
    const alignCorners = expectBool(get(a, "align_corners").value, ctx.span, "align_corners");
    return {
      kind: "tensor",
      v: ctx.emit.op1("resize", { sizes: perDim(a, "size", n), alignCorners }, [x], ctx.origin),
    };
  },
} satisfies { readonly [K in BuiltinName]?: BuiltinImpl };
