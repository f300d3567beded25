// Reading a builtin's bound arguments: tensors (numbers become scalar constants), axes, per-dimension lists.
import { ShapeCodes } from "../../../diagnostics/codes.js";
import type { Span } from "../../../diagnostics/diagnostics.js";
import type { DType } from "../../../util/tensor.js";
import { isStatic } from "../../ir/dim.js";
import { isFloat } from "../../ir/infer.js";
import type { Value as IrValue } from "../../ir/ir.js";
import { type Emitter, expectInt, expectIntList, expectTensor, fail, type Origin } from "../context.js";
import type { BoundArgs } from "../call-binding.js";
import type { Val } from "../values.js";

export type { BoundArgs };

export interface BuiltinContext {
  emit: Emitter;
  origin: Origin;
  span: Span;
  /** Shows a line at `span` as a NET3016 note (`print`). */
  print: (text: string, span: Span) => void;
}

/** A builtin's implementation, given its arguments bound by its signature (src/dsl/signatures/builtins.ts). */
export type BuiltinImpl = (ctx: BuiltinContext, a: BoundArgs) => Val;

/** A parameter that is bound after bindArgs: given, or its default. */
export function get(a: BoundArgs, name: string): { value: Val; span: Span } {
  return a.get(name)!;
}

export const tensorOf = (ctx: BuiltinContext, b: { value: Val; span: Span }, what: string): IrValue =>
  toTensor(ctx, b.value, b.span, what);

/** Tensors pass through; numbers become scalar constants (f32 unless `like` says otherwise). */
export function toTensor(ctx: BuiltinContext, v: Val, span: Span, what: string, like?: DType): IrValue {
  if (v.kind === "tensor") return v.v;
  if (v.kind === "float") return ctx.emit.scalar(v.v, like && isFloat(like) ? like : "f32", ctx.origin);
  if (v.kind === "int" && isStatic(v.v)) return ctx.emit.scalar(v.v, like ?? "i64", ctx.origin);
  if (v.kind === "bool") return ctx.emit.scalar(v.v ? 1 : 0, "bool", ctx.origin);
  return expectTensor(v, span, what);
}

export function axisOf(a: BoundArgs, name: string, rank: number): number {
  const b = get(a, name);
  const ax = expectInt(b.value, b.span, name);
  if (ax < -rank || ax >= rank)
    fail(ShapeCodes.BadAxis, `${name} ${ax} is out of range for a tensor of rank ${rank}`, b.span);
  return ax < 0 ? ax + rank : ax;
}

export function perDim(a: BoundArgs, name: string, n: number): number[] {
  const b = get(a, name);
  const list = expectIntList(b.value, b.span, name);
  if (list.length === 1) return Array(n).fill(list[0]);
  if (list.length !== n) fail(ShapeCodes.BadArgument, `${name} needs 1 or ${n} values, got ${list.length}`, b.span);
  return list;
}

export function padsOf(a: BoundArgs, n: number): number[] {
  const b = get(a, "padding");
  const list = expectIntList(b.value, b.span, "padding");
  if (list.length === 1) return Array(2 * n).fill(list[0]);
  if (list.length === n) return [...list, ...list];
  if (list.length === 2 * n) return list;
  fail(ShapeCodes.BadArgument, `padding needs 1, ${n} or ${2 * n} values, got ${list.length}`, b.span);
}

export function tupleOf(vs: IrValue[]): Val {
  return { kind: "tuple", items: vs.map((v) => ({ kind: "tensor", v }) as Val) };
}
