// MAE-DFER on WebGPU: the reduced official configuration (test/fixtures/mae_dfer/small), with the checkpoint that
// tools/make_mae_dfer_checkpoint.py draws from its manifest, against onnxruntime on every output and tap; and the
// kernel counts of the full and reduced models, pinned so that a change that breaks fusion shows here.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { wgslKernelStats } from "../../src/backends/wgsl/index.js";
import { compileToGraph } from "../../src/driver.js";
import { loadModelWeights } from "../../src/weights/model-weights.js";
import { npy } from "../helpers/tensors.js";
import { loadGraph, maxAbsDiff, onnxReference, TOLERANCE, tryGpu } from "./helpers.js";

const MODEL = "models/mae_dfer.net";
const FIXTURES = "test/fixtures/mae_dfer";
const PYTHON = "/usr/bin/python3";

/** The recorded small configuration as `--set` values (the manifest's keys are the model's parameter names). */
function small(batch: number): Record<string, string> {
  const { config } = JSON.parse(readFileSync(`${FIXTURES}/small/manifest.json`, "utf8")) as {
    config: Record<string, unknown>;
  };
  const sets = Object.entries(config).map(([k, v]) => [
    k,
    typeof v === "string" ? JSON.stringify(v) : Array.isArray(v) ? `[${v.join(", ")}]` : String(v),
  ]);
  return { B: String(batch), ...Object.fromEntries(sets) };
}

function compileFile(sets: Record<string, string>) {
  const front = compileToGraph(readFileSync(MODEL, "utf8"), { file: MODEL, overrides: sets });
  expect(front.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return front;
}

describe("MAE-DFER kernel counts (golden)", () => {
  // Per LGBlock: 4 LayerNorms (+ norm2), 11 matmuls (q, kv, proj of each of the three attentions; fc1, fc2), 3
  // attentions; the region split, the region tokens' concat and the slices between the attentions fuse into those.
  it.each([
    ["full-size", 308, { B: "1" }, { conv: 1, layer_norm: 81, matmul: 177, attention: 48, reduce: 1 }],
    ["reduced", 42, small(2), { conv: 1, layer_norm: 11, matmul: 23, attention: 6, reduce: 1 }],
  ] as const)(
    "%s MAE-DFER compiles to %i kernels",
    (_name, kernels, sets, histogram) => {
      const { stats } = wgslKernelStats(compileFile(sets).graph!);
      expect(stats?.kernels).toBe(kernels);
      expect(stats?.histogram).toEqual(histogram);
    },
    60_000,
  );
});

const { gpu, reason } = await tryGpu();
const python = spawnSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" }).status === 0;

describe.skipIf(!gpu || !python)(
  `reduced MAE-DFER on ` +
    `WebGPU${reason ? ` (skipped: ${reason})` : python ? "" : " (skipped: python3-torch makes the checkpoint)"}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), "netc-wgsl-mae-dfer-"));
    afterAll(() => {
      gpu?.release();
      rmSync(dir, { recursive: true, force: true });
    });

    it("matches onnxruntime on the logits, the feature and every tap, with the generated checkpoint", async () => {
      const checkpoint = join(dir, "small.pth");
      const made = spawnSync(
        PYTHON,
        ["tools/make_mae_dfer_checkpoint.py", `${FIXTURES}/small/manifest.json`, checkpoint],
        { encoding: "utf8" },
      );
      expect(made.status, made.stderr).toBe(0);
      const front = compileFile(small(2));
      const graph = front.graph!;
      const { weights, diagnostics } = loadModelWeights(graph, [{ path: checkpoint }], front.weightRules);
      expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const inputs = new Map([["video", npy(`${FIXTURES}/input.npy`)]]);
      const opts = { debugOutputs: true, weights };
      const { model } = await loadGraph(gpu!, graph, opts);
      const got = await model.run(Object.fromEntries(inputs));
      model.destroy();
      const expected = await onnxReference(graph, inputs, opts);
      expect([...expected.keys()]).toEqual(
        expect.arrayContaining([
          "logits",
          "feature",
          "embedded",
          "blocks.0/local",
          "blocks.0/global",
          "blocks.1/out",
          "tokens",
        ]),
      );
      for (const [name, want] of expected) expect(maxAbsDiff(got[name], want), name).toBeLessThanOrEqual(TOLERANCE);
    }, 300_000);
  },
);
