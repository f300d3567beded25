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

/** Row-major strides, in elements: the last axis is contiguous. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = step;
    step *= shape[i];
  }
  return strides;
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

// The one encoder to 16-bit floats, for checkpoint casts (weights/transforms.ts), GPU storage (runtime/storage.ts)
// and the interpreter's f16/bf16 results. Nearest, ties to even; a NaN stays a quiet NaN of the same sign.

/** value >> shift, rounded to nearest even. */
function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const rest = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return kept + (rest > half || (rest === half && (kept & 1) === 1) ? 1 : 0);
}

/** The f16 nearest a float64 that is not a float32 (rounding through float32 first could round twice). */
function exactF16Bits(x: number): number {
  const sign = x < 0 ? 0x8000 : 0;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  if (e < -14) return sign | roundHalfEven(a * 2 ** 24); // subnormal; 1024 rolls over into the smallest normal
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
}

/** IEEE binary16 bits of the f16 nearest `x`. */
export function numberToF16Bits(x: number): number {
  f32Scratch[0] = x;
  if (f32Scratch[0] !== x && !Number.isNaN(x)) return exactF16Bits(x);
  const bits = u32Scratch[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >>> 13) : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    return sign | roundShift(mantissa | 0x800000, 14 - e);
  }
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  return sign | ((e << 10) + roundShift(mantissa, 13));
}

/** bfloat16 bits of `x` rounded to float32, then to bfloat16 (as frameworks round f32 results to bf16). */
export function numberToBf16Bits(x: number): number {
  f32Scratch[0] = x;
  const bits = u32Scratch[0];
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return (bits >>> 16) | 0x40;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
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
