// examples/node run the way its README says (tsx in its folder, `netc` resolved by its tsconfig) on a reduced IFDD:
// a .npy clip and a folder of PNG/JPEG frames on onnxruntime-node, the .npy clip on WebGPU, bad input; and its
// frame preprocessing on its own.
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeNpy } from "../../src/util/npy.js";
import { resizeAndCrop, type RgbImage } from "../../examples/node/clip.js";
import { random } from "../helpers/ir.js";
import { tryGpu } from "../wgsl/helpers.js";
import {
  CLIP_SHAPE,
  expectScores,
  type ReducedModel,
  reducedIfdd,
  referenceScores,
  tempDir,
  writeBundle,
  writeOnnxModel,
} from "./helpers.js";

const TSX = resolve("node_modules/tsx/dist/cli.mjs");
/** The example's onnxruntime run and the reference are the same computation on the same input. */
const SAME_RUNTIME = 1e-6;
const WGSL_TOLERANCE = 1e-3;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function classify(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [TSX, "classify.ts", ...args], {
      cwd: "examples/node",
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function scoresOf(run: Run): { label: string; score: number }[] {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout).scores;
}

const { gpu, reason } = await tryGpu();
gpu?.release();

describe("examples/node", () => {
  let model: ReducedModel;
  let onnxFile: string;
  let clip: Float32Array;
  let clipFile: string;
  beforeAll(() => {
    model = reducedIfdd();
    onnxFile = writeOnnxModel(model);
    clip = random("f32", CLIP_SHAPE, 41, 0, 1).data as Float32Array;
    clipFile = join(model.dir, "clip.npy");
    writeFileSync(clipFile, encodeNpy({ dtype: "f32", shape: CLIP_SHAPE, data: clip }));
  });

  it("classifies a .npy clip with onnxruntime-node, printing sorted scores and timings", async () => {
    const [json, text, want] = await Promise.all([
      classify(onnxFile, clipFile, "--json"),
      classify(onnxFile, clipFile, "--runs", "2"),
      referenceScores(model, clip),
    ]);
    expectScores(scoresOf(json), want, SAME_RUNTIME);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^session +[\d.]+ ms to create$/m);
    expect(text.stdout).toMatch(/^run +[\d.]+ ms, then [\d.]+ ms \(median of 1\)$/m);
    const printed = [...text.stdout.matchAll(/^ {2}(\w+) +([\d.]+)%/gm)].map((m) => m[1]);
    expect(printed).toEqual([...want].sort((a, b) => b[1] - a[1]).map(([label]) => label));
  }, 60_000);

  it.skipIf(!gpu)(
    `classifies the .npy clip with the WGSL bundle on WebGPU${reason ? ` (skipped: ${reason})` : ""}`,
    async () => {
      const bundle = writeBundle(model);
      expectScores(
        scoresOf(await classify(bundle, clipFile, "--backend", "wgsl", "--json")),
        await referenceScores(model, clip),
        WGSL_TOLERANCE,
      );
    },
    60_000,
  );

  it("classifies a folder of PNG and JPEG frames, taken in natural name order", async () => {
    const [, , frames, height, width] = CLIP_SHAPE;
    const dir = join(tempDir("frames"), "clip");
    mkdirSync(dir);
    writeFileSync(join(dir, "notes.txt"), "not a frame");
    const expected = new Float32Array(3 * frames * height * width);
    ["f1.png", "f2.jpg", "f3.png", "f10.jpg"].forEach((name, t) => {
      const rgba = random("u8", [height * width * 4], 50 + t, 0, 256).data as Uint8Array;
      const bytes = name.endsWith(".png")
        ? PNG.sync.write(Object.assign(new PNG({ width, height }), { data: Buffer.from(rgba) }), {
            inputHasAlpha: true,
          })
        : jpeg.encode({ width, height, data: rgba }, 95).data;
      writeFileSync(join(dir, name), bytes);
      // What the frame holds once decoded: its pixels exactly (PNG), or the JPEG's lossy version of them.
      const decoded = name.endsWith(".png") ? rgba : jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true }).data;
      for (let i = 0; i < width * height; i++)
        for (let c = 0; c < 3; c++) expected[(c * frames + t) * height * width + i] = decoded[4 * i + c] / 255;
    });
    const run = await classify(onnxFile, dir, "--json");
    expectScores(scoresOf(run), await referenceScores(model, expected), SAME_RUNTIME);
    expect(JSON.parse(run.stdout).clip).toContain(`${frames} frames (${width}x${height} -> ${width}x${height})`);
  }, 60_000);

  it("reports bad input as an error with a hint, not a stack trace", async () => {
    const wrongShape = join(model.dir, "wrong.npy");
    writeFileSync(wrongShape, encodeNpy({ dtype: "f32", shape: [3, 2], data: new Float32Array(6) }));
    const emptyDir = tempDir("empty");
    const cases = [
      [[onnxFile, join(model.dir, "missing.npy")], /^error: .*missing\.npy does not exist\nhint: /],
      [[onnxFile, wrongShape], /^error: .*wrong\.npy is f32\[3, 2\], the model takes f32\[1, 3, 4, 56, 56\]\nhint: /],
      [[onnxFile, emptyDir], /^error: .* holds no \.png, \.jpg or \.jpeg frames/],
      [
        [onnxFile, clipFile, "--backend", "wgsl"],
        /^error: .*ifdd\.onnx is not a WGSL bundle .*\nhint: compile one with/,
      ],
    ] as const;
    const [usage, ...runs] = await Promise.all([classify(onnxFile), ...cases.map(([args]) => classify(...args))]);
    runs.forEach((run, i) => {
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(cases[i][1]);
      expect(run.stderr).not.toMatch(/^\s+at /m);
    });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^usage: /m);
  }, 60_000);
});

describe("examples/node frame preprocessing", () => {
  const image = (width: number, height: number, value: (x: number, y: number) => number): RgbImage => {
    const plane = Float32Array.from({ length: width * height }, (_, i) => value(i % width, Math.floor(i / width)));
    return { width, height, planes: [plane, plane.map((v) => 1 - v), plane.map(() => 0.25)] };
  };

  it("keeps a frame of the model's size unchanged", () => {
    const frame = image(56, 56, (x, y) => ((x * 7 + y * 13) % 17) / 16);
    expect(resizeAndCrop(frame, 56, 56).planes).toEqual(frame.planes);
  });

  it("keeps a constant frame constant when shrinking and when enlarging", () => {
    for (const [w, h] of [
      [80, 60],
      [20, 30],
    ]) {
      const out = resizeAndCrop(
        image(w, h, () => 0.7),
        56,
        56,
      );
      for (const v of out.planes[0]) expect(v).toBeCloseTo(0.7, 6);
    }
  });

  it("reproduces a linear ramp away from the borders (bicubic weights sum to one and are symmetric)", () => {
    const out = resizeAndCrop(
      image(112, 112, (x) => x / 111),
      56,
      56,
    );
    // Output column x covers source pixels 2x and 2x+1: the ramp at their midpoint, 2x + 0.5.
    for (let x = 2; x < 54; x++) expect(out.planes[0][20 * 56 + x]).toBeCloseTo((2 * x + 0.5) / 111, 5);
  });

  it("crops the centre of a wide frame after fitting its height", () => {
    const out = resizeAndCrop(
      image(112, 56, (x) => (x >= 28 && x < 84 ? 1 : 0)),
      56,
      56,
    );
    expect(out.planes[0].every((v) => v === 1)).toBe(true);
  });
});
