// The whole language at once: features.net (every construct) compiled to ONNX, run in onnxruntime, and checked
// against the reference interpreter running the same IR; plus --set overrides and the reference ONNX checker.
import { readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { runOnnx } from "../../src/backends/onnx/index.js";
import { compile, interpret } from "../../src/index.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { allocData, type HostTensor, numel } from "../../src/util/tensor.js";
import { checkerTest, ModelBatch } from "../helpers/onnx-check.js";
import { uniforms } from "../../src/util/random.js";

const ROOT = resolve(__dirname, "../..");
const FILE = relative(ROOT, join(__dirname, "features.net"));
const SOURCE = readFileSync(join(ROOT, FILE), "utf8");

function randomTensor(shape: number[], next: () => number, scale = 1): HostTensor {
  const data = allocData("f32", numel(shape)) as Float32Array;
  for (let i = 0; i < data.length; i++) data[i] = (next() * 2 - 1) * scale;
  return { dtype: "f32", shape, data };
}

function randomWeights(graph: Graph, seed: number): Map<string, HostTensor> {
  const next = uniforms(seed);
  return new Map(graph.params.map((p) => [p.path, randomTensor(p.shape, next, 0.5)]));
}

function maxAbsDiff(a: HostTensor, b: HostTensor): number {
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs((a.data[i] as number) - (b.data[i] as number)));
  return m;
}

describe("features.net: every construct, ONNX vs the reference interpreter", () => {
  const batch = new ModelBatch();

  const cases: [string, Record<string, string>, number][] = [
    ["defaults (soft split)", {}, 2],
    ["hard top-k split, 3 layers", { hard: "true", depth: "3" }, 3],
    ["batch fixed by --set B=1", { B: "1" }, 1],
  ];

  it.each(cases)("%s", async (_title, overrides, batchSize) => {
    const first = compile(SOURCE, { file: FILE, overrides });
    expect(first.diagnostics.filter((d) => d.severity !== "note")).toEqual([]);
    const graph = first.graph!;
    const weights = randomWeights(graph, 7);
    const r = compile(SOURCE, { file: FILE, overrides, weights, debugOutputs: true });
    expect(r.onnx).toBeDefined();
    batch.add(`features-${Object.entries(overrides).flat().join("-") || "default"}`, r.onnx!);

    const video = randomTensor([batchSize, 3, 4, 8, 8], uniforms(11));
    const inputs = new Map([["video", video]]);
    const expected = interpret(r.graph!, inputs, weights);
    const actual = await runOnnx(r.onnx!, inputs, { threads: 1 });
    const all = new Map([...expected.outputs, ...expected.taps]);
    expect(actual.size).toBe(all.size);
    for (const [name, want] of all) {
      const got = actual.get(name);
      expect(got, name).toBeDefined();
      expect(maxAbsDiff(got!, want), name).toBeLessThan(1e-4);
    }
    expect(actual.get("logits")!.shape).toEqual([batchSize, 5]);
  });

  it("--set changes the architecture: each layer adds its own weights under layers.<i>", () => {
    const two = compile(SOURCE, { file: FILE }).graph!;
    const three = compile(SOURCE, { file: FILE, overrides: { depth: "3" } }).graph!;
    const layers = (g: Graph) =>
      new Set(g.params.filter((p) => p.path.startsWith("layers.")).map((p) => p.path.split(".")[1]));
    expect([...layers(two)]).toEqual(["0", "1"]);
    expect([...layers(three)]).toEqual(["0", "1", "2"]);
    expect(three.params.some((p) => p.path === "layers.2.mlp.fc1.weight" && p.shape.join() === "24,8")).toBe(true);
    expect(three.params.filter((p) => p.path.startsWith("gain_")).map((p) => p.path)).toEqual([
      "gain_0",
      "gain_1",
      "gain_2",
    ]);
  });

  it("an assert in the model rejects a bad --set with its own message", () => {
    const r = compile(SOURCE, { file: FILE, overrides: { depth: "4" } });
    expect(r.diagnostics.map((d) => [d.code, d.message])).toEqual([["NET3008", "one head count per layer"]]);
  });

  checkerTest(batch);
});
