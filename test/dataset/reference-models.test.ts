// A reduced reference model through netc eval on the synthetic dataset: S2D at its small fixture size (embed 64,
// depth 3, 4 frames) with the official-init checkpoints, so its declared 2 x 2 test views and softmax merge run end
// to end. Its weights are random: the test checks the pipeline (views, merge, metrics from the results), not accuracy.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeSyntheticDataset, SYNTHETIC_LABELS } from "../../tools/make-synthetic-dataset.js";
import { runNetc } from "../helpers/cli.js";

const FIXTURES = join(__dirname, "../../../shared/fixtures/s2d");
const present = existsSync(join(FIXTURES, "s2d_small_random.pth"));
const dir = mkdtempSync(join(tmpdir(), "netc-reference-eval-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!present)(
  `S2D (small) through netc eval${present ? "" : " (skipped: ../shared/fixtures/s2d is missing)"}`,
  () => {
    it("merges its 4 declared views by mean softmax and scores the folds from those results", async () => {
      makeSyntheticDataset(join(dir, "data"), { clips: 7, frames: 6, width: 40, height: 48, folds: 1, seed: 5 });
      const [results, metrics] = [join(dir, "s2d.jsonl"), join(dir, "s2d.json")];
      const r = await runNetc(
        "eval",
        "models/s2d.net",
        "--set",
        "embed_dim=64",
        "--set",
        "depth=3",
        "--set",
        "num_heads=4",
        "--set",
        "num_frames=4",
        "--weights",
        join(FIXTURES, "s2d_small_random.pth"),
        "--weights",
        `landmark=${join(FIXTURES, "mobilefacenet_random.pth.tar")}`,
        "--clips",
        join(dir, "data", "labels.csv"),
        "--batch",
        "2",
        "-o",
        results,
        "--json",
        metrics,
        "--quiet",
      );
      expect(r.code, r.err).toBe(0);
      const lines = readFileSync(results, "utf8")
        .split("\n")
        .filter(Boolean)
        .map(
          (l) =>
            JSON.parse(l) as {
              label: string;
              prediction: number;
              scores: number[];
              views: number;
              predicted_label: string;
            },
        );
      expect(lines).toHaveLength(7);
      for (const line of lines) {
        expect(line.views).toBe(4);
        expect(line.scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        expect(line.predicted_label).toBe(SYNTHETIC_LABELS[line.prediction]);
      }
      const correct = lines.filter((l) => l.label === l.predicted_label).length;
      const m = JSON.parse(readFileSync(metrics, "utf8")) as { all: { war: number; count: number } };
      expect(m.all.count).toBe(7);
      expect(m.all.war).toBeCloseTo(correct / 7, 12);
    }, 300_000);
  },
);
