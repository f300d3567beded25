// The lstm core op as one ONNX LSTM node.
//
// The IR keeps PyTorch's layout (gate blocks i, f, g, o; separate b_ih and b_hh) so checkpoints load unchanged;
// ONNX wants the blocks in the order i, o, f, c and both biases in one B = [Wb, Rb]. The weights are reordered here
// with Slice + Concat. On initializers onnxruntime folds those away when the session is created, so the model runs
// exactly one LSTM kernel.
import type { Dim } from "../../compiler/ir/dim.js";
import type { TensorType } from "../../compiler/ir/infer.js";
import type { NodeEmitter } from "./context.js";
import { attr } from "./proto.js";

/** PyTorch's gate blocks (i, f, g, o) in ONNX's order (i, o, f, c). */
const ONNX_GATE_ORDER = [0, 3, 1, 2];

/** Reorders the four gate blocks of `name` ([4H, ...]) along axis 0, from PyTorch's order to ONNX's. */
function reorderGates(e: NodeEmitter, name: string, t: TensorType, hidden: number, tag: string): string {
  const rest = t.shape.slice(1);
  const block = { dtype: t.dtype, shape: [hidden, ...rest] };
  const blocks = ONNX_GATE_ORDER.map((g) =>
    e.apply(
      "Slice",
      [name, e.i64s([g * hidden], "start"), e.i64s([(g + 1) * hidden], "end"), e.i64s([0], "axis0")],
      block,
      [],
      `${tag}_gate${g}`,
    ),
  );
  return e.apply(
    "Concat",
    blocks,
    { dtype: t.dtype, shape: [4 * hidden, ...rest] },
    [attr.int("axis", 0)],
    `${tag}_iofc`,
  );
}

/** Adds the leading num_directions axis (of 1) that ONNX's LSTM inputs have. */
function withDirections(e: NodeEmitter, name: string, t: TensorType, tag: string): string {
  return e.apply("Unsqueeze", [name, e.i64s([0], "axis0")], { dtype: t.dtype, shape: [1, ...t.shape] }, [], tag);
}

export function lowerLstm(e: NodeEmitter<"lstm">): void {
  const { reverse, bias } = e.node.attrs;
  const [x, wIh, wHh] = e.node.inputs;
  const hidden = (wHh.shape[0] as number) / 4;
  const [steps, batch] = x.shape;
  const dtype = x.dtype;
  const w = withDirections(
    e,
    reorderGates(e, e.inputs[1], wIh, hidden, "W"),
    { dtype, shape: [4 * hidden, wIh.shape[1]] },
    "W",
  );
  const r = withDirections(
    e,
    reorderGates(e, e.inputs[2], wHh, hidden, "R"),
    { dtype, shape: [4 * hidden, hidden] },
    "R",
  );
  let b = "";
  if (bias) {
    const vec = { dtype, shape: [4 * hidden] };
    const both = e.apply(
      "Concat",
      [reorderGates(e, e.inputs[3], vec, hidden, "Wb"), reorderGates(e, e.inputs[4], vec, hidden, "Rb")],
      { dtype, shape: [8 * hidden] },
      [attr.int("axis", 0)],
      "B",
    );
    b = withDirections(e, both, { dtype, shape: [8 * hidden] }, "B");
  }
  const stateAt = bias ? 5 : 3;
  const state: TensorType = { dtype, shape: [batch, hidden] };
  const initial =
    e.inputs.length > stateAt
      ? [
          withDirections(e, e.inputs[stateAt], state, "initial_h"),
          withDirections(e, e.inputs[stateAt + 1], state, "initial_c"),
        ]
      : [];
  const yShape: Dim[] = [steps, 1, batch, hidden];
  const y = e.temp("Y", { dtype, shape: yShape });
  const yh = e.temp("Y_h", { dtype, shape: [1, batch, hidden] });
  const yc = e.temp("Y_c", { dtype, shape: [1, batch, hidden] });
  // Optional inputs: B, sequence_lens (never), initial_h, initial_c; absent ones are "" unless at the end.
  const inputs = [e.inputs[0], w, r, b, "", ...initial];
  while (inputs[inputs.length - 1] === "") inputs.pop();
  e.emit(
    "LSTM",
    inputs,
    [y, yh, yc],
    [attr.int("hidden_size", hidden), attr.string("direction", reverse ? "reverse" : "forward")],
  );
  e.emit("Squeeze", [y, e.i64s([1], "axis1")], [e.out(0)]);
  e.emit("Squeeze", [yh, e.i64s([0], "axis0")], [e.out(1)]);
  e.emit("Squeeze", [yc, e.i64s([0], "axis0")], [e.out(2)]);
}
