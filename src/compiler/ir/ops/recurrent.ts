// Recurrent ops: one direction of one LSTM layer.
import { type Dim, dimEq, shapeToString } from "../dim.js";
import { fail, isFloat, sameDType, staticDim, type TensorType } from "../infer.js";
import { lstm } from "../interp/recurrent.js";
import type { OpAttrs } from "../ir.js";
import type { OpSpec } from "./row.js";

/**
 * lstm (x [T, N, I], w_ih [4H, I], w_hh [4H, H], then b_ih [4H], b_hh [4H] when `bias`, then optionally h0 and c0
 * [N, H]) -> (y [T, N, H], h_n [N, H], c_n [N, H]).
 */
function inferLstm({ bias }: OpAttrs["lstm"], ins: readonly TensorType[]): TensorType[] {
  const base = bias ? 5 : 3;
  if (ins.length !== base && ins.length !== base + 2)
    fail(
      `lstm ${bias ? "with" : "without"} biases takes ${base} inputs, or ${base + 2} with an initial state (h0, ` +
        `c0), got ${ins.length}`,
    );
  const dtype = sameDType(ins, "lstm");
  if (!isFloat(dtype)) fail(`lstm needs float tensors, got ${dtype}`);
  const [x, wIh, wHh] = ins;
  if (x.shape.length !== 3) fail(`lstm: the input must be [T, N, input_size], got ${shapeToString(x.shape)}`);
  if (wIh.shape.length !== 2 || wHh.shape.length !== 2) fail("lstm: w_ih and w_hh must be matrices");
  const gates = staticDim(wHh.shape[0], "lstm's 4 * hidden_size");
  if (gates % 4 !== 0) fail(`lstm: w_hh has ${gates} rows, not a multiple of 4 (the gates i, f, g, o)`);
  const h = gates / 4;
  const expect = (t: TensorType, shape: Dim[], what: string) => {
    if (t.shape.length !== shape.length || !t.shape.every((d, i) => dimEq(d, shape[i])))
      fail(`lstm: ${what} has shape ${shapeToString(t.shape)}, expected ${shapeToString(shape)}`);
  };
  expect(wHh, [4 * h, h], "w_hh");
  expect(wIh, [4 * h, x.shape[2]], "w_ih");
  if (bias) {
    expect(ins[3], [4 * h], "b_ih");
    expect(ins[4], [4 * h], "b_hh");
  }
  if (ins.length === base + 2) {
    expect(ins[base], [x.shape[1], h], "h0");
    expect(ins[base + 1], [x.shape[1], h], "c0");
  }
  const state = { dtype, shape: [x.shape[1], h] };
  return [{ dtype, shape: [x.shape[0], x.shape[1], h] }, state, state];
}

export const RECURRENT_OPS: { readonly [K in "lstm"]: OpSpec<OpAttrs[K]> } = {
  lstm: {
    doc: "one direction of one layer of torch.nn.LSTM, sequence-first, gates in PyTorch's order i, f, g, o",
    // x, w_ih, w_hh, then b_ih and b_hh when `bias`, then optionally h0 and c0: the rule counts them.
    operands: "rule",
    infer: (attrs, ins) => inferLstm(attrs, ins),
    evaluate: ({ reverse, bias }, ins) => {
      const state = bias ? 5 : 3;
      const [x, wIh, wHh] = ins;
      return lstm(
        {
          x,
          wIh,
          wHh,
          bIh: bias ? ins[3] : undefined,
          bHh: bias ? ins[4] : undefined,
          h0: ins[state],
          c0: ins[state + 1],
        },
        reverse,
      );
    },
    // Every step multiplies the input and the previous h by the 4H gate rows: T * N * 4H * (I + H).
    macs: (_, [x, wIh, wHh], __, size) => size(x.slice(0, 2)) * size(wIh) + size(x.slice(0, 2)) * size(wHh),
  },
};
