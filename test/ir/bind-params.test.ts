// One parameter-binding step (src/compiler/ir/bind-params.ts) for the ONNX and WGSL back ends and the reference
// interpreter: the same checkpoint tensors and seed give every parameter the same value in all three, and a bad
// binding is the same diagnostic from all three.
import { describe, expect, it } from "vitest";
import { emitOnnx } from "../../src/backends/onnx/emit.js";
import { runOnnx } from "../../src/backends/onnx/run.js";
import { compileWgsl } from "../../src/backends/wgsl/index.js";
import { bindParams, paramsReadBy } from "../../src/compiler/ir/bind-params.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { DiagnosticError } from "../../src/diagnostics/diagnostics.js";
import { compileToGraph } from "../../src/driver.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { random } from "../helpers/ir.js";
import { maxAbsDiff } from "../wgsl/helpers.js";

// fc.weight comes from the "checkpoint", fc.bias is drawn from the seed, norm.* have defaults in std/nn.net.
const SOURCE = `import "std/nn.net"
model M()(x: f32[2, 4]) -> (y: f32[2, 3, 1]) {
  layer fc = Linear(4, 3)
  layer norm = BatchNorm(3)
  let y = norm(unsqueeze(fc(x), 2))
  return y
}
`;
const SEED = 5;
const graph = () => {
  const front = compileToGraph(SOURCE, { file: "m.net" });
  expect(front.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return front.graph!;
};
const checkpoint = new Map([["fc.weight", random("f32", [3, 4], 11)]]);
const inputs = new Map([["x", random("f32", [2, 4], 12)]]);

const codesOf = (run: () => unknown) => {
  try {
    run();
    return [];
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    return e.diagnostics.map((d) => [d.code, d.message]);
  }
};

describe("binding parameter values", () => {
  it("gives the ONNX model, the WGSL bundle and the interpreter the same values", async () => {
    const g = graph();
    const bound = bindParams(paramsReadBy(g, g.nodes), checkpoint, SEED);
    expect(bound.diagnostics).toEqual([]);
    expect([...bound.tensors.keys()].sort()).toEqual([
      "fc.bias",
      "fc.weight",
      "norm.bias",
      "norm.running_mean",
      "norm.running_var",
      "norm.weight",
    ]);
    expect(bound.tensors.get("fc.weight")).toBe(checkpoint.get("fc.weight"));

    // The interpreter with the seed computes what it computes with the bound values given outright.
    const reference = interpret(g, inputs, checkpoint, { seed: SEED }).outputs.get("y")!;
    expect(interpret(g, inputs, bound.tensors).outputs.get("y")!.data).toEqual(reference.data);

    // ONNX: its initializers are the bound values, so onnxruntime's output is the interpreter's.
    const onnx = emitOnnx(g, { weights: checkpoint, seed: SEED });
    expect(onnx.diagnostics).toEqual([]);
    expect(maxAbsDiff((await runOnnx(onnx.bytes!, inputs)).get("y")!, reference)).toBeLessThanOrEqual(1e-6);

    // WGSL: every weight buffer named after a parameter holds that parameter's bound value (f32 storage).
    const wgsl = compileWgsl(g, { weights: checkpoint, seed: SEED });
    expect(wgsl.diagnostics).toEqual([]);
    const buffers = [...wgsl.program!.weights].filter(([name]) => bound.tensors.has(name));
    expect(buffers.map(([name]) => name)).toContain("fc.bias");
    for (const [name, t] of buffers) expect([...t.data], name).toEqual([...bound.tensors.get(name)!.data]);
  });

  it("refuses a checkpoint tensor of the wrong shape with one diagnostic, the same from all three", () => {
    const g = graph();
    const wrong = new Map<string, HostTensor>([["fc.weight", random("f32", [4, 3], 11)]]);
    const expected = [["NET3002", "the weight fc.weight is f32[4, 3], the model declares f32[3, 4]"]];
    expect(emitOnnx(g, { weights: wrong, seed: SEED }).diagnostics.map((d) => [d.code, d.message])).toEqual(expected);
    expect(compileWgsl(g, { weights: wrong, seed: SEED }).diagnostics.map((d) => [d.code, d.message])).toEqual(
      expected,
    );
    expect(codesOf(() => interpret(g, inputs, wrong, { seed: SEED }))).toEqual(expected);
  });

  it("without a seed, a parameter with no value and no default is an error, not a draw", () => {
    expect(codesOf(() => interpret(graph(), inputs, checkpoint))).toEqual([
      ["NET8003", "no value for the parameter fc.bias"],
    ]);
  });
});
