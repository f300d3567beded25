// Elementwise builtins: the unary ops of the op registry (numbers fold at compile time), GELU, maximum and
// minimum, prelu, where, clamp and cast.
import { ShapeCodes } from "../../../diagnostics/codes.js";
import { isStatic } from "../../ir/dim.js";
import type { Value as IrValue } from "../../ir/ir.js";
import { UNARY, type UnaryOp, unaryRow } from "../../ir/elementwise-ops.js";
import { expectDType, expectNumber, expectString, expectTensor, fail } from "../context.js";
import { float, int, type Val } from "../values.js";
import type { BuiltinName } from "../../../dsl/signatures/builtins.js";
import { type BuiltinImpl, type BuiltinContext, type BoundArgs, tensorOf, toTensor } from "./arguments.js";

/** A unary op's builtin: numbers fold at compile time by the op's reference semantics. */
export function unaryBuiltin(op: UnaryOp | (string & {})): BuiltinImpl {
  const row = unaryRow(op);
  if (!row?.builtin) throw new Error(`${op} is not a unary op with a builtin`);
  return (ctx, a) => {
    const x = a.get("x")!;
    if (x.value.kind === "float" || (x.value.kind === "int" && isStatic(x.value.v)))
      return float(row.f64(expectNumber(x.value, x.span, "x"), {}));
    return { kind: "tensor", v: ctx.emit.op1(op as UnaryOp, {}, [expectTensor(x.value, x.span, "x")], ctx.origin) };
  };
}

/** GELU as one op, so backends can use a native kernel (ONNX Gelu from opset 20) or fuse it as one expression. */
function geluBuiltin(): BuiltinImpl {
  return (ctx, a) => {
    const x = a.get("x")!;
    const given = a.get("approximate");
    const approximate = given ? expectString(given.value, given.span, "approximate") : "none";
    if (approximate !== "none" && approximate !== "tanh")
      fail(
        ShapeCodes.BadArgument,
        `gelu: approximate must be "none" or "tanh", got "${approximate}"`,
        given!.span,
        [],
        'gelu(x, approximate = "tanh")',
      );
    if (x.value.kind === "float" || (x.value.kind === "int" && isStatic(x.value.v)))
      return float(UNARY.gelu.f64(expectNumber(x.value, x.span, "x"), { approximate }));
    return {
      kind: "tensor",
      v: ctx.emit.op1("gelu", { approximate }, [expectTensor(x.value, x.span, "x")], ctx.origin),
    };
  };
}

function binaryOrNumber(
  ctx: BuiltinContext,
  a: BoundArgs,
  op: "maximum" | "minimum",
  math: (x: number, y: number) => number,
): Val {
  const x = a.get("a")!;
  const y = a.get("b")!;
  if (x.value.kind !== "tensor" && y.value.kind !== "tensor") {
    const r = math(expectNumber(x.value, x.span, "a"), expectNumber(y.value, y.span, "b"));
    return x.value.kind === "int" && y.value.kind === "int" ? int(r) : float(r);
  }
  const like = x.value.kind === "tensor" ? x.value.v.dtype : (y.value as { v: IrValue }).v.dtype;
  return {
    kind: "tensor",
    v: ctx.emit.op1(
      op,
      {},
      [toTensor(ctx, x.value, x.span, "a", like), toTensor(ctx, y.value, y.span, "b", like)],
      ctx.origin,
    ),
  };
}
export const ELEMENTWISE_BUILTINS = {
  exp: unaryBuiltin("exp"),
  log: unaryBuiltin("log"),
  sqrt: unaryBuiltin("sqrt"),
  tanh: unaryBuiltin("tanh"),
  sigmoid: unaryBuiltin("sigmoid"),
  erf: unaryBuiltin("erf"),
  gelu: geluBuiltin(),
  relu: unaryBuiltin("relu"),
  abs: unaryBuiltin("abs"),
  floor: unaryBuiltin("floor"),
  ceil: unaryBuiltin("ceil"),
  sin: unaryBuiltin("sin"),
  cos: unaryBuiltin("cos"),
  reciprocal: unaryBuiltin("reciprocal"),
  maximum: (ctx, a) => binaryOrNumber(ctx, a, "maximum", Math.max),
  minimum: (ctx, a) => binaryOrNumber(ctx, a, "minimum", Math.min),
  prelu: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const s = a.get("slope")!;
    return {
      kind: "tensor",
      v: ctx.emit.op1("prelu", {}, [x, toTensor(ctx, s.value, s.span, "slope", x.dtype)], ctx.origin),
    };
  },
  where: (ctx, a) => {
    const c = tensorOf(ctx, a.get("cond")!, "cond");
    const x = a.get("a")!;
    const y = a.get("b")!;
    const like = x.value.kind === "tensor" ? x.value.v.dtype : y.value.kind === "tensor" ? y.value.v.dtype : undefined;
    return {
      kind: "tensor",
      v: ctx.emit.op1(
        "where",
        {},
        [c, toTensor(ctx, x.value, x.span, "a", like), toTensor(ctx, y.value, y.span, "b", like)],
        ctx.origin,
      ),
    };
  },
  clamp: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const lo = a.get("min");
    const hi = a.get("max");
    return {
      kind: "tensor",
      v: ctx.emit.op1(
        "clip",
        { min: lo && expectNumber(lo.value, lo.span, "min"), max: hi && expectNumber(hi.value, hi.span, "max") },
        [x],
        ctx.origin,
      ),
    };
  },
  cast: (ctx, a) => {
    const x = tensorOf(ctx, a.get("x")!, "x");
    const d = a.get("dtype")!;
    const to = expectDType(d.value, d.span, "dtype");
    return { kind: "tensor", v: x.dtype === to ? x : ctx.emit.op1("cast", { to }, [x], ctx.origin) };
  },
} satisfies { readonly [K in BuiltinName]?: BuiltinImpl };
