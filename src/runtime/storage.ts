// Host <-> GPU element conversions. Buffers hold f32 (or f16) for every float type and i32 for every integer
// and bool type; i64 values must fit in 32 bits, which the conversion checks rather than silently wrapping.
import {
  allocData,
  bf16BitsToNumber,
  type DType,
  f16BitsToNumber,
  numberToBf16Bits,
  numberToF16Bits,
  type TensorData,
} from "../util/tensor.js";
import type { StorageType } from "./manifest.js";

export type StorageArray = Float32Array | Int32Array | Uint16Array;

export function isFloatType(dtype: DType): boolean {
  return dtype === "f32" || dtype === "f16" || dtype === "bf16" || dtype === "f64";
}

export function storageTypeOf(dtype: DType, precision: "f32" | "f16"): StorageType {
  return isFloatType(dtype) ? precision : "i32";
}

export const STORAGE_BYTES: Record<StorageType, number> = { f32: 4, f16: 2, i32: 4 };

function asNumbers(dtype: DType, data: TensorData): ArrayLike<number> {
  if (dtype === "f16") return Array.from(data as Uint16Array, f16BitsToNumber);
  if (dtype === "bf16") return Array.from(data as Uint16Array, bf16BitsToNumber);
  return data as Exclude<TensorData, BigInt64Array>;
}

/** The elements of a host tensor as the GPU stores them; throws when an i64 value does not fit in i32. */
export function toStorage(dtype: DType, data: TensorData, storage: StorageType, what: string): StorageArray {
  if (storage === "i32") {
    if (!(data instanceof BigInt64Array)) return Int32Array.from(data as ArrayLike<number>);
    const out = new Int32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v < -2147483648n || v > 2147483647n)
        throw new RangeError(`${what}: the i64 value ${v} does not fit the GPU's 32-bit integers`);
      out[i] = Number(v);
    }
    return out;
  }
  if (storage === "f16") {
    if (dtype === "f16") return (data as Uint16Array).slice();
    return Uint16Array.from(asNumbers(dtype, data), numberToF16Bits);
  }
  return Float32Array.from(asNumbers(dtype, data));
}

/** Converts storage elements back to the IR element type (f16/bf16 as bit patterns, i64 as BigInt). */
export function fromStorage(dtype: DType, storage: StorageType, bytes: ArrayBuffer, count: number): TensorData {
  const src: ArrayLike<number> =
    storage === "i32"
      ? new Int32Array(bytes, 0, count)
      : storage === "f16"
        ? Array.from(new Uint16Array(bytes, 0, count), f16BitsToNumber)
        : new Float32Array(bytes, 0, count);
  if (dtype === "f16" && storage === "f16") return new Uint16Array(bytes, 0, count).slice();
  const out = allocData(dtype, count);
  if (out instanceof BigInt64Array) for (let i = 0; i < count; i++) out[i] = BigInt(src[i]);
  else if (dtype === "f16") for (let i = 0; i < count; i++) out[i] = numberToF16Bits(src[i]);
  else if (dtype === "bf16") for (let i = 0; i < count; i++) out[i] = numberToBf16Bits(src[i]);
  else if (dtype === "bool") for (let i = 0; i < count; i++) out[i] = src[i] !== 0 ? 1 : 0;
  else (out as Exclude<TensorData, BigInt64Array>).set(src);
  return out;
}
