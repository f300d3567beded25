// A synthetic dataset (tools/make-synthetic-dataset.ts) through netc infer and netc eval with a model that
// classifies clips by colour: predictions, resumable results, per-clip errors, DFEW-style folds, and the metrics
// against scikit-learn's on the same predictions.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeSafetensors } from "../../src/weights/safetensors.js";
import { makeSyntheticDataset, SYNTHETIC_COLOURS, SYNTHETIC_LABELS } from "../../tools/make-synthetic-dataset.js";
import { runNetc } from "../helpers/cli.js";

const MODEL = "test/fixtures/dataset/colour.net";
const dir = mkdtempSync(join(tmpdir(), "netc-dataset-"));
const weights = join(dir, "colour.safetensors");
const PYTHON = "/usr/bin/python3";
const sklearn = spawnSync(PYTHON, ["-c", "import sklearn"]).status === 0;

beforeAll(() => {
  makeSyntheticDataset(join(dir, "data"), { clips: 28, frames: 10, width: 40, height: 48, folds: 2, seed: 3 });
  // Nearest prototype by mean colour: logit_k = <x, c_k> - |c_k|^2 / 2, with c_k the class colours in [0, 1].
  const prototypes = SYNTHETIC_COLOURS.map((c) => c.map((v) => v / 255));
  const weight = Float32Array.from(prototypes.flat());
  const bias = Float32Array.from(prototypes.map((p) => -p.reduce((s, v) => s + v * v, 0) / 2));
  writeFileSync(
    weights,
    encodeSafetensors(
      new Map([
        ["head.weight", { dtype: "f32", shape: [7, 3], data: weight }],
        ["head.bias", { dtype: "f32", shape: [7], data: bias }],
      ]),
    ),
  );
  // a clip whose frames cannot be decoded: recorded as that clip's error
  mkdirSync(join(dir, "data", "clips", "broken"));
  writeFileSync(join(dir, "data", "clips", "broken", "frame_001.png"), "not a png");
  writeFileSync(
    join(dir, "data", "with-broken.csv"),
    `${readFileSync(join(dir, "data", "labels.csv"), "utf8")}clips/broken,sad\n`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (path: string) =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map(
      (l) =>
        JSON.parse(l) as {
          clip: string;
          label?: string;
          fold?: string;
          prediction?: number;
          predicted_label?: string;
          scores?: number[];
          error?: { code: string };
        },
    );

describe("netc infer", () => {
  it("scores every clip of a manifest, records the broken one and goes on", async () => {
    const out = join(dir, "infer.jsonl");
    const r = await runNetc(
      "infer",
      MODEL,
      "--weights",
      weights,
      join(dir, "data", "with-broken.csv"),
      "-o",
      out,
      "--batch",
      "5",
    );
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain("NET8038");
    const results = lines(out);
    expect(results).toHaveLength(29);
    const broken = results.find((x) => x.clip === "clips/broken")!;
    expect(broken.error?.code).toBe("NET8031");
    const scored = results.filter((x) => !x.error);
    // the classes are separable by colour: a preprocessing mistake would show here
    const correct = scored.filter((x) => x.predicted_label === x.label).length;
    expect(correct / scored.length).toBeGreaterThan(0.9);
    for (const x of scored) expect(x.scores).toHaveLength(7);
  });

  it("resumes: a cut-off last line is dropped and only the missing clips run", async () => {
    const out = join(dir, "resume.jsonl");
    const clips = join(dir, "data", "clips");
    expect((await runNetc("infer", MODEL, "--weights", weights, clips, "-o", out, "--batch", "4")).code).toBe(0);
    const full = readFileSync(out, "utf8").split("\n").filter(Boolean);
    // keep 10 whole lines and half of the 11th, as an interrupted write leaves it
    writeFileSync(out, `${full.slice(0, 10).join("\n")}\n${full[10].slice(0, 20)}`);
    const r = await runNetc("infer", MODEL, "--weights", weights, clips, "-o", out, "--batch", "4");
    expect(r.code, r.err).toBe(0);
    // the broken clip's error line is kept but the clip is tried again; the scored ones are skipped
    const kept = full.slice(0, 10).filter((l) => !l.includes('"error"')).length;
    expect(r.err).toContain(`${kept} clips are already in`);
    const latest = new Map(lines(out).map((x) => [x.clip, x]));
    expect([...latest.keys()].sort()).toEqual(full.map((l) => (JSON.parse(l) as { clip: string }).clip).sort());
    expect([...latest.values()].filter((x) => x.error).map((x) => x.clip)).toEqual([join(clips, "broken")]);
  });

  it("refuses a results file that netc did not write", async () => {
    const out = join(dir, "foreign.jsonl");
    writeFileSync(out, "id,label\nx,1\n");
    const r = await runNetc("infer", MODEL, "--weights", weights, join(dir, "data", "clips"), "-o", out);
    expect(r.code).toBe(1);
    expect(r.err).toContain("NET8037");
    expect(readFileSync(out, "utf8")).toBe("id,label\nx,1\n");
  });
});

describe("netc eval", () => {
  const folds = () => [join(dir, "data", "set_1", "test.csv"), join(dir, "data", "set_2", "test.csv")];

  it("rejects numeric labels counted from 1 without --label-base 1, before running anything", async () => {
    const r = await runNetc(
      "eval",
      MODEL,
      "--weights",
      weights,
      "--clips",
      folds()[0],
      "--root",
      join(dir, "data", "clips"),
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain("NET8040");
    expect(r.err).toContain("--label-base 1");
    expect(r.out).not.toContain("scored");
  });

  it("gives WAR, UAR, recall and the confusion matrix per fold and their mean", async () => {
    const [results, metrics, svg] = [join(dir, "eval.jsonl"), join(dir, "metrics.json"), join(dir, "confusion.svg")];
    const [f1, f2] = folds();
    const r = await runNetc(
      "eval",
      MODEL,
      "--weights",
      weights,
      "--clips",
      f1,
      "--clips",
      f2,
      "--root",
      join(dir, "data", "clips"),
      "--label-base",
      "1",
      "-o",
      results,
      "--json",
      metrics,
      "--svg",
      svg,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/set_1 +14 /);
    expect(r.out).toMatch(/mean +28 /);
    expect(r.out).toContain("confusion matrix");
    expect(readFileSync(svg, "utf8")).toMatch(/^<svg[^>]*>[\s\S]*<\/svg>\n$/);
    const ours = JSON.parse(readFileSync(metrics, "utf8")) as {
      labels: string[];
      folds: {
        name: string;
        metrics: { war: number; uar: number; recall: (number | null)[]; confusion: number[][] };
      }[];
    };
    expect(ours.labels).toEqual(SYNTHETIC_LABELS);
    expect(ours.folds.map((f) => f.name)).toEqual(["set_1", "set_2"]);
  });

  it.skipIf(!sklearn)(
    `agrees with scikit-learn on the same predictions${sklearn ? "" : " (skipped: apt-get install python3-sklearn)"}`,
    () => {
      const [results, metrics] = [join(dir, "eval.jsonl"), join(dir, "metrics.json")];
      const [f1, f2] = folds();
      const ours = JSON.parse(readFileSync(metrics, "utf8")) as {
        folds: {
          name: string;
          metrics: { war: number; uar: number; recall: (number | null)[]; confusion: number[][] };
        }[];
        mean: { war: number; uar: number };
      };
      // scikit-learn reads the per-clip predictions and the fold CSVs itself
      const script = `
import json, sys, csv
from sklearn.metrics import accuracy_score, balanced_accuracy_score, recall_score, confusion_matrix
results, folds = sys.argv[1], sys.argv[2:]
pred = {}
for line in open(results):
    r = json.loads(line)
    if "error" not in r: pred[(r["fold"], r["clip"])] = r["prediction"]
out = []
for f in folds:
    name = f.split("/")[-2]
    rows = list(csv.DictReader(open(f)))
    y = [int(r["label"]) - 1 for r in rows if (name, r["video_name"]) in pred]
    p = [pred[(name, r["video_name"])] for r in rows if (name, r["video_name"]) in pred]
    out.append({"name": name, "war": accuracy_score(y, p), "uar": balanced_accuracy_score(y, p),
                "recall": recall_score(y, p, labels=list(range(7)), average=None, zero_division=0).tolist(),
                "confusion": confusion_matrix(y, p, labels=list(range(7))).tolist()})
print(json.dumps(out))
`;
      const run = spawnSync(PYTHON, ["-c", script, results, f1, f2], { encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
      const theirs = JSON.parse(run.stdout) as {
        name: string;
        war: number;
        uar: number;
        recall: number[];
        confusion: number[][];
      }[];
      theirs.forEach((t, i) => {
        const m = ours.folds[i].metrics;
        expect(ours.folds[i].name).toBe(t.name);
        expect(m.war).toBeCloseTo(t.war, 12);
        expect(m.uar).toBeCloseTo(t.uar, 12);
        expect(m.confusion).toEqual(t.confusion);
        m.recall.forEach((x, c) => expect(x ?? 0).toBeCloseTo(t.recall[c], 12));
      });
      expect(ours.mean.war).toBeCloseTo((theirs[0].war + theirs[1].war) / 2, 12);
      expect(ours.mean.uar).toBeCloseTo((theirs[0].uar + theirs[1].uar) / 2, 12);
    },
  );
});
