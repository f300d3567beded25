// Host-side tensors: what weights, constants, .npy files and runtime outputs are exchanged as.

/** Element types known to netc. f16 and bf16 are held as raw 16-bit patterns. */
export type DType = "f32" | "f16" | "bf16" | "f64" | "i64" | "i32" | "i8" | "u8" | "bool";

export const DTYPES: readonly DType[] = ["f32", "f16", "bf16", "f64", "i64", "i32", "i8", "u8", "bool"];

export type TensorData =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Int8Array
  | Uint8Array
  | Uint16Array;

export interface HostTensor {
  dtype: DType;
  shape: number[];
  /** Row-major, contiguous, `numel(shape)` elements. */
  data: TensorData;
}

export function byteSize(dtype: DType): number {
  switch (dtype) {
    case "f64":
    case "i64":
      return 8;
    case "f32":
    case "i32":
      return 4;
    case "f16":
    case "bf16":
      return 2;
    case "i8":
    case "u8":
    case "bool":
      return 1;
  }
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function allocData(dtype: DType, n: number): TensorData {
  switch (dtype) {
    case "f32":
      return new Float32Array(n);
    case "f64":
      return new Float64Array(n);
    case "i64":
      return new BigInt64Array(n);
    case "i32":
      return new Int32Array(n);
    case "i8":
      return new Int8Array(n);
    case "u8":
    case "bool":
      return new Uint8Array(n);
    case "f16":
    case "bf16":
      return new Uint16Array(n);
  }
}

/** Views little-endian bytes as a typed array of `dtype` (copies, so the result is aligned and owned). */
export function dataFromBytes(dtype: DType, bytes: Uint8Array): TensorData {
  const n = bytes.byteLength / byteSize(dtype);
  const out = allocData(dtype, n);
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
  return out;
}

export function bytesOf(t: { data: TensorData }): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

export function f16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export function bf16BitsToNumber(h: number): number {
  u32Scratch[0] = h << 16;
  return f32Scratch[0];
}

/** Converts any tensor to f32 (f16/bf16 exactly, f64 rounded, integers and bools as values). */
export function toFloat32(t: HostTensor): Float32Array {
  const n = t.data.length;
  const out = new Float32Array(n);
  if (t.dtype === "f16") for (let i = 0; i < n; i++) out[i] = f16BitsToNumber(t.data[i] as number);
  else if (t.dtype === "bf16") for (let i = 0; i < n; i++) out[i] = bf16BitsToNumber(t.data[i] as number);
  else if (t.dtype === "i64") for (let i = 0; i < n; i++) out[i] = Number(t.data[i] as bigint);
  else for (let i = 0; i < n; i++) out[i] = t.data[i] as number;
  return out;
}
