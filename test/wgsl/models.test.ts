// Whole models: IFDD's building blocks, S2D and OUS at reduced sizes run end to end on WebGPU against onnxruntime,
// and the kernel counts of the reference models (full size and reduced) are pinned, so a change that breaks
// fusion shows here.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { compileWgsl, wgslKernelStats } from "../../src/backends/wgsl/index.js";
import { compileToGraph } from "../../src/driver.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { readNpyFile } from "../../src/util/npy.js";
import type { HostTensor } from "../../src/util/tensor.js";
import type { NodeGpu } from "../../src/runtime/node.js";
import { loadModelWeights } from "../../src/weights/model-weights.js";
import { random } from "../helpers/ir.js";
import { boundedWeights, loadGraph, maxAbsDiff, onnxReference, TOLERANCE, tryGpu } from "./helpers.js";

const MINI = "test/wgsl/fixtures/mini_ifdd.net";
const S2D = "models/s2d.net";
const OUS = "models/ous.net";
const OUS_FIXTURES = "test/fixtures/ous";

/** S2D reduced: a 32-wide ViT of two blocks over two frames (MobileFaceNet, fixed by the model, stays whole). */
const S2D_SMALL = { B: "1", embed_dim: "32", depth: "2", num_heads: "2", num_frames: "2" };

/**
 * The two small OUS configurations the model tests hold to the PyTorch reference: between them the LSTM (the
 * alternative's is bidirectional, two layers, shared), frame-output, similarity, polarity and fusion options are
 * each taken both ways.
 */
function ousSmall(name: "default" | "alternative", batch: number): Record<string, string> {
  const { config } = JSON.parse(readFileSync(`${OUS_FIXTURES}/${name}/config.json`, "utf8")) as {
    config: Record<string, unknown>;
  };
  const sets = Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? JSON.stringify(v) : String(v)]);
  return { B: String(batch), ...Object.fromEntries(sets) };
}

function compileFile(
  file: string,
  sets: Record<string, string> = { B: "1" },
): { graph: Graph; front: ReturnType<typeof compileToGraph> } {
  const front = compileToGraph(readFileSync(file, "utf8"), { file, overrides: sets, target: "wgsl" });
  expect(front.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return { graph: front.graph!, front };
}

describe("kernel counts (golden)", () => {
  it.each([
    [
      "full-size IFDD",
      "models/ifdd.net",
      197,
      { matmul: 88, layer_norm: 55, conv: 34, attention: 13, max_pool: 3, softmax: 2, sample_linear: 2 },
      { B: "1" },
    ],
    // S2D's landmark branch: the frames' 224 -> 112 resize is stored once (a `resize` kernel), not recomputed per conv
    // tap.
    [
      "full-size S2D",
      S2D,
      296,
      { matmul: 121, conv: 76, layer_norm: 61, attention: 24, softmax: 12, reduce: 1, resize: 1 },
      { B: "1" },
    ],
    [
      "full-size OUS",
      OUS,
      497,
      { matmul: 319, layer_norm: 112, attention: 53, reduce: 8, conv: 3, lstm: 2 },
      { B: "1" },
    ],
    [
      "mini IFDD",
      MINI,
      62,
      { matmul: 30, layer_norm: 14, conv: 8, attention: 5, max_pool: 1, softmax: 2, sample_linear: 2 },
      { B: "1" },
    ],
    [
      "reduced S2D",
      S2D,
      86,
      { conv: 46, matmul: 21, layer_norm: 11, attention: 4, softmax: 2, reduce: 1, resize: 1 },
      S2D_SMALL,
    ],
    [
      "small OUS default",
      OUS,
      137,
      { matmul: 79, layer_norm: 32, attention: 13, reduce: 8, conv: 3, lstm: 2 },
      ousSmall("default", 1),
    ],
    [
      "small OUS alternative",
      OUS,
      148,
      { matmul: 82, layer_norm: 33, attention: 13, reduce: 9, lstm: 8, conv: 3 },
      ousSmall("alternative", 1),
    ],
  ] as const)(
    "%s (%s) compiles to %i kernels",
    (_name, file, kernels, histogram, sets) => {
      const { stats } = wgslKernelStats(compileFile(file, sets).graph);
      expect(stats?.kernels).toBe(kernels);
      expect(stats?.histogram).toEqual(histogram);
    },
    60_000,
  );

  it("kernels of the same structure share one shader: reduced S2D's 86 kernels need 44", () => {
    const { program } = compileWgsl(compileFile(S2D, S2D_SMALL).graph);
    const kernels = program!.manifest.kernels;
    expect(kernels).toHaveLength(86);
    expect(program!.shaders.size).toBe(44);
    expect(new Set(kernels.map((k) => k.shader)).size).toBe(44);
    // MobileFaceNet's six conv_4 residual blocks: three shaders (expand, depthwise, project) for eighteen kernels.
    const residual = kernels.filter((k) => /^landmark\.conv_4\.model\.\d\./.test(k.scope));
    expect(residual).toHaveLength(18);
    expect(new Set(residual.map((k) => k.shader)).size).toBe(3);
  }, 60_000);
});

function npy(file: string): HostTensor {
  const r = readNpyFile(file);
  if (!r.ok) throw new Error(r.diagnostic.message);
  return r.tensor;
}

/** Runs `graph` with its taps on WebGPU and onnxruntime and holds every output and tap to the tolerance. */
async function expectMatchesOnnx(
  gpu: NodeGpu,
  graph: Graph,
  inputs: Map<string, HostTensor>,
  weights?: Map<string, HostTensor>,
): Promise<Map<string, HostTensor>> {
  const opts = { debugOutputs: true, seed: 3, ...(weights ? { weights } : {}) };
  const { model } = await loadGraph(gpu, graph, opts);
  const got = await model.run(Object.fromEntries(inputs));
  model.destroy();
  const expected = await onnxReference(graph, inputs, opts);
  expect(Object.keys(got).sort()).toEqual([...expected.keys()].sort());
  for (const [name, want] of expected) expect(maxAbsDiff(got[name], want), name).toBeLessThanOrEqual(TOLERANCE);
  return expected;
}

const { gpu, reason } = await tryGpu();

describe.skipIf(!gpu)(`reduced reference models on WebGPU${reason ? ` (skipped: ${reason})` : ""}`, () => {
  afterAll(() => gpu?.release());

  it("reduced IFDD matches onnxruntime on the logits and on every tap", async () => {
    const { graph } = compileFile(MINI);
    const expected = await expectMatchesOnnx(
      gpu!,
      graph,
      new Map([["video", random("f32", [1, 3, 4, 56, 56], 7, 0, 1)]]),
    );
    expect(expected.size).toBeGreaterThan(20);
  }, 300_000);

  it("reduced S2D (MobileFaceNet landmarks, prompters, temporal adapters) matches onnxruntime on every output " +
    "and tap", async () => {
    const { graph } = compileFile(S2D, S2D_SMALL);
    const inputs = new Map([["video", random("f32", [1, 3, 2, 224, 224], 11, -2, 2)]]);
    const expected = await expectMatchesOnnx(gpu!, graph, inputs, boundedWeights(graph, 100));
    expect([...expected.keys()]).toEqual(
      expect.arrayContaining(["logits", "feature", "lm_input", "lm_feat", "prompt_blocks.1.TMA/out", "blocks.1/out"]),
    );
  }, 300_000);

  it.each(["default", "alternative"] as const)(
    "small OUS %s, with the reference's weights, matches onnxruntime on every output and tap",
    async (name) => {
      const { graph, front } = compileFile(OUS, ousSmall(name, 2));
      const { weights, diagnostics } = loadModelWeights(
        graph,
        [{ path: `${OUS_FIXTURES}/${name}/ous_small.pth` }],
        front.weightRules,
      );
      expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const inputs = new Map([
        ["face", npy(`${OUS_FIXTURES}/face.npy`)],
        ["scene", npy(`${OUS_FIXTURES}/scene.npy`)],
      ]);
      const expected = await expectMatchesOnnx(gpu!, graph, inputs, weights);
      expect([...expected.keys()]).toEqual(["logits", "polarity", "v_f", "v_s", "v_ft", "v_st", "z_pol", "fused"]);
    },
    300_000,
  );
});
