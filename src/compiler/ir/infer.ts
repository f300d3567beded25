// The vocabulary of the type/shape rules: tensor types, the errors a rule throws (phrased for the user, the caller
// attaches the span), and the checks rules share. Each op's rule is in its op-registry row (./elementwise-ops.ts,
// ./ops/); ./ops/index.ts dispatches them for elaboration and the verifier.
import type { DType } from "../../util/tensor.js";
import { type Dim, dimEq, dimProduct, dimToString, isStatic, shapeToString } from "./dim.js";

export interface TensorType {
  dtype: DType;
  shape: readonly Dim[];
}

/** A shape/type error, phrased for the user; the caller attaches the span. */
export class InferError extends Error {}
/** A symbolic dimension where the op needs a number (a kernel size, a sliced axis, ...). */
export class NotStaticError extends InferError {}

const FLOAT: ReadonlySet<DType> = new Set<DType>(["f32", "f16", "bf16", "f64"]);
export const isFloat = (t: DType) => FLOAT.has(t);
/** Numbers that arithmetic is defined on: every element type but bool. */
export const isNumeric = (t: DType) => t !== "bool";

export function fail(msg: string): never {
  throw new InferError(msg);
}

export function normAxis(axis: number, rank: number, what = "axis"): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) fail(`${what} ${axis} is out of range for a tensor of rank ${rank}`);
  return a;
}

export function broadcastShapes(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (dimEq(da, db) || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else
      fail(
        `shapes ${shapeToString(a)} and ${shapeToString(b)} do not broadcast (dimension ${dimToString(da)} vs ` +
          `${dimToString(db)})`,
      );
  }
  return out;
}

export function sameDType(types: readonly TensorType[], what: string): DType {
  const d = types[0].dtype;
  for (const t of types)
    if (t.dtype !== d)
      fail(`${what} needs operands of one element type, got ${types.map((x) => x.dtype).join(" and ")}`);
  return d;
}

export function staticDim(d: Dim, what: string): number {
  if (!isStatic(d)) throw new NotStaticError(`${what} must be a static dimension, got ${dimToString(d)}`);
  return d;
}

export function checkDims(shape: readonly Dim[], what: string): void {
  if (shape.some((d) => isStatic(d) && !(Number.isInteger(d) && d >= 0)))
    fail(`${what}: ${shapeToString(shape)} has a negative or fractional dimension`);
}

export function windowOut(n: Dim, k: number, s: number, pb: number, pe: number, dil: number, what: string): number {
  const size = staticDim(n, `the spatial size of ${what}`);
  const out = Math.floor((size + pb + pe - dil * (k - 1) - 1) / s) + 1;
  if (out < 1) fail(`${what}: window ${k} (dilation ${dil}) does not fit in size ${size} with padding ${pb}+${pe}`);
  return out;
}

export function checkWindowAttrs(
  rank: number,
  kernel: number[],
  strides: number[],
  pads: number[],
  what: string,
): number {
  const sp = rank - 2;
  if (sp < 1) fail(`${what} needs a tensor [N, C, spatial...], got rank ${rank}`);
  if (kernel.length !== sp || strides.length !== sp || pads.length !== 2 * sp)
    fail(`${what} over ${sp} spatial dims needs ${sp} kernel sizes, ${sp} strides and ${2 * sp} pads`);
  if (strides.some((s) => !(s >= 1)) || kernel.some((k) => !(k >= 1)) || pads.some((p) => !(p >= 0)))
    fail(`${what}: kernel sizes and strides must be >= 1 and pads >= 0`);
  return sp;
}

/** What a rule knows besides its op's attributes and operand types. */
export interface RuleContext {
  readonly op: string;
}

/** Elements of a shape when static, for size limits. */
export function staticNumel(shape: readonly Dim[]): number | undefined {
  const p = dimProduct(shape);
  return isStatic(p) ? p : undefined;
}
