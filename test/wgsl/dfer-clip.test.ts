// DFER-CLIP compiled to WGSL: the kernel counts of the full ViT-B/32 model and of the reduced small7 case are
// pinned, and small7 with its official-layout checkpoint (regenerated from the manifest, python3-torch) runs on
// WebGPU (SwiftShader without a GPU) and matches onnxruntime on the logits and every tap within 1e-3.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { wgslKernelStats } from "../../src/backends/wgsl/index.js";
import { compileToGraph } from "../../src/driver.js";
import { readNpyFile } from "../../src/util/npy.js";
import { loadModelWeights } from "../../src/weights/model-weights.js";
import { loadGraph, maxAbsDiff, onnxReference, TOLERANCE, tryGpu } from "./helpers.js";

const MODEL = "models/dfer_clip.net";
const CASE = "test/fixtures/dfer_clip/small7";
const PYTHON = "/usr/bin/python3";
/** small7 (tools/record_dfer_clip.py): a 2-layer 128-wide ViT at 32x32, 2 temporal layers, 4 frames, batch 2. */
const SMALL7 = {
  B: "2",
  embed_dim: "512",
  image_size: "32",
  layers: "2",
  width: "128",
  patch_size: "16",
  num_frames: "4",
  num_classes: "7",
  temporal_layers: "2",
};

function compileFile(sets: Record<string, string>) {
  const front = compileToGraph(readFileSync(MODEL, "utf8"), { file: MODEL, overrides: sets });
  expect(front.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return front;
}

describe("DFER-CLIP kernel counts (golden)", () => {
  it.each([
    [
      "full-size DFER-CLIP (ViT-B/32, 16 frames)",
      122,
      { matmul: 78, layer_norm: 28, attention: 13, reduce: 2, conv: 1 },
      { B: "1" },
    ],
    ["reduced small7", 39, { matmul: 22, layer_norm: 10, attention: 4, reduce: 2, conv: 1 }, SMALL7],
  ] as const)(
    "%s compiles to %i kernels",
    (_name, kernels, histogram, sets) => {
      const { stats } = wgslKernelStats(compileFile(sets).graph!);
      expect(stats?.kernels).toBe(kernels);
      expect(stats?.histogram).toEqual(histogram);
    },
    60_000,
  );
});

const python = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" }).status === 0;
const { gpu, reason } = await tryGpu();
const skip = !gpu ? reason : !python ? `${PYTHON} with torch and numpy is needed` : undefined;

describe.skipIf(skip)(`reduced DFER-CLIP on WebGPU${skip ? ` (skipped: ${skip})` : ""}`, () => {
  const dir = mkdtempSync(join(tmpdir(), "netc-wgsl-dfer-clip-"));
  afterAll(() => {
    gpu?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it("small7 with its official-layout checkpoint matches onnxruntime on the logits and every tap", async () => {
    const checkpoint = join(dir, "small7.pth");
    const made = spawnSync(PYTHON, ["tools/dfer_clip_checkpoint.py", `${CASE}/manifest.json`, checkpoint], {
      encoding: "utf8",
    });
    expect(made.status).toBe(0);
    const front = compileFile(SMALL7);
    const graph = front.graph!;
    const files = [{ path: checkpoint }, { path: `${CASE}/text_features.pth`, prefix: "text" }];
    const { weights, diagnostics } = loadModelWeights(graph, files, front.weightRules);
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const video = readNpyFile(`${CASE}/input.npy`);
    if (!video.ok) throw new Error(video.diagnostic.message);
    const inputs = new Map([["video", video.tensor]]);

    const opts = { debugOutputs: true, weights };
    const { model } = await loadGraph(gpu!, graph, opts);
    const got = await model.run(Object.fromEntries(inputs));
    model.destroy();
    const expected = await onnxReference(graph, inputs, opts);
    expect(Object.keys(got).sort()).toEqual([...expected.keys()].sort());
    expect([...expected.keys()]).toEqual(
      expect.arrayContaining(["logits", "image_features", "video_features", "temporal_net/input"]),
    );
    for (const [name, want] of expected) expect(maxAbsDiff(got[name], want), name).toBeLessThanOrEqual(TOLERANCE);
  }, 300_000);
});
