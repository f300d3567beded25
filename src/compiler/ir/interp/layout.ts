// Layout kernels: they move elements without looking at them, so they work on the raw data of any element type.
import { allocData, type HostTensor, numel, stridesOf } from "../../../util/tensor.js";
import { KernelError, takeData } from "./numeric.js";

/** For each position of `shape` in row-major order, `base + Σ index[d] * strides[d]`. */
export function stridedOffsets(shape: readonly number[], strides: readonly number[], base = 0): Int32Array {
  const r = shape.length;
  const n = numel(shape);
  const out = new Int32Array(n);
  const idx = new Array<number>(r).fill(0);
  let off = base;
  for (let k = 0; k < n; k++) {
    out[k] = off;
    for (let d = r - 1; d >= 0; d--) {
      idx[d]++;
      off += strides[d];
      if (idx[d] < shape[d]) break;
      off -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** Offsets into a tensor of shape `from` for every position of the broadcast shape `to`. */
export function broadcastOffsets(from: readonly number[], to: readonly number[]): Int32Array {
  const fs = stridesOf(from);
  const lead = to.length - from.length;
  const st = to.map((_, i) => (i < lead || from[i - lead] === 1 ? 0 : fs[i - lead]));
  return stridedOffsets(to, st);
}

/** numpy broadcasting of static shapes (inference has already checked that they broadcast). */
export function broadcastStatic(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) for (let i = 0; i < s.length; i++) if (s[i] !== 1) out[rank - s.length + i] = s[i];
  return out;
}

export function transpose(x: HostTensor, perm: readonly number[]): HostTensor {
  const xs = stridesOf(x.shape);
  const shape = perm.map((p) => x.shape[p]);
  return {
    dtype: x.dtype,
    shape,
    data: takeData(
      x.data,
      stridedOffsets(
        shape,
        perm.map((p) => xs[p]),
      ),
    ),
  };
}

export function reshape(x: HostTensor, shape: number[]): HostTensor {
  return { dtype: x.dtype, shape, data: x.data };
}

export function expand(x: HostTensor, shape: number[]): HostTensor {
  return { dtype: x.dtype, shape, data: takeData(x.data, broadcastOffsets(x.shape, shape)) };
}

export function slice(x: HostTensor, axis: number, start: number, end: number, step: number): HostTensor {
  const xs = stridesOf(x.shape);
  const shape = [...x.shape];
  shape[axis] = Math.ceil((end - start) / step);
  const st = xs.map((s, i) => (i === axis ? s * step : s));
  return { dtype: x.dtype, shape, data: takeData(x.data, stridedOffsets(shape, st, start * xs[axis])) };
}

export function concat(xs: HostTensor[], axis: number): HostTensor {
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((acc, t) => acc + t.shape[axis], 0);
  const outer = numel(shape.slice(0, axis));
  const inner = numel(shape.slice(axis + 1));
  // For each output element: which input, and the offset in it.
  const src = new Int32Array(numel(shape));
  const off = new Int32Array(src.length);
  let k = 0;
  for (let o = 0; o < outer; o++)
    xs.forEach((t, which) => {
      const block = t.shape[axis] * inner;
      for (let j = 0; j < block; j++, k++) {
        src[k] = which;
        off[k] = o * block + j;
      }
    });
  const data = allocData(xs[0].dtype, src.length);
  const dst = data as unknown as { [i: number]: unknown };
  const ins = xs.map((t) => t.data as unknown as ArrayLike<unknown>);
  for (let i = 0; i < src.length; i++) dst[i] = ins[src[i]][off[i]];
  return { dtype: xs[0].dtype, shape, data };
}

/** Constant padding; `fill` is a scalar tensor of x's type. */
export function pad(x: HostTensor, pads: readonly number[], fill: HostTensor): HostTensor {
  const r = x.shape.length;
  const shape = x.shape.map((d, i) => d + pads[i] + pads[i + r]);
  const os = stridesOf(shape);
  const base = os.reduce((acc, s, i) => acc + s * pads[i], 0);
  const map = stridedOffsets(x.shape, os, base);
  const data = allocData(x.dtype, numel(shape));
  const dst = data as unknown as { [i: number]: unknown };
  const src = x.data as unknown as ArrayLike<unknown>;
  const v = fill.data[0];
  for (let i = 0; i < data.length; i++) dst[i] = v;
  for (let i = 0; i < map.length; i++) dst[map[i]] = src[i];
  return { dtype: x.dtype, shape, data };
}

/** Resolves a possibly negative index along an axis of size n. */
export function checkedIndex(i: bigint, n: number, what: string): number {
  const v = Number(i);
  const j = v < 0 ? v + n : v;
  if (!(j >= 0 && j < n)) throw new KernelError(`${what}: index ${i} is out of range for an axis of size ${n}`);
  return j;
}

export function gather(x: HostTensor, idx: HostTensor, axis: number): HostTensor {
  const n = x.shape[axis];
  const outer = numel(x.shape.slice(0, axis));
  const inner = numel(x.shape.slice(axis + 1));
  const ids = Array.from(idx.data as BigInt64Array, (i) => checkedIndex(i, n, "gather"));
  const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
  const map = new Int32Array(numel(shape));
  let k = 0;
  for (let o = 0; o < outer; o++)
    for (const j of ids) for (let t = 0; t < inner; t++) map[k++] = (o * n + j) * inner + t;
  return { dtype: x.dtype, shape, data: takeData(x.data, map) };
}

export function gatherElements(x: HostTensor, idx: HostTensor, axis: number): HostTensor {
  const xs = stridesOf(x.shape);
  const n = x.shape[axis];
  const map = stridedOffsets(
    idx.shape,
    xs.map((s, i) => (i === axis ? 0 : s)),
  );
  const ids = idx.data as BigInt64Array;
  for (let i = 0; i < map.length; i++) map[i] += checkedIndex(ids[i], n, "gather_elements") * xs[axis];
  return { dtype: x.dtype, shape: [...idx.shape], data: takeData(x.data, map) };
}
