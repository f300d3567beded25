// Kernels over [N, C, spatial...] tensors: convolution, pooling and linear resizing, any number of spatial axes.
import { type DType, type HostTensor, numel } from "../../../util/tensor.js";
import { stridesOf } from "../../../util/tensor.js";
import { fromNumbers, toNumbers } from "./numeric.js";

interface Window {
  kernel: readonly number[];
  strides: readonly number[];
  /** [begin..., end...] over the spatial axes. */
  pads: readonly number[];
  dilations: readonly number[];
}

function outputSize(n: number, w: Window, i: number): number {
  const sp = w.kernel.length;
  return Math.floor((n + w.pads[i] + w.pads[i + sp] - w.dilations[i] * (w.kernel[i] - 1) - 1) / w.strides[i]) + 1;
}

/** All index tuples of a shape in row-major order. */
function positions(shape: readonly number[]): number[][] {
  const out: number[][] = [];
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = numel(shape); k > 0; k--) {
    out.push([...idx]);
    for (let d = shape.length - 1; d >= 0 && ++idx[d] === shape[d]; d--) idx[d] = 0;
  }
  return out;
}

/**
 * For every output position, the (tap index, input spatial offset) pairs of the window that fall inside the input.
 * Shared by all batch items and channels.
 */
function windowTaps(spatial: readonly number[], w: Window): { outShape: number[]; taps: [number, number][][] } {
  const outShape = spatial.map((n, i) => outputSize(n, w, i));
  const strides = stridesOf(spatial);
  const kernelPositions = positions(w.kernel);
  const taps = positions(outShape).map((o) => {
    const inside: [number, number][] = [];
    kernelPositions.forEach((t, ti) => {
      let off = 0;
      for (let d = 0; d < spatial.length; d++) {
        const p = o[d] * w.strides[d] - w.pads[d] + t[d] * w.dilations[d];
        if (p < 0 || p >= spatial[d]) return;
        off += p * strides[d];
      }
      inside.push([ti, off]);
    });
    return inside;
  });
  return { outShape, taps };
}

export interface ConvAttrs {
  strides: number[];
  pads: number[];
  dilations: number[];
  groups: number;
}

export function conv(x: HostTensor, w: HostTensor, bias: HostTensor | undefined, a: ConvAttrs): HostTensor {
  const [batch, cin, ...spatial] = x.shape;
  const [cout, cpg, ...kernel] = w.shape;
  const { outShape, taps } = windowTaps(spatial, { kernel, ...a });
  const [xv, wv, bv] = [toNumbers(x), toNumbers(w), bias && toNumbers(bias)];
  const [inPlane, outPlane, kSize] = [numel(spatial), numel(outShape), numel(kernel)];
  const outPerGroup = cout / a.groups;
  const out = new Float64Array(batch * cout * outPlane);
  for (let n = 0; n < batch; n++)
    for (let m = 0; m < cout; m++) {
      const g = Math.floor(m / outPerGroup);
      for (let p = 0; p < outPlane; p++) {
        let acc = bv ? bv[m] : 0;
        for (let c = 0; c < cpg; c++) {
          const xo = (n * cin + g * cpg + c) * inPlane;
          const wo = (m * cpg + c) * kSize;
          for (const [ti, off] of taps[p]) acc += xv[xo + off] * wv[wo + ti];
        }
        out[(n * cout + m) * outPlane + p] = acc;
      }
    }
  return fromNumbers(x.dtype, [batch, cout, ...outShape], out);
}

export interface PoolAttrs {
  kernel: number[];
  strides: number[];
  pads: number[];
}

function pool(x: HostTensor, a: PoolAttrs, combine: (values: number[], windowSize: number) => number): HostTensor {
  const [batch, channels, ...spatial] = x.shape;
  const { outShape, taps } = windowTaps(spatial, { ...a, dilations: a.kernel.map(() => 1) });
  const xv = toNumbers(x);
  const [inPlane, outPlane, kSize] = [numel(spatial), numel(outShape), numel(a.kernel)];
  const out = new Float64Array(batch * channels * outPlane);
  for (let nc = 0; nc < batch * channels; nc++)
    for (let p = 0; p < outPlane; p++)
      out[nc * outPlane + p] = combine(
        taps[p].map(([, off]) => xv[nc * inPlane + off]),
        kSize,
      );
  return fromNumbers(x.dtype, [batch, channels, ...outShape], out);
}

export function maxPool(x: HostTensor, a: PoolAttrs): HostTensor {
  return pool(x, a, (vs) => Math.max(...vs));
}

export function avgPool(x: HostTensor, a: PoolAttrs & { countIncludePad: boolean }): HostTensor {
  return pool(x, a, (vs, size) => vs.reduce((s, v) => s + v, 0) / (a.countIncludePad ? size : vs.length));
}

/** Where each output index of one resized axis reads: two source indices and their weights (see semantics.md). */
export interface ResizeTaps {
  i0: number[];
  i1: number[];
  w0: number[];
  w1: number[];
}

/**
 * The taps of a linear resize of one axis from `n` to `m`. The scale is rounded to the element type's precision
 * (f64 stays exact, every other float type rounds to f32), as PyTorch's kernels compute it; the rest is exact.
 */
export function resizeTaps(n: number, m: number, alignCorners: boolean, dtype: DType): ResizeTaps {
  const round = dtype === "f64" ? (v: number) => v : Math.fround;
  const taps: ResizeTaps = { i0: [], i1: [], w0: [], w1: [] };
  const scale = round(alignCorners ? (m > 1 ? (n - 1) / (m - 1) : 0) : n / m);
  for (let j = 0; j < m; j++) {
    const src = alignCorners ? scale * j : Math.max(0, scale * (j + 0.5) - 0.5);
    const i0 = Math.min(Math.floor(src), n - 1);
    const f = src - i0;
    taps.i0.push(i0);
    taps.i1.push(Math.min(i0 + 1, n - 1));
    taps.w0.push(1 - f);
    taps.w1.push(f);
  }
  return taps;
}

/** Linear resampling of one axis of a float64 buffer laid out as [outer, n, inner] into [outer, m, inner]. */
function resizeAxis(v: Float64Array, outer: number, n: number, inner: number, taps: ResizeTaps): Float64Array {
  const m = taps.i0.length;
  const out = new Float64Array(outer * m * inner);
  for (let j = 0; j < m; j++) {
    const [w0, w1] = [taps.w0[j], taps.w1[j]];
    for (let o = 0; o < outer; o++) {
      const a = (o * n + taps.i0[j]) * inner;
      const b = (o * n + taps.i1[j]) * inner;
      const y = (o * m + j) * inner;
      for (let t = 0; t < inner; t++) out[y + t] = w0 * v[a + t] + w1 * v[b + t];
    }
  }
  return out;
}

/** Linear (bi-, trilinear) resize of the spatial axes: separable, one axis after the other. */
export function resizeLinear(x: HostTensor, sizes: readonly number[], alignCorners: boolean): HostTensor {
  const shape = [...x.shape];
  let v = toNumbers(x);
  sizes.forEach((m, i) => {
    const axis = 2 + i;
    const taps = resizeTaps(shape[axis], m, alignCorners, x.dtype);
    v = resizeAxis(v, numel(shape.slice(0, axis)), shape[axis], numel(shape.slice(axis + 1)), taps);
    shape[axis] = m;
  });
  return fromNumbers(x.dtype, shape, v);
}
