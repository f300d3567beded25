// Shared machinery of elaboration: error reporting with source notes, value coercions, node creation.
import { makeDiagnostic, ShapeCodes, type CodeInfo } from "../../diagnostics/codes.js";
import { DiagnosticError, type RelatedInfo, type Span } from "../../diagnostics/diagnostics.js";
import type { DType } from "../../util/tensor.js";
import type { GraphBuilder } from "../ir/builder.js";
import { type Dim, dimToString, isStatic } from "../ir/dim.js";
import { InferError, NotStaticError } from "../ir/infer.js";
import type { OpAttrs, OpName, Value as IrValue } from "../ir/ir.js";
import { describeKind, show, type Val } from "./values.js";

/** Where nodes made now come from: the `.net` span, the layer path, and the construct being lowered. */
export interface Origin {
  span: Span;
  scope: string;
  construct?: string;
}

export function fail(code: CodeInfo, message: string, span?: Span, related: RelatedInfo[] = [], hint?: string): never {
  throw new DiagnosticError([makeDiagnostic(code, message, span, { related, hint })]);
}

/**
 * The use of a value a failed statement would have bound: that statement's error is already reported, so this
 * one carries none (and is caught by the statement that uses the value, whose outputs are poisoned in turn).
 */
export class PoisonedValueError extends DiagnosticError {
  constructor() {
    super([]);
  }
}

/** For nodes made inside a layer or fn, the outermost call in the model's own code that led to them. */
const callSites = new WeakMap<object, Span>();

/** Whether a node has its outermost call recorded, and recording one for a node copied by LayerCallMemo. */
export function hasCallSite(node: object): boolean {
  return callSites.has(node);
}

export function setCallSite(node: object, span: Span): void {
  callSites.set(node, span);
}

/** A note pointing at where a tensor was computed, so shape errors show both sides. */
export function provenance(v: IrValue, label = "this value"): RelatedInfo[] {
  const span = callSites.get(v.producer) ?? v.producer.span;
  if (!span) return [];
  const what =
    v.producer.op === "input"
      ? "input"
      : v.producer.op === "param"
        ? "weight"
        : callSites.has(v.producer)
          ? "call"
          : v.producer.op;
  return [{ message: `${label} (${v.dtype}[${v.shape.map(dimToString).join(", ")}]) comes from this ${what}`, span }];
}

export class Emitter {
  /** Spans of the layer and fn calls being elaborated, outermost first. */
  readonly calls: Span[] = [];

  constructor(readonly builder: GraphBuilder) {}

  private record(values: IrValue[]): IrValue[] {
    if (this.calls.length && values[0]) callSites.set(values[0].producer, this.calls[0]);
    return values;
  }

  /** Adds a node, turning an inference failure into a diagnostic at the `.net` line with the operands' origins. */
  op<K extends OpName>(op: K, attrs: OpAttrs[K], inputs: IrValue[], origin: Origin): IrValue[] {
    try {
      return this.record(this.builder.op(op, attrs, inputs, origin));
    } catch (e) {
      if (e instanceof InferError) {
        const related =
          inputs.length <= 4
            ? inputs.flatMap((v, i) => provenance(v, inputs.length > 1 ? `operand ${i + 1}` : "the operand"))
            : [];
        fail(
          e instanceof NotStaticError ? ShapeCodes.NotCompileTime : ShapeCodes.ShapeMismatch,
          e.message,
          origin.span,
          related,
        );
      }
      throw e;
    }
  }

  op1<K extends OpName>(op: K, attrs: OpAttrs[K], inputs: IrValue[], origin: Origin): IrValue {
    return this.op(op, attrs, inputs, origin)[0];
  }

  scalar(value: number, dtype: DType, origin: Origin): IrValue {
    const data =
      dtype === "i64"
        ? BigInt64Array.from([BigInt(Math.trunc(value))])
        : dtype === "f64"
          ? Float64Array.from([value])
          : dtype === "i32"
            ? Int32Array.from([value])
            : dtype === "bool" || dtype === "u8"
              ? Uint8Array.from([value ? 1 : 0])
              : Float32Array.from([value]);
    return this.builder.constant({ dtype, shape: [], data }, origin);
  }
}

// ---- coercions with diagnostics ----

export function expectInt(v: Val, span: Span, what: string): number {
  if (v.kind === "int" && isStatic(v.v)) return v.v;
  if (v.kind === "int")
    fail(ShapeCodes.NotCompileTime, `${what} must be a known integer, got the symbolic ${dimToString(v.v)}`, span);
  fail(ShapeCodes.TypeMismatch, `${what} must be an int, got ${describeKind(v)}`, span);
}

export function expectDim(v: Val, span: Span, what: string): Dim {
  if (v.kind === "int") return v.v;
  fail(ShapeCodes.TypeMismatch, `${what} must be an int or a dimension, got ${describeKind(v)}`, span);
}

export function expectNumber(v: Val, span: Span, what: string): number {
  if (v.kind === "float") return v.v;
  if (v.kind === "int" && isStatic(v.v)) return v.v;
  fail(ShapeCodes.TypeMismatch, `${what} must be a number, got ${describeKind(v)}`, span);
}

export function expectBool(v: Val, span: Span, what: string): boolean {
  if (v.kind === "bool") return v.v;
  fail(ShapeCodes.TypeMismatch, `${what} must be a bool, got ${describeKind(v)}`, span);
}

export function expectString(v: Val, span: Span, what: string): string {
  if (v.kind === "string") return v.v;
  fail(ShapeCodes.TypeMismatch, `${what} must be a string, got ${describeKind(v)}`, span);
}

export function expectTensor(v: Val, span: Span, what: string): IrValue {
  if (v.kind === "tensor") return v.v;
  fail(ShapeCodes.TypeMismatch, `${what} must be a tensor, got ${describeKind(v)}`, span);
}

export function expectList(v: Val, span: Span, what: string): Val[] {
  if (v.kind === "list" || v.kind === "tuple") return v.items;
  fail(ShapeCodes.TypeMismatch, `${what} must be a list, got ${describeKind(v)}`, span);
}

export function expectIntList(v: Val, span: Span, what: string): number[] {
  if (v.kind === "int") return [expectInt(v, span, what)];
  return expectList(v, span, what).map((x, i) => expectInt(x, span, `${what}[${i}]`));
}

export function expectDimList(v: Val, span: Span, what: string): Dim[] {
  return expectList(v, span, what).map((x, i) => expectDim(x, span, `${what}[${i}]`));
}

export function expectDType(v: Val, span: Span, what: string): DType {
  if (v.kind === "dtype") return v.v;
  fail(ShapeCodes.TypeMismatch, `${what} must be an element type (f32, i64, ...), got ${show(v)}`, span);
}
