// netc infer on a WGSL bundle (WebGPU through Dawn; a software adapter in CI): the manifest's preprocessing drives
// the clips, the bundle's fixed batch runs the views one batch at a time, and the scores match the ONNX model's.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeSyntheticDataset } from "../../tools/make-synthetic-dataset.js";
import { runNetc } from "../helpers/cli.js";
import { tryGpu } from "../wgsl/helpers.js";

const { gpu, reason } = await tryGpu();
gpu?.release();
const dir = mkdtempSync(join(tmpdir(), "netc-bundle-infer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scores = (path: string) =>
  new Map(
    readFileSync(path, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { clip: string; scores: number[] })
      .map((r) => [r.clip, r.scores]),
  );

describe.skipIf(!gpu)(`netc infer on a WGSL bundle${reason ? ` (skipped: ${reason})` : ""}`, () => {
  it("gives the ONNX model's scores within 1e-3, batch 1 fixed at compile time", async () => {
    makeSyntheticDataset(join(dir, "data"), { clips: 5, frames: 9, width: 40, height: 48, folds: 1, seed: 11 });
    const [onnx, bundle] = [join(dir, "tiny.onnx"), join(dir, "tiny-bundle")];
    expect((await runNetc("compile", "examples/tiny-video.net", "-o", onnx)).code).toBe(0);
    expect(
      (await runNetc("compile", "examples/tiny-video.net", "--target", "wgsl", "--set", "B=1", "-o", bundle)).code,
    ).toBe(0);
    const clips = join(dir, "data", "clips");
    const r1 = await runNetc("infer", onnx, clips, "-o", join(dir, "onnx.jsonl"), "--batch", "3");
    expect(r1.code, r1.err).toBe(0);
    const r2 = await runNetc("infer", bundle, clips, "-o", join(dir, "bundle.jsonl"), "--batch", "3");
    expect(r2.code, r2.err).toBe(0);
    const [a, b] = [scores(join(dir, "onnx.jsonl")), scores(join(dir, "bundle.jsonl"))];
    expect(b.size).toBe(5);
    for (const [clip, s] of a) s.forEach((x, i) => expect(Math.abs(x - b.get(clip)![i])).toBeLessThan(1e-3));
  }, 120_000);
});
