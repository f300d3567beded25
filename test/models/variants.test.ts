// models/variants/: user-written DFER variants compile, take the official checkpoint where they share its
// layers, and run.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { runOnnx } from "../../src/backends/onnx/index.js";
import { compile } from "../../src/index.js";
import { readNpyFile } from "../../src/util/npy.js";
import { checkerTest, ModelBatch } from "../helpers/onnx-check.js";

const ROOT = resolve(__dirname, "../..");
const FIXTURES = resolve(ROOT, "../shared/fixtures/ifdd");
const CHECKPOINT = join(FIXTURES, "ifdd_dfew_random.pth");

describe.skipIf(!existsSync(CHECKPOINT))(
  "models/variants/ifdd_topk.net (hard top-k split, predict-then-update)",
  () => {
    const batch = new ModelBatch();

    it("reuses every IFDD layer it shares, runs, and splits frames by their scores", async () => {
      const file = join(ROOT, "models/variants/ifdd_topk.net");
      const r = compile(readFileSync(file, "utf8"), {
        file,
        weights: [CHECKPOINT],
        allowMissing: true,
        allowUnexpected: true,
        debugOutputs: true,
      });
      expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const report = r.weightReport!;
      expect(report.missing.map((m) => m.path).sort()).toEqual([
        "backbone.WaveLifts.scorer.bias",
        "backbone.WaveLifts.scorer.weight",
      ]);
      expect(report.unexpected.every((u) => /adapt_split|spatial_pos|temporal_pos|class_pos/.test(u.key))).toBe(true);
      expect(report.applied.filter((a) => a.unused)).toEqual([]);
      const kinds = new Set(r.graph!.nodes.filter((n) => n.construct === "split_index").map((n) => n.op));
      expect(kinds).toEqual(new Set(["topk", "slice", "cast", "reshape", "expand", "gather_elements"]));
      batch.add("ifdd_topk", r.onnx!);

      const input = readNpyFile(join(FIXTURES, "input.npy"));
      if (!input.ok) throw new Error(input.diagnostic.message);
      const out = await runOnnx(r.onnx!, new Map([["video", input.tensor]]), { threads: 2 });
      const logits = out.get("logits")!;
      expect(logits.shape).toEqual([1, 7]);
      expect([...(logits.data as Float32Array)].every(Number.isFinite)).toBe(true);
      expect(out.get("backbone.WaveLifts/frame_scores")!.shape).toEqual([1, 8]);
    }, 120_000);

    checkerTest(batch);
  },
);
