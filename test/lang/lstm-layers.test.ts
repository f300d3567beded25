// std/nn.net's LSTM past two layers (its weight names are computed with `named`) against torch.nn.LSTM, from a
// state dict and outputs torch wrote (test/fixtures/lstm, made by tools/make_lstm_fixtures.py): a 3-layer
// bidirectional LSTM and a 4-layer batch-first one.
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { runOnnx } from "../../src/backends/onnx/index.js";
import { compile, interpret } from "../../src/index.js";
import { importWeights, openCheckpoint } from "../../src/weights/index.js";
import { expectClose } from "../helpers/ir.js";
import { npy } from "../helpers/tensors.js";

const FIXTURES = resolve(__dirname, "../fixtures/lstm");
const CHECKPOINT = join(FIXTURES, "lstm.pth");

const SOURCE = `import "std/nn.net"

model M()(x: f32[T, N, 3]) -> (deep: f32[T, N, 10], tall: f32[N, T, 4]) {
  layer deep = LSTM(3, 5, num_layers = 3, bidirectional = true)
  layer tall = LSTM(3, 4, num_layers = 4, batch_first = true)
  return (deep(x), tall(transpose(x, 0, 1)))
}
`;

/** torch.nn.LSTM's state dict keys, in its order, for one module. */
function torchKeys(prefix: string, layers: number, bidirectional: boolean): string[] {
  const keys: string[] = [];
  for (let k = 0; k < layers; k++)
    for (const suffix of bidirectional ? ["", "_reverse"] : [""])
      for (const name of ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
        keys.push(`${prefix}.${name}_l${k}${suffix}`);
  return keys;
}

describe("std LSTM with 3 and 4 layers against torch.nn.LSTM", () => {
  const r = compile(SOURCE, { file: "lstm-layers.net", weights: [CHECKPOINT] });

  it("declares torch's weight names, in torch's order, and maps its state dict strictly", () => {
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(r.graph!.params.map((p) => p.path)).toEqual([...torchKeys("deep", 3, true), ...torchKeys("tall", 4, false)]);
    const shapeOf = (path: string) => r.graph!.params.find((p) => p.path === path)!.shape;
    expect(shapeOf("deep.weight_ih_l0")).toEqual([20, 3]);
    expect(shapeOf("deep.weight_ih_l2_reverse")).toEqual([20, 10]); // the layers above read both directions
    expect(shapeOf("tall.weight_ih_l3")).toEqual([16, 4]);
    const report = r.weightReport!;
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(report.shapeMismatch).toEqual([]);
    expect(report.applied).toHaveLength(40);
  });

  it("gives torch's outputs through onnxruntime and the reference interpreter", async () => {
    const x = npy(join(FIXTURES, "lstm_x.npy"));
    const deep = npy(join(FIXTURES, "lstm_deep_y.npy"));
    const tall = npy(join(FIXTURES, "lstm_tall_y.npy"));
    const got = await runOnnx(r.onnx!, new Map([["x", x]]), { threads: 1 });
    expectClose(got.get("deep")!, deep, 1e-5, "deep");
    expectClose(got.get("tall")!, tall, 1e-5, "tall");
    const ckpt = openCheckpoint(CHECKPOINT);
    const declared = r.graph!.params.map((p) => ({ path: p.path, dtype: p.dtype, shape: p.shape }));
    const { weights } = importWeights(declared, [{ checkpoint: ckpt }]);
    ckpt.close();
    const ref = interpret(r.graph!, new Map([["x", x]]), weights).outputs;
    expectClose(ref.get("deep")!, deep, 1e-5, "interpreted deep");
    expectClose(ref.get("tall")!, tall, 1e-5, "interpreted tall");
  });

  it("rejects zero layers with the block's own message", () => {
    const bad = compile(SOURCE.replace("num_layers = 4", "num_layers = 0"), { file: "lstm-layers.net" });
    expect(bad.diagnostics.map((d) => [d.code, d.message])).toEqual([["NET3008", "an LSTM has at least one layer"]]);
  });
});
