// Elementwise kernels (unary and binary ops by their registry rows, where, cast, clip). Floats and narrow integers
// compute as float64 numbers; i64 computes as BigInt.
import { allocData, type DType, type HostTensor } from "../../../util/tensor.js";
import type { BinaryRow, UnaryRow } from "../elementwise-ops.js";
import { broadcastOffsets, broadcastStatic } from "./layout.js";
import { fromNumbers, isIntegerType, scalarOf, toBigInts, toNumbers, truncToInt } from "./numeric.js";

/** A unary elementwise op (see ../elementwise-ops.ts) on a host tensor. */
export function unary<A>(row: UnaryRow<A>, x: HostTensor, attrs: A): HostTensor {
  if (x.dtype === "i64") {
    if (row.domain !== "numeric") throw new Error("a float or bool op met an i64 tensor (the type rule forbids it)");
    const out = new BigInt64Array(x.data.length);
    (x.data as BigInt64Array).forEach((v, i) => (out[i] = row.i64(v)));
    return { dtype: "i64", shape: [...x.shape], data: out };
  }
  return fromNumbers(
    x.dtype,
    [...x.shape],
    toNumbers(x).map((v) => row.f64(v, attrs)),
  );
}

/** A binary elementwise op with numpy broadcasting. */
export function binary(row: BinaryRow, a: HostTensor, b: HostTensor): HostTensor {
  const outType = row.result === "bool" ? "bool" : a.dtype;
  const shape = broadcastStatic(a.shape, b.shape);
  const ia = broadcastOffsets(a.shape, shape);
  const ib = broadcastOffsets(b.shape, shape);
  if (a.dtype === "i64") {
    const f = row.i64;
    if (!f) throw new Error("an op without i64 semantics met i64 operands (the type rule forbids it)");
    const [x, y] = [a.data as BigInt64Array, b.data as BigInt64Array];
    const r = new BigInt64Array(ia.length);
    for (let i = 0; i < r.length; i++) r[i] = f(x[ia[i]], y[ib[i]]); // BigInt64Array stores wrap modulo 2^64
    return outType === "i64" ? { dtype: "i64", shape, data: r } : fromNumbers(outType, shape, Array.from(r, Number));
  }
  const f = row.f64(a.dtype);
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
    return fromNumbers(
      to,
      shape,
      Array.from(x.data as BigInt64Array, (v) => Number(wrap(v))),
    );
  }
  if (isIntegerType(x.dtype)) {
    if (to === "i64") return { dtype: to, shape, data: toBigInts(x) };
    return fromNumbers(to, shape, toNumbers(x)); // typed-array stores wrap modulo 2^bits
  }
  return fromNumbers(
    to,
    shape,
    Array.from(toNumbers(x), (v) => truncToInt(v, to)),
  );
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
