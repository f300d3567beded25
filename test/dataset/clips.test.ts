// Frame sampling, crop placement, manifests and metrics: the small pieces netc infer and eval are built from.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DiagnosticError } from "../../src/diagnostics/diagnostics.js";
import { DatasetCodes } from "../../src/diagnostics/dataset-codes.js";
import { listClips, parseCsv } from "../../src/dataset/clips.js";
import { openClip } from "../../src/dataset/frames.js";
import { mergeViews } from "../../src/dataset/infer.js";
import { classificationMetrics } from "../../src/dataset/metrics.js";
import { cropOrigins, sampleFrames } from "../../src/dataset/prepare.js";
import { readResults } from "../../src/dataset/results.js";

const dir = mkdtempSync(join(tmpdir(), "netc-clips-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const codes = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof DiagnosticError) return e.diagnostics.map((d) => `${d.code} ${d.message}`);
    throw e;
  }
  return [];
};

describe("frame sampling", () => {
  it("takes the middle frame of each segment, repeating frames of short clips", () => {
    expect(sampleFrames(32, { frames: 4, sampling: "segment-middle", temporal_views: 1 })).toEqual([[4, 12, 20, 28]]);
    expect(sampleFrames(2, { frames: 4, sampling: "segment-middle", temporal_views: 1 })).toEqual([[0, 0, 1, 1]]);
  });
  it("spreads uniform samples from the first frame to the last", () => {
    expect(sampleFrames(10, { frames: 4, sampling: "uniform", temporal_views: 1 })).toEqual([[0, 3, 6, 9]]);
  });
  it("cuts whole windows, padding a clip shorter than one with its last frame", () => {
    expect(sampleFrames(9, { frames: 4, sampling: "windows", temporal_views: 1 })).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect(sampleFrames(3, { frames: 4, sampling: "windows", temporal_views: 1 })).toEqual([[0, 1, 2, 2]]);
  });
  it("spreads consecutive windows' starts over the clip for temporal views", () => {
    expect(sampleFrames(10, { frames: 4, sampling: "consecutive", temporal_views: 3 })).toEqual([
      [0, 1, 2, 3],
      [3, 4, 5, 6],
      [6, 7, 8, 9],
    ]);
  });
  it("places spatial crops along the longer spare side, centred on the other", () => {
    expect(cropOrigins({ height: 10, width: 20 }, { height: 8, width: 8 }, 1)).toEqual([{ top: 1, left: 6 }]);
    expect(cropOrigins({ height: 10, width: 20 }, { height: 8, width: 8 }, 3)).toEqual([
      { top: 1, left: 0 },
      { top: 1, left: 6 },
      { top: 1, left: 12 },
    ]);
  });
});

describe("views and metrics", () => {
  it("merges views by mean logits or mean softmax", () => {
    const rows = [Float32Array.of(0, Math.log(3)), Float32Array.of(2, 2)];
    const logits = mergeViews(rows, "mean-logits");
    expect(logits[0]).toBe(1);
    expect(logits[1]).toBeCloseTo((Math.log(3) + 2) / 2, 6);
    const soft = mergeViews(rows, "mean-softmax");
    expect(soft[0]).toBeCloseTo((0.25 + 0.5) / 2, 6);
    expect(soft[1]).toBeCloseTo((0.75 + 0.5) / 2, 6);
  });
  it("UAR averages the recall of classes that occur; absent classes have no recall", () => {
    const m = classificationMetrics([0, 0, 0, 1], [0, 0, 1, 1], 3);
    expect(m.war).toBe(0.75);
    expect(m.recall).toEqual([2 / 3, 1, null]);
    expect(m.uar).toBeCloseTo((2 / 3 + 1) / 2, 12);
    expect(m.confusion).toEqual([
      [2, 1, 0],
      [0, 1, 0],
      [0, 0, 0],
    ]);
  });
});

describe("clip lists", () => {
  it("reads quoted CSV fields with commas, quotes and newlines", () => {
    expect(parseCsv('path,label\n"a,b",1\r\n"say ""hi""","x\ny"\n', "m.csv")).toEqual([
      ["path", "label"],
      ["a,b", "1"],
      ['say "hi"', "x\ny"],
    ]);
  });
  it("takes each sub-folder of a dataset folder as a clip, in natural order", () => {
    for (const name of ["c10", "c2", "c1"]) mkdirSync(join(dir, "set", name), { recursive: true });
    writeFileSync(join(dir, "set", "notes.txt"), "ignored");
    expect(listClips([join(dir, "set")], { inputNames: ["video"] }).map((c) => c.id)).toEqual(
      ["c1", "c2", "c10"].map((n) => join(dir, "set", n)),
    );
  });
  it("reports manifests it cannot read as NET8033", () => {
    writeFileSync(join(dir, "ragged.csv"), "path,label\na,1,extra\n");
    expect(codes(() => listClips([join(dir, "ragged.csv")], { inputNames: ["video"] }))[0]).toMatch(
      /^NET8033 .*row 2 has 3 fields/,
    );
    writeFileSync(join(dir, "nopath.csv"), "name,label\na,1\n");
    expect(codes(() => listClips([join(dir, "nopath.csv")], { inputNames: ["video"] }))[0]).toMatch(
      /^NET8033 .*has no path/,
    );
    writeFileSync(join(dir, "twice.json"), JSON.stringify([{ path: "a", label: 1 }, "a"]));
    expect(codes(() => listClips([join(dir, "twice.json")], { inputNames: ["video"] }))[0]).toMatch(
      /^NET8033 the clip a is listed twice/,
    );
  });
  it("feeds each of several video inputs from its own manifest column", () => {
    writeFileSync(join(dir, "two.csv"), "face,scene,label\nf1,s1,happy\n");
    const [clip] = listClips([join(dir, "two.csv")], { inputNames: ["face", "scene"] });
    expect(clip.paths).toEqual({ face: join(dir, "f1"), scene: join(dir, "s1") });
    expect(clip.label).toBe("happy");
  });
});

describe("special files in a dataset", () => {
  it("a FIFO or a folder under a frame's name is that clip's error, not a hang", async () => {
    for (const kind of ["fifo", "folder"] as const) {
      const clip = join(dir, `special-${kind}`);
      mkdirSync(clip);
      const frame = join(clip, "frame_001.png");
      if (kind === "fifo") execFileSync("mkfifo", [frame]);
      else mkdirSync(frame);
      const source = await openClip(clip);
      await expect(source.frame(0)).rejects.toMatchObject({
        info: { code: DatasetCodes.ClipUnreadable.code },
        message: expect.stringContaining(kind === "fifo" ? "FIFO" : "folder"),
      });
    }
  });
  it("a results file that is a FIFO is refused before it is read", () => {
    const results = join(dir, "results-fifo.jsonl");
    execFileSync("mkfifo", [results]);
    expect(codes(() => readResults(results))).toEqual([
      `${DatasetCodes.BadResults.code} cannot read ${results}: it is a FIFO (named pipe), not a regular file`,
    ]);
  });
});
