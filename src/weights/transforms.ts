// Tensor transforms that real checkpoints need before they fit a model: transpose, reshape, split, cast.
// Data moves bit for bit (as unsigned words) except in a cast, which rounds to nearest even like torch.
import {
  allocData,
  bf16BitsToNumber,
  byteSize,
  bytesOf,
  f16BitsToNumber,
  type DType,
  type HostTensor,
  numberToBf16Bits,
  numberToF16Bits,
  stridesOf,
} from "../util/tensor.js";
import { copyStrided } from "./layout.js";

/** Float types by precision; f16 and bf16 rank alike since neither holds the other. */
const FLOAT_RANK: Partial<Record<DType, number>> = { f16: 1, bf16: 1, f32: 2, f64: 3 };

export function isFloat(dtype: DType): boolean {
  return FLOAT_RANK[dtype] !== undefined;
}

/** Whether converting `from` to `to` can change a value: a float no wider, or any conversion involving integers. */
export function isLossy(from: DType, to: DType): boolean {
  if (from === to) return false;
  const fromRank = FLOAT_RANK[from];
  const toRank = FLOAT_RANK[to];
  return fromRank === undefined || toRank === undefined || toRank <= fromRank;
}

export function transposeTensor(t: HostTensor, perm: readonly number[]): HostTensor {
  const strides = stridesOf(t.shape);
  const shape = perm.map((p) => t.shape[p]);
  const data = allocData(t.dtype, t.data.length);
  copyStrided(
    bytesOf(t),
    bytesOf({ data }),
    byteSize(t.dtype),
    shape,
    perm.map((p) => strides[p]),
    0,
  );
  return { dtype: t.dtype, shape, data };
}

/** The part of `t` at [start, start + size) along `axis`, as a contiguous copy. */
export function sliceTensor(t: HostTensor, axis: number, start: number, size: number): HostTensor {
  const strides = stridesOf(t.shape);
  const shape = t.shape.map((d, i) => (i === axis ? size : d));
  const count = shape.reduce((a, b) => a * b, 1);
  const data = allocData(t.dtype, count);
  copyStrided(bytesOf(t), bytesOf({ data }), byteSize(t.dtype), shape, strides, start * strides[axis]);
  return { dtype: t.dtype, shape, data };
}

export function reshapeTensor(t: HostTensor, shape: readonly number[]): HostTensor {
  return { dtype: t.dtype, shape: [...shape], data: t.data };
}

/**
 * Converts element types as torch does: floats round to nearest even (f64 to f16/bf16 through f32, as
 * c10::Half and c10::BFloat16 do), floats to integers truncate toward zero and wrap, bool is `value != 0`.
 */
export function castTensor(t: HostTensor, to: DType): HostTensor {
  if (t.dtype === to) return t;
  const n = t.data.length;
  const out = allocData(to, n);
  const read = elementReader(t);
  if (to === "i64") {
    const dst = out as BigInt64Array;
    for (let i = 0; i < n; i++) dst[i] = toBigInt(read(i));
  } else if (to === "f16" || to === "bf16") {
    const dst = out as Uint16Array;
    const encode = to === "f16" ? numberToF16Bits : numberToBf16Bits;
    for (let i = 0; i < n; i++) dst[i] = encode(toFloat32(read(i)));
  } else if (to === "f32") {
    const dst = out as Float32Array;
    for (let i = 0; i < n; i++) dst[i] = toFloat32(read(i));
  } else if (to === "bool") {
    const dst = out as Uint8Array;
    for (let i = 0; i < n; i++) {
      const v = read(i);
      dst[i] = v !== 0 && v !== 0n ? 1 : 0;
    }
  } else {
    const dst = out as Float64Array | Int32Array | Int8Array | Uint8Array;
    const wrap = INT_BITS[to];
    for (let i = 0; i < n; i++) {
      const v = read(i);
      // Typed-array stores truncate and wrap numbers; bigints are wrapped first so no precision is lost.
      dst[i] = typeof v === "bigint" ? Number(wrap === undefined ? v : BigInt.asIntN(wrap, v)) : v;
    }
  }
  return { dtype: to, shape: [...t.shape], data: out };
}

const INT_BITS: Partial<Record<DType, number>> = { i32: 32, i8: 8, u8: 8 };

function elementReader(t: HostTensor): (i: number) => number | bigint {
  const data = t.data;
  if (t.dtype === "f16") return (i) => f16BitsToNumber(data[i] as number);
  if (t.dtype === "bf16") return (i) => bf16BitsToNumber(data[i] as number);
  return (i) => data[i];
}

/**
 * Rounds to float32 once, as a C++ static_cast does: Number(bigint) would round to a double first, and that
 * double can land on a float32 tie the integer was not on.
 */
function toFloat32(v: number | bigint): number {
  if (typeof v === "number") return Math.fround(v);
  const magnitude = v < 0n ? -v : v;
  const excess = BigInt(Math.max(0, magnitude.toString(2).length - 24));
  let rounded = magnitude;
  if (excess > 0n) {
    const kept = magnitude >> excess;
    const rest = magnitude - (kept << excess);
    const half = 1n << (excess - 1n);
    rounded = (kept + (rest > half || (rest === half && (kept & 1n) === 1n) ? 1n : 0n)) << excess;
  }
  return Math.fround(Number(v < 0n ? -rounded : rounded));
}

function toBigInt(v: number | bigint): bigint {
  if (typeof v === "bigint") return v;
  return Number.isFinite(v) ? BigInt.asIntN(64, BigInt(Math.trunc(v))) : 0n;
}
