// Data-dependent selection: top-k and linear sampling along one axis.
import { type HostTensor, numel } from "../../../util/tensor.js";
import { fromNumbers, KernelError, takeData, toNumbers } from "./numeric.js";

/** Orders by value (NaN above everything), ties by the lower index. */
function topkOrder(v: ArrayLike<number | bigint>, largest: boolean): (i: number, j: number) => number {
  const rank = (x: number | bigint) => (typeof x === "number" && Number.isNaN(x) ? 1 : 0);
  return (i, j) => {
    const [a, b] = [v[i], v[j]];
    const byNaN = rank(a) - rank(b);
    const cmp = byNaN !== 0 ? byNaN : a < b ? -1 : a > b ? 1 : 0;
    return (largest ? -cmp : cmp) || i - j;
  };
}

export function topk(x: HostTensor, axis: number, k: number, largest: boolean): [HostTensor, HostTensor] {
  const n = x.shape[axis];
  const outer = numel(x.shape.slice(0, axis));
  const inner = numel(x.shape.slice(axis + 1));
  const v = x.dtype === "i64" ? (x.data as BigInt64Array) : toNumbers(x);
  const shape = [...x.shape];
  shape[axis] = k;
  const map = new Int32Array(numel(shape));
  const indices = new BigInt64Array(map.length);
  const cmp = topkOrder(v, largest);
  for (let o = 0; o < outer; o++)
    for (let t = 0; t < inner; t++) {
      const at = (j: number) => (o * n + j) * inner + t;
      const order = [...Array(n).keys()].sort((i, j) => cmp(at(i), at(j))).slice(0, k);
      order.forEach((j, r) => {
        map[(o * k + r) * inner + t] = at(j);
        indices[(o * k + r) * inner + t] = BigInt(j);
      });
    }
  return [
    { dtype: x.dtype, shape, data: takeData(x.data, map) },
    { dtype: "i64", shape: [...shape], data: indices },
  ];
}

/** Linear interpolation along `axis` at clamped fractional positions (see semantics.md). */
export function sampleLinear(x: HostTensor, pos: HostTensor, axis: number): HostTensor {
  const n = x.shape[axis];
  const lead = x.shape.slice(0, axis);
  const inner = numel(x.shape.slice(axis + 1));
  const kCount = pos.shape[axis];
  const xv = toNumbers(x);
  const pv = toNumbers(pos);
  const shape = [...x.shape];
  shape[axis] = kCount;
  const out = new Float64Array(numel(shape));
  // Walk the leading index l, tracking the matching position row (0 where pos has a 1 there).
  const idx = new Array<number>(lead.length).fill(0);
  for (let l = 0; l < numel(lead); l++) {
    let prow = 0;
    for (let d = 0; d < lead.length; d++) prow = prow * pos.shape[d] + (pos.shape[d] === 1 ? 0 : idx[d]);
    for (let k = 0; k < kCount; k++) {
      const raw = pv[prow * kCount + k];
      if (Number.isNaN(raw)) throw new KernelError("sample_linear: a sampling position is NaN");
      const p = Math.min(Math.max(raw, 0), n - 1);
      const i0 = Math.floor(p);
      const f = p - i0;
      const i1 = Math.min(i0 + 1, n - 1);
      for (let t = 0; t < inner; t++)
        out[(l * kCount + k) * inner + t] = (1 - f) * xv[(l * n + i0) * inner + t] + f * xv[(l * n + i1) * inner + t];
    }
    for (let d = lead.length - 1; d >= 0 && ++idx[d] === lead[d]; d--) idx[d] = 0;
  }
  return fromNumbers(x.dtype, shape, out);
}
