// Matrix products, reductions and normalisations; float sums accumulate in float64.
import { type HostTensor, numel } from "../../../util/tensor.js";
import { BINARY } from "../elementwise-ops.js";
import { binary } from "./elementwise.js";
import { broadcastOffsets, broadcastStatic, stridedOffsets, transpose } from "./layout.js";
import { stridesOf } from "../../../util/tensor.js";
import { fromNumbers, isIntegerType, toNumbers } from "./numeric.js";

type MulAdd<T> = (acc: T, a: T, b: T) => T;

/** Integer multiply-accumulate, wrapping at every step like the hardware would. */
function mulAddFor(x: HostTensor): MulAdd<number> {
  if (x.dtype === "i32") return (acc, a, b) => (acc + Math.imul(a, b)) | 0;
  if (x.dtype === "i8") return (acc, a, b) => ((acc + a * b) << 24) >> 24;
  return (acc, a, b) => (acc + a * b) & 255;
}

function matmulLoop<T>(
  a: ArrayLike<T>,
  b: ArrayLike<T>,
  out: { [i: number]: T },
  zero: T,
  f: MulAdd<T>,
  dims: MatmulDims,
): void {
  const { m, k, n, aBatch, bBatch } = dims;
  for (let bi = 0; bi < aBatch.length; bi++) {
    const ao = aBatch[bi] * m * k;
    const bo = bBatch[bi] * k * n;
    const oo = bi * m * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = zero;
        for (let t = 0; t < k; t++) acc = f(acc, a[ao + i * k + t], b[bo + t * n + j]);
        out[oo + i * n + j] = acc;
      }
  }
}

interface MatmulDims {
  m: number;
  k: number;
  n: number;
  /** Matrix index in a (and b) for each matrix of the broadcast batch. */
  aBatch: Int32Array;
  bBatch: Int32Array;
}

export function matmul(a: HostTensor, b: HostTensor): HostTensor {
  const as = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const bs = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const [m, k, n] = [as[as.length - 2], as[as.length - 1], bs[bs.length - 1]];
  const batch = broadcastStatic(as.slice(0, -2), bs.slice(0, -2));
  const dims = {
    m,
    k,
    n,
    aBatch: broadcastOffsets(as.slice(0, -2), batch),
    bBatch: broadcastOffsets(bs.slice(0, -2), batch),
  };
  const shape = [...batch, ...(a.shape.length === 1 ? [] : [m]), ...(b.shape.length === 1 ? [] : [n])];
  if (a.dtype === "i64") {
    const out = new BigInt64Array(numel(shape));
    matmulLoop(
      a.data as BigInt64Array,
      b.data as BigInt64Array,
      out,
      0n,
      (acc, x, y) => BigInt.asIntN(64, acc + x * y),
      dims,
    );
    return { dtype: "i64", shape, data: out };
  }
  const out = new Float64Array(numel(shape));
  if (isIntegerType(a.dtype)) matmulLoop(toNumbers(a), toNumbers(b), out, 0, mulAddFor(a), dims);
  else matmulFloat(toNumbers(a), toNumbers(b), out, dims);
  return fromNumbers(a.dtype, shape, out);
}

/** The float case, row by row (i, t, j order) so that b and out are read contiguously. */
function matmulFloat(a: Float64Array, b: Float64Array, out: Float64Array, dims: MatmulDims): void {
  const { m, k, n, aBatch, bBatch } = dims;
  for (let bi = 0; bi < aBatch.length; bi++) {
    const ao = aBatch[bi] * m * k;
    const bo = bBatch[bi] * k * n;
    for (let i = 0; i < m; i++) {
      const row = out.subarray((bi * m + i) * n, (bi * m + i + 1) * n);
      for (let t = 0; t < k; t++) {
        const x = a[ao + i * k + t];
        const brow = bo + t * n;
        for (let j = 0; j < n; j++) row[j] += x * b[brow + j];
      }
    }
  }
}

export type ReduceKind = "sum" | "mean" | "max" | "min" | "prod";

/** For each input element, the offset of the output element it reduces into. */
function reduceTargets(shape: readonly number[], axes: ReadonlySet<number>): { outCount: number; targets: Int32Array } {
  const kept = shape.map((d, i) => (axes.has(i) ? 1 : d));
  const ks = stridesOf(kept);
  return {
    outCount: numel(kept),
    targets: stridedOffsets(
      shape,
      ks.map((s, i) => (axes.has(i) ? 0 : s)),
    ),
  };
}

function reducedShape(shape: readonly number[], axes: ReadonlySet<number>, keepdims: boolean): number[] {
  return shape.flatMap((d, i) => (axes.has(i) ? (keepdims ? [1] : []) : [d]));
}

export function reduce(x: HostTensor, kind: ReduceKind, axes: ReadonlySet<number>, keepdims: boolean): HostTensor {
  const shape = reducedShape(x.shape, axes, keepdims);
  const { outCount, targets } = reduceTargets(x.shape, axes);
  const count = numel(x.shape) / Math.max(outCount, 1);
  if (x.dtype === "i64") {
    const v = x.data as BigInt64Array;
    const acc = new BigInt64Array(outCount).fill(kind === "prod" ? 1n : 0n);
    const seen = new Uint8Array(outCount);
    for (let i = 0; i < v.length; i++) {
      const t = targets[i];
      if (kind === "sum" || kind === "mean") acc[t] += v[i];
      else if (kind === "prod") acc[t] *= v[i];
      else if (!seen[t] || (kind === "max" ? v[i] > acc[t] : v[i] < acc[t])) acc[t] = v[i];
      seen[t] = 1;
    }
    if (kind === "mean") acc.forEach((s, i) => (acc[i] = s / BigInt(count)));
    return { dtype: "i64", shape, data: acc };
  }
  const v = toNumbers(x);
  const init = kind === "prod" ? 1 : kind === "max" ? -Infinity : kind === "min" ? Infinity : 0;
  const acc = new Float64Array(outCount).fill(init);
  const step: (a: number, b: number) => number =
    kind === "prod" ? (a, b) => a * b : kind === "max" ? Math.max : kind === "min" ? Math.min : (a, b) => a + b;
  for (let i = 0; i < v.length; i++) acc[targets[i]] = step(acc[targets[i]], v[i]);
  if (kind === "mean") acc.forEach((s, i) => (acc[i] = isIntegerType(x.dtype) ? Math.trunc(s / count) : s / count));
  return fromNumbers(x.dtype, shape, acc);
}

/** Splits a shape around `axis` into [outer, n, inner] element counts. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [numel(shape.slice(0, axis)), shape[axis], numel(shape.slice(axis + 1))];
}

export function argmax(x: HostTensor, axis: number, keepdims: boolean): HostTensor {
  const [outer, n, inner] = around(x.shape, axis);
  const v = x.dtype === "i64" ? (x.data as BigInt64Array) : toNumbers(x);
  const out = new BigInt64Array(outer * inner);
  for (let o = 0; o < outer; o++)
    for (let t = 0; t < inner; t++) {
      let best = 0;
      for (let j = 1; j < n; j++) if (v[(o * n + j) * inner + t] > v[(o * n + best) * inner + t]) best = j;
      out[o * inner + t] = BigInt(best);
    }
  return { dtype: "i64", shape: reducedShape(x.shape, new Set([axis]), keepdims), data: out };
}

export function softmax(x: HostTensor, axis: number): HostTensor {
  const [outer, n, inner] = around(x.shape, axis);
  const v = toNumbers(x);
  const out = new Float64Array(v.length);
  for (let o = 0; o < outer; o++)
    for (let t = 0; t < inner; t++) {
      const at = (j: number) => (o * n + j) * inner + t;
      let max = -Infinity;
      for (let j = 0; j < n; j++) max = Math.max(max, v[at(j)]);
      let sum = 0;
      for (let j = 0; j < n; j++) sum += out[at(j)] = Math.exp(v[at(j)] - max);
      for (let j = 0; j < n; j++) out[at(j)] /= sum;
    }
  return fromNumbers(x.dtype, [...x.shape], out);
}

export function layerNorm(x: HostTensor, axis: number, eps: number, scale?: HostTensor, bias?: HostTensor): HostTensor {
  const m = numel(x.shape.slice(axis));
  const v = toNumbers(x);
  const [s, b] = [scale && toNumbers(scale), bias && toNumbers(bias)];
  const out = new Float64Array(v.length);
  for (let g = 0; g < v.length; g += m) {
    let mean = 0;
    for (let j = 0; j < m; j++) mean += v[g + j];
    mean /= m;
    let vari = 0;
    for (let j = 0; j < m; j++) vari += (v[g + j] - mean) ** 2;
    const inv = 1 / Math.sqrt(vari / m + eps);
    for (let j = 0; j < m; j++) out[g + j] = (v[g + j] - mean) * inv * (s ? s[j] : 1) + (b ? b[j] : 0);
  }
  return fromNumbers(x.dtype, [...x.shape], out);
}

/** (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c], c the index along axis 1. */
export function batchNorm(
  x: HostTensor,
  scale: HostTensor,
  bias: HostTensor,
  mean: HostTensor,
  variance: HostTensor,
  eps: number,
): HostTensor {
  const [s, b, m, v] = [scale, bias, mean, variance].map(toNumbers);
  const channels = x.shape[1];
  const plane = numel(x.shape.slice(2));
  const out = toNumbers(x).map((value, i) => {
    const c = Math.floor(i / plane) % channels;
    return ((value - m[c]) / Math.sqrt(v[c] + eps)) * s[c] + b[c];
  });
  return fromNumbers(x.dtype, [...x.shape], out);
}

/** softmax(q @ k^T * scale + bias) @ v, each step rounded to the element type like the ONNX lowering. */
export function attention(q: HostTensor, k: HostTensor, v: HostTensor, scale: number, bias?: HostTensor): HostTensor {
  const r = k.shape.length;
  const perm = [...Array(r - 2).keys(), r - 1, r - 2];
  let scores = binary(BINARY.mul, matmul(q, transpose(k, perm)), fromNumbers(q.dtype, [], [scale]));
  if (bias) scores = binary(BINARY.add, scores, bias);
  return matmul(softmax(scores, r - 1), v);
}
