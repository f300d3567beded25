// Recurrent kernels: one direction of one LSTM layer, exactly as semantics.md defines it (gates i, f, g, o).
// The state is carried in float64 and every output is rounded once to the element type.
import type { HostTensor } from "../../../util/tensor.js";
import { fromNumbers, toNumbers } from "./numeric.js";

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export interface LstmInputs {
  x: HostTensor;
  wIh: HostTensor;
  wHh: HostTensor;
  bIh?: HostTensor;
  bHh?: HostTensor;
  h0?: HostTensor;
  c0?: HostTensor;
}

export function lstm({ x, wIh, wHh, bIh, bHh, h0, c0 }: LstmInputs, reverse: boolean): HostTensor[] {
  const [steps, n, inSize] = x.shape;
  const hid = wHh.shape[1];
  const g4 = 4 * hid;
  const xs = toNumbers(x);
  const wi = toNumbers(wIh);
  const wh = toNumbers(wHh);
  const bias = new Float64Array(g4);
  if (bIh && bHh) {
    const [bi, bh] = [toNumbers(bIh), toNumbers(bHh)];
    for (let r = 0; r < g4; r++) bias[r] = bi[r] + bh[r];
  }
  const h = h0 ? toNumbers(h0) : new Float64Array(n * hid);
  const c = c0 ? toNumbers(c0) : new Float64Array(n * hid);
  const y = new Float64Array(steps * n * hid);
  const z = new Float64Array(g4);
  for (let s = 0; s < steps; s++) {
    const t = reverse ? steps - 1 - s : s;
    for (let b = 0; b < n; b++) {
      const xo = (t * n + b) * inSize;
      const ho = b * hid;
      for (let r = 0; r < g4; r++) {
        let acc = bias[r];
        for (let k = 0; k < inSize; k++) acc += xs[xo + k] * wi[r * inSize + k];
        for (let k = 0; k < hid; k++) acc += h[ho + k] * wh[r * hid + k];
        z[r] = acc;
      }
      for (let j = 0; j < hid; j++) {
        const i = sigmoid(z[j]);
        const f = sigmoid(z[hid + j]);
        const g = Math.tanh(z[2 * hid + j]);
        const o = sigmoid(z[3 * hid + j]);
        c[ho + j] = f * c[ho + j] + i * g;
        h[ho + j] = o * Math.tanh(c[ho + j]);
        y[(t * n + b) * hid + j] = h[ho + j];
      }
    }
  }
  return [
    fromNumbers(x.dtype, [steps, n, hid], y),
    fromNumbers(x.dtype, [n, hid], h),
    fromNumbers(x.dtype, [n, hid], c),
  ];
}
