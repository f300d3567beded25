// Elementwise kernels (unary, binary, where, cast, clip). Floats and narrow integers compute as float64 numbers;
// i64 computes as BigInt.
import { allocData, type DType, type HostTensor } from "../../../util/tensor.js";
import type { OpAttrs, OpName } from "../ir.js";
import { broadcastOffsets, broadcastStatic } from "./layout.js";
import { fromNumbers, isIntegerType, KernelError, scalarOf, toBigInts, toNumbers, truncToInt } from "./numeric.js";

export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  const a = Math.abs(x);
  if (a > 6) return Math.sign(x);
  // erf(a) = 2/sqrt(pi) e^{-a^2} Σ 2^n a^{2n+1} / (1·3···(2n+1)): positive terms, so no cancellation.
  let term = a;
  let sum = a;
  for (let n = 1; term > sum * 1e-17; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum;
}

function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

const UNARY: Partial<Record<OpName, (x: number) => number>> = {
  neg: (x) => -x,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  reciprocal: (x) => 1 / x,
  tanh: Math.tanh,
  sigmoid,
  erf,
  gelu,
  relu: (x) => (x < 0 ? 0 : x),
  floor: Math.floor,
  ceil: Math.ceil,
  sin: Math.sin,
  cos: Math.cos,
  not: (x) => (x === 0 ? 1 : 0),
};

const UNARY_I64: Partial<Record<OpName, (x: bigint) => bigint>> = {
  neg: (x) => -x,
  abs: (x) => (x < 0n ? -x : x),
  relu: (x) => (x < 0n ? 0n : x),
};

export function unary(op: OpName, x: HostTensor, attrs?: OpAttrs["gelu"]): HostTensor {
  if (x.dtype === "i64") {
    const f = UNARY_I64[op]!;
    const out = new BigInt64Array(x.data.length);
    (x.data as BigInt64Array).forEach((v, i) => (out[i] = f(v)));
    return { dtype: "i64", shape: [...x.shape], data: out };
  }
  const f = op === "gelu" && attrs?.approximate === "tanh" ? geluTanh : UNARY[op]!;
  return fromNumbers(x.dtype, [...x.shape], toNumbers(x).map(f));
}

/** C `pow`, which JS's Math.pow differs from at base 1 and at (-1)^±inf. */
function powFloat(a: number, b: number): number {
  if (a === 1 || (a === -1 && Math.abs(b) === Infinity)) return 1;
  return Math.pow(a, b);
}

function intMul(dtype: DType): (a: number, b: number) => number {
  if (dtype === "i32") return Math.imul;
  if (dtype === "i8") return (a, b) => ((a * b) << 24) >> 24;
  return (a, b) => (a * b) & 255;
}

function negativePower(a: number | bigint, b: number | bigint): number {
  if (a == 1) return 1;
  if (a == -1) return BigInt(b) % 2n === 0n ? 1 : -1;
  if (a == 0) throw new KernelError("pow: zero to a negative integer power");
  return 0;
}

function powInt(dtype: DType): (a: number, b: number) => number {
  const mul = intMul(dtype);
  return (a, b) => {
    if (b < 0) return negativePower(a, b);
    let r = 1;
    for (let base = a, e = b; e > 0; e = Math.floor(e / 2), base = mul(base, base)) if (e % 2 === 1) r = mul(r, base);
    return r;
  };
}

function powI64(a: bigint, b: bigint): bigint {
  if (b < 0n) return BigInt(negativePower(a, b));
  let r = 1n;
  for (let base = a, e = b; e > 0n; e >>= 1n, base = BigInt.asIntN(64, base * base)) if (e & 1n) r = BigInt.asIntN(64, r * base);
  return r;
}

function divInt(a: number, b: number): number {
  if (b === 0) throw new KernelError("integer division by zero");
  return Math.trunc(a / b);
}

const COMPARE: Partial<Record<OpName, (a: number | bigint, b: number | bigint) => boolean>> = {
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
  eq: (a, b) => a === b,
};

function numberOp(op: OpName, dtype: DType): (a: number, b: number) => number {
  const int = isIntegerType(dtype);
  switch (op) {
    case "add":
      return (a, b) => a + b;
    case "sub":
      return (a, b) => a - b;
    case "mul":
      return int ? intMul(dtype) : (a, b) => a * b;
    case "div":
      return int ? divInt : (a, b) => a / b;
    case "pow":
      return int ? powInt(dtype) : powFloat;
    case "maximum":
      return Math.max;
    case "minimum":
      return Math.min;
    case "prelu":
      return (a, b) => (a < 0 ? a * b : a);
    case "and":
      return (a, b) => (a !== 0 && b !== 0 ? 1 : 0);
    case "or":
      return (a, b) => (a !== 0 || b !== 0 ? 1 : 0);
  }
  const cmp = COMPARE[op]!;
  return (a, b) => (cmp(a, b) ? 1 : 0);
}

function bigintOp(op: OpName): (a: bigint, b: bigint) => bigint {
  switch (op) {
    case "add":
      return (a, b) => a + b;
    case "sub":
      return (a, b) => a - b;
    case "mul":
      return (a, b) => a * b;
    case "div":
      return (a, b) => {
        if (b === 0n) throw new KernelError("integer division by zero");
        return a / b;
      };
    case "pow":
      return powI64;
    case "maximum":
      return (a, b) => (a > b ? a : b);
    case "minimum":
      return (a, b) => (a < b ? a : b);
  }
  const cmp = COMPARE[op]!;
  return (a, b) => (cmp(a, b) ? 1n : 0n);
}

export function binary(op: OpName, a: HostTensor, b: HostTensor, outType: DType): HostTensor {
  const shape = broadcastStatic(a.shape, b.shape);
  const ia = broadcastOffsets(a.shape, shape);
  const ib = broadcastOffsets(b.shape, shape);
  if (a.dtype === "i64") {
    const f = bigintOp(op);
    const [x, y] = [a.data as BigInt64Array, b.data as BigInt64Array];
    const r = new BigInt64Array(ia.length);
    for (let i = 0; i < r.length; i++) r[i] = f(x[ia[i]], y[ib[i]]); // BigInt64Array stores wrap modulo 2^64
    return outType === "i64" ? { dtype: "i64", shape, data: r } : fromNumbers(outType, shape, Array.from(r, Number));
  }
  const f = numberOp(op, a.dtype);
  const [x, y] = [toNumbers(a), toNumbers(b)];
  const r = new Float64Array(ia.length);
  for (let i = 0; i < r.length; i++) r[i] = f(x[ia[i]], y[ib[i]]);
  return fromNumbers(outType, shape, r);
}

export function where(cond: HostTensor, a: HostTensor, b: HostTensor): HostTensor {
  const shape = broadcastStatic(cond.shape, a.shape, b.shape);
  const [ic, ia, ib] = [cond, a, b].map((t) => broadcastOffsets(t.shape, shape));
  const data = allocData(a.dtype, ic.length);
  const dst = data as unknown as { [i: number]: unknown };
  const [x, y] = [a.data as unknown as ArrayLike<unknown>, b.data as unknown as ArrayLike<unknown>];
  for (let i = 0; i < ic.length; i++) dst[i] = cond.data[ic[i]] ? x[ia[i]] : y[ib[i]];
  return { dtype: a.dtype, shape, data };
}

const INT_BITS: Partial<Record<DType, [number, boolean]>> = { i32: [32, true], i8: [8, true], u8: [8, false] };

export function cast(x: HostTensor, to: DType): HostTensor {
  const shape = [...x.shape];
  if (to === x.dtype) return { dtype: to, shape, data: x.data.slice() };
  if (to === "bool" || !isIntegerType(to) || x.dtype === "bool") return fromNumbers(to, shape, toNumbers(x));
  if (x.dtype === "i64") {
    const [bits, signed] = INT_BITS[to]!;
    const wrap = signed ? (v: bigint) => BigInt.asIntN(bits, v) : (v: bigint) => BigInt.asUintN(bits, v);
    return fromNumbers(to, shape, Array.from(x.data as BigInt64Array, (v) => Number(wrap(v))));
  }
  if (isIntegerType(x.dtype)) {
    if (to === "i64") return { dtype: to, shape, data: toBigInts(x) };
    return fromNumbers(to, shape, toNumbers(x)); // typed-array stores wrap modulo 2^bits
  }
  return fromNumbers(to, shape, Array.from(toNumbers(x), (v) => truncToInt(v, to)));
}

export function clip(x: HostTensor, min: number | undefined, max: number | undefined): HostTensor {
  const shape = [...x.shape];
  if (x.dtype === "i64") {
    const bound = (v: number | undefined) => (v === undefined ? undefined : (scalarOf("i64", v).data[0] as bigint));
    return { dtype: "i64", shape, data: (x.data as BigInt64Array).map(clamp(bound(min), bound(max))) };
  }
  const bound = (v: number | undefined) => (v === undefined ? undefined : toNumbers(scalarOf(x.dtype, v))[0]);
  return fromNumbers(x.dtype, shape, toNumbers(x).map(clamp(bound(min), bound(max))));
}

/** max(v, lo) then min(., hi), leaving NaN alone. */
function clamp<T extends number | bigint>(lo: T | undefined, hi: T | undefined): (v: T) => T {
  return (v) => {
    let r = v;
    if (lo !== undefined && r < lo) r = lo;
    if (hi !== undefined && r > hi) r = hi;
    return r;
  };
}
