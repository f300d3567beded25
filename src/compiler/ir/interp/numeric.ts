// Element-level conversions for the interpreter: every non-i64 tensor is computed as float64 numbers and
// rounded once on the way back; i64 stays BigInt so large indices and wrapping stay exact.
import {
  allocData,
  bf16BitsToNumber,
  type DType,
  f16BitsToNumber,
  type HostTensor,
  numberToBf16Bits,
  numberToF16Bits,
  numel,
  type TensorData,
} from "../../../util/tensor.js";

/** A data-dependent failure (bad index, integer division by zero); the interpreter adds the node's span. */
export class KernelError extends Error {}

export function isIntegerType(t: DType): boolean {
  return t === "i64" || t === "i32" || t === "i8" || t === "u8";
}

/** The tensor's elements as float64 (i64 through Number, which is exact below 2^53). */
export function toNumbers(t: HostTensor): Float64Array {
  const n = t.data.length;
  const out = new Float64Array(n);
  const d = t.data;
  if (t.dtype === "f16") for (let i = 0; i < n; i++) out[i] = f16BitsToNumber(d[i] as number);
  else if (t.dtype === "bf16") for (let i = 0; i < n; i++) out[i] = bf16BitsToNumber(d[i] as number);
  else if (t.dtype === "i64") for (let i = 0; i < n; i++) out[i] = Number(d[i] as bigint);
  else for (let i = 0; i < n; i++) out[i] = d[i] as number;
  return out;
}

/** The tensor's elements as BigInt (integer and bool tensors only). */
export function toBigInts(t: HostTensor): BigInt64Array {
  if (t.data instanceof BigInt64Array) return t.data;
  const out = new BigInt64Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = BigInt(t.data[i] as number);
  return out;
}

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  i32: [-(2 ** 31), 2 ** 31 - 1],
  i8: [-128, 127],
  u8: [0, 255],
  i64: [-(2 ** 63), 2 ** 63],
};

/** Truncates a float toward zero for a float -> integer conversion, rejecting what ONNX leaves unspecified. */
export function truncToInt(x: number, to: DType): number {
  const t = Math.trunc(x);
  const [lo, hi] = INT_RANGE[to]!;
  if (!(t >= lo && (to === "i64" ? t < hi : t <= hi))) throw new KernelError(`the value ${x} does not fit in ${to}`);
  return t;
}

/**
 * Builds a tensor from float64 values, rounding to `dtype`: floats round to nearest even; integer values must
 * already be integral and wrap (typed-array stores are modulo 2^bits); bool is `x != 0`.
 */
export function fromNumbers(dtype: DType, shape: number[], values: ArrayLike<number>): HostTensor {
  const n = numel(shape);
  const data = allocData(dtype, n);
  if (dtype === "f16") for (let i = 0; i < n; i++) data[i] = numberToF16Bits(values[i]);
  else if (dtype === "bf16") for (let i = 0; i < n; i++) data[i] = numberToBf16Bits(values[i]);
  else if (dtype === "bool") for (let i = 0; i < n; i++) data[i] = values[i] !== 0 ? 1 : 0;
  else if (data instanceof BigInt64Array) for (let i = 0; i < n; i++) data[i] = BigInt(values[i]);
  else (data as Exclude<TensorData, BigInt64Array>).set(values);
  return { dtype, shape, data };
}

/** Converts one scalar attribute (a clip bound, a pad value) to the element type, as `cast` would. */
export function scalarOf(dtype: DType, x: number): HostTensor {
  if (isIntegerType(dtype)) return fromNumbers(dtype, [], [truncToInt(x, dtype)]);
  return fromNumbers(dtype, [], [x]);
}

/** Copies elements through an index map: out[i] = data[map[i]] (any element type, bits preserved). */
export function takeData<T extends TensorData>(data: T, map: ArrayLike<number>): T {
  const out = new (data.constructor as new (n: number) => T)(map.length);
  const src = data as unknown as ArrayLike<unknown>;
  const dst = out as unknown as { [i: number]: unknown };
  for (let i = 0; i < map.length; i++) dst[i] = src[map[i]];
  return out;
}
