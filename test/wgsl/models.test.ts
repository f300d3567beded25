// Whole models: IFDD's building blocks at a reduced size run end to end on WebGPU against onnxruntime, and the
// kernel counts of the reference models are pinned, so a change that breaks fusion shows here.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { wgslKernelStats } from "../../src/backends/wgsl/index.js";
import { compileToGraph } from "../../src/compiler/compile.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { random } from "../helpers/ir.js";
import { loadGraph, maxAbsDiff, onnxReference, TOLERANCE, tryGpu } from "./helpers.js";

const MINI = "test/wgsl/fixtures/mini_ifdd.net";

function compileFile(file: string, sets: Record<string, string> = { B: "1" }): Graph {
  const r = compileToGraph(readFileSync(file, "utf8"), { file, overrides: sets });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return r.graph!;
}

describe("kernel counts (golden)", () => {
  it.each([
    ["models/ifdd.net", 197, { matmul: 88, layer_norm: 55, conv: 34, attention: 13, max_pool: 3, softmax: 2, sample_linear: 2 }],
    [MINI, 62, { matmul: 30, layer_norm: 14, conv: 8, attention: 5, max_pool: 1, softmax: 2, sample_linear: 2 }],
  ] as const)("%s compiles to %i kernels", (file, kernels, histogram) => {
    const { stats } = wgslKernelStats(compileFile(file));
    expect(stats?.kernels).toBe(kernels);
    expect(stats?.histogram).toEqual(histogram);
  }, 60_000);
});

const { gpu, reason } = await tryGpu();

describe.skipIf(!gpu)(`reduced IFDD on WebGPU${reason ? ` (skipped: ${reason})` : ""}`, () => {
  afterAll(() => gpu?.release());

  it("matches onnxruntime on the logits and on every tap", async () => {
    const graph = compileFile(MINI);
    const inputs = new Map([["video", random("f32", [1, 3, 4, 56, 56], 7, 0, 1)]]);
    const { model } = await loadGraph(gpu!, graph, { debugOutputs: true, seed: 3 });
    const got = await model.run(Object.fromEntries(inputs));
    const expected = await onnxReference(graph, inputs, { seed: 3, debugOutputs: true });
    model.destroy();
    expect(expected.size).toBeGreaterThan(20);
    for (const [name, want] of expected) expect(maxAbsDiff(got[name], want), name).toBeLessThanOrEqual(TOLERANCE);
  }, 300_000);
});
