// models/former_dfer.net against the official Former-DFER (github zengqunzhao/Former-DFER): two reduced
// configurations recorded by tools/record_former_dfer.py (test/fixtures/former_dfer/<case>: manifest, the input's
// SHA-256, official logits and intermediates). The checkpoints and inputs are regenerated here from the manifests by
// tools/make_former_dfer_checkpoint.py, saved as main_DFEW.py saves them (DataParallel keys in 'state_dict', SGD
// state, a pickled RecorderMeter). Then: mutations of the .net source, each caught by the official logits, and the
// WGSL bundle against onnxruntime on SwiftShader.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOnnx } from "../../src/backends/onnx/index.js";
import { type CompileResult, compile, compileToGraph } from "../../src/index.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { loadModelWeights } from "../../src/weights/model-weights.js";
import { maxAbsDiff, npy } from "../helpers/tensors.js";
import { expectLogitsMissed, itCatchesEach, type Mutation } from "./mutations.js";
import {
  loadGraph,
  onnxReference,
  maxAbsDiff as wgslDiff,
  TOLERANCE as WGSL_TOLERANCE,
  tryGpu,
} from "../wgsl/helpers.js";

const ROOT = resolve(__dirname, "../..");
const FIXTURES = join(ROOT, "test/fixtures/former_dfer");
const MODEL = join(ROOT, "models/former_dfer.net");
const SOURCE = readFileSync(MODEL, "utf8");
const PYTHON = "/usr/bin/python3";
const GENERATOR = join(ROOT, "tools/make_former_dfer_checkpoint.py");
const TOLERANCE = 1e-4;
/** Intermediates (the recorded name, the .net's tap): within 1e-4 of their largest magnitude (at least 1e-4). */
const TAPS = [
  ["frame_features", "frame_features"],
  ["t_former_in", "t_former/tokens"],
  ["clip_feature", "clip_feature"],
];
/** The S-Former's tokens, recorded for the first frame only. */
const FIRST_FRAME_TAPS = [
  ["s_former_in", "s_former/tokens"],
  ["s_former_out", "s_former/attended"],
];

interface Manifest {
  config: Record<string, number | number[]>;
  seed: number;
  input_shape: number[];
  state_dict: { key: string; shape: number[]; dtype: string }[];
}
const manifest = (kase: string): Manifest => JSON.parse(readFileSync(join(FIXTURES, kase, "manifest.json"), "utf8"));
const overrides = (m: Manifest) =>
  Object.fromEntries(Object.entries(m.config).map(([k, v]) => [k, Array.isArray(v) ? `[${v.join(", ")}]` : String(v)]));

function skipReason(): string | undefined {
  const probe = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" });
  if (probe.status !== 0) return `skipped: ${PYTHON} with torch and numpy is needed (apt-get install python3-torch)`;
  return undefined;
}
const skip = skipReason();
if (skip) console.warn(skip);

const dir = mkdtempSync(join(tmpdir(), "netc-former-dfer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The official checkpoint and the input of `kase`, made from its manifest alone. */
function generated(kase: string): { checkpoint: string; input: string } {
  const [checkpoint, input] = [join(dir, `${kase}_model_best.pth`), join(dir, `${kase}_input.npy`)];
  if (existsSync(input)) return { checkpoint, input };
  const made = spawnSync(PYTHON, [GENERATOR, join(FIXTURES, kase, "manifest.json"), checkpoint, input], {
    encoding: "utf8",
  });
  expect(made.stderr).toBe("");
  expect(made.status).toBe(0);
  return { checkpoint, input };
}

const official = (kase: string, name: string) => npy(join(FIXTURES, kase, `${name}.npy`));
const input = (kase: string) => new Map([["video", npy(generated(kase).input)]]);
const magnitude = (t: HostTensor) => Math.max(1, ...Array.from(t.data as Float32Array, Math.abs));

describe.skipIf(skip).each(["small", "identity"])("models/former_dfer.net against the official code, %s", (kase) => {
  let compiled: CompileResult;
  let outputs: Map<string, HostTensor>;
  beforeAll(async () => {
    compiled = compile(SOURCE, {
      file: MODEL,
      overrides: overrides(manifest(kase)),
      weights: [generated(kase).checkpoint],
      debugOutputs: true,
    });
    expect(compiled.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    outputs = await runOnnx(compiled.onnx!, input(kase), { threads: 2 });
  }, 180_000);

  it("runs on the input the official code ran on (regenerated from the seed)", () => {
    const video = input(kase).get("video")!;
    const bytes = Buffer.from((video.data as Float32Array).buffer);
    const expected = readFileSync(join(FIXTURES, kase, "input.sha256"), "utf8").trim();
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(expected);
  });

  it("maps every key of the official checkpoint's 'state_dict' under DataParallel's prefix, strictly", () => {
    const report = compiled.weightReport!;
    expect(report.sources).toEqual([`${generated(kase).checkpoint} ['state_dict']`]);
    expect(report.applied).toHaveLength(manifest(kase).state_dict.length);
    expect(report.applied.every((a) => a.key === `module.${a.path}`)).toBe(true);
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(report.shapeMismatch).toEqual([]);
  });

  it(`gives the official logits within ${TOLERANCE}`, () => {
    const diff = maxAbsDiff(outputs.get("logits")!, official(kase, "logits"));
    if (process.env.NETC_ZOO_REPORT) console.log(`${kase}: logits ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
  });

  it.each(TAPS)("%s matches the official intermediate within 1e-4 of its magnitude", (name, tap) => {
    const expected = official(kase, name);
    const diff = maxAbsDiff(outputs.get(tap)!, expected);
    if (process.env.NETC_ZOO_REPORT) console.log(`${kase}: ${name} ${diff.toExponential(2)} (${magnitude(expected)})`);
    expect(diff).toBeLessThan(TOLERANCE * magnitude(expected));
  });

  it.each(FIRST_FRAME_TAPS)("%s (the first frame) matches within 1e-4 of its magnitude", (name, tap) => {
    const expected = official(kase, name);
    const got = outputs.get(tap)!;
    const first: HostTensor = { ...got, shape: expected.shape, data: got.data.slice(0, expected.data.length) };
    const diff = maxAbsDiff(first, expected);
    if (process.env.NETC_ZOO_REPORT) console.log(`${kase}: ${name} ${diff.toExponential(2)} (${magnitude(expected)})`);
    expect(diff).toBeLessThan(TOLERANCE * magnitude(expected));
  });
});

describe("configurations models/former_dfer.net refuses, each with the reason", () => {
  it.each([
    [{ s_num_patches: "48" }, "positions for at most num_patches tokens"],
    [{ num_frames: "17" }, "positions for at most num_patches frames"],
    [{ layers: "[2, 2, 2]" }, "layers: the number of residual blocks"],
  ])("%j", (set, message) => {
    const r = compileToGraph(SOURCE, { file: MODEL, overrides: set });
    const errors = r.diagnostics.filter((d) => d.severity === "error");
    expect(errors.map((d) => d.code)).toEqual(["NET3008"]);
    expect(errors[0].message).toContain(message);
  });
});

/** One detail of the .net text broken at a time; each must move the logits past the tolerance or fail to compile. */
const MUTATIONS: Mutation[] = [
  [
    "the S-Former's LayerNorm epsilon 1e-5 to 1e-4",
    "layer layers[i][0].fn.norm = LayerNorm(dim)",
    "layer layers[i][0].fn.norm = LayerNorm(dim, eps = 1e-4)",
  ],
  ["the stem's batch-norm epsilon 1e-5 to 1e-3", "layer bn1 = BatchNorm(64)", "layer bn1 = BatchNorm(64, eps = 1e-3)"],
  ["the max pool without padding", "[3, 3], [2, 2], padding = [1, 1])", "[3, 3], [2, 2], padding = [0, 0])"],
  ["ReLU before the residual sum", "return relu(out + identity)", "return relu(out) + identity"],
  [
    "the layer3 map read as tokens column by column",
    "transpose(reshape(x, [N, dim, h * w]), 1, 2)",
    "transpose(reshape(transpose(x, 2, 3), [N, dim, h * w]), 1, 2)",
  ],
  [
    "q and k swapped",
    "let (q, k, v) = split(to_qkv(x), 3, axis = -1)",
    "let (k, q, v) = split(to_qkv(x), 3, axis = -1)",
  ],
  ["the attention scaled by the width", "scale = dim_head ** -0.5", "scale = dim ** -0.5"],
  ["exact GELU for the tanh form", 'gelu(net[0](x), approximate = "tanh")', "gelu(net[0](x))"],
  [
    "the feed-forward normalised by the attention's LayerNorm",
    "x = layers[i][1].fn.fn(layers[i][1].fn.norm(x)) + x",
    "x = layers[i][1].fn.fn(layers[i][0].fn.norm(x)) + x",
  ],
  ["max pooling for the average pool", "return mean(x, [2, 3])", "return amax(x, [2, 3])"],
  [
    "the class token after the frames",
    "concat([expand(cls_token, [B, 1, dim]), x], axis = 1)",
    "concat([x, expand(cls_token, [B, 1, dim])], axis = 1)",
  ],
  ["the second token read out", "spatial_transformer(x)[:, 0]", "spatial_transformer(x)[:, 1]"],
  [
    "the clips' frames interleaved (time-major)",
    "reshape(frame_features, [B, num_frames, 512])",
    "reshape(transpose(reshape(frame_features, [num_frames, B, 512]), 0, 1), [B, num_frames, 512])",
  ],
];

describe.skipIf(skip)("mutations of models/former_dfer.net are caught by the official logits (small)", () => {
  // The checkpoint is read once; each mutated source compiles onto the same loaded weights.
  let weights: ReadonlyMap<string, HostTensor>;
  beforeAll(() => {
    const front = compileToGraph(SOURCE, { file: MODEL, overrides: overrides(manifest("small")) });
    const loaded = loadModelWeights(front.graph!, [{ path: generated("small").checkpoint }], front.weightRules);
    expect(loaded.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    weights = loaded.weights!;
  }, 120_000);

  itCatchesEach(SOURCE, MUTATIONS, async (mutated, [name]) => {
    const r = compile(mutated, { file: MODEL, overrides: overrides(manifest("small")), weights });
    const logitsOf = async (onnx: Uint8Array) =>
      (await runOnnx(onnx, input("small"), { threads: 2, outputs: ["logits"] })).get("logits")!;
    const diff = await expectLogitsMissed(r, logitsOf, official("small", "logits"), TOLERANCE, "catch");
    if (process.env.NETC_ZOO_REPORT && diff !== undefined) console.log(`${name}: ${diff.toExponential(2)}`);
  });
});

const { gpu, reason } = skip ? { gpu: undefined, reason: skip } : await tryGpu();
describe.skipIf(!gpu)(
  `models/former_dfer.net on WebGPU at a reduced size${reason ? ` (skipped: ${reason})` : ""}`,
  () => {
    afterAll(() => gpu?.release());

    it(`matches onnxruntime within ${WGSL_TOLERANCE} (the small weights, one 4-frame clip of 32x32)`, async () => {
      const sets = { ...overrides(manifest("small")), num_frames: "4", image_size: "32", B: "1" };
      const front = compileToGraph(SOURCE, { file: MODEL, overrides: sets });
      const graph = front.graph!;
      const loaded = loadModelWeights(graph, [{ path: generated("small").checkpoint }], front.weightRules);
      expect(loaded.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const shape = [1, 4, 3, 32, 32];
      const clip: HostTensor = {
        dtype: "f32",
        shape,
        data: new Float32Array(shape.reduce((a, b) => a * b)).map(
          (_, i) => Math.sin(i * 0.37) + Math.floor(i / 1024) * 0.1,
        ),
      };
      const inputs = new Map([["video", clip]]);
      const { model } = await loadGraph(gpu!, graph, { weights: loaded.weights! });
      const got = await model.run(Object.fromEntries(inputs));
      model.destroy();
      const reference = await onnxReference(graph, inputs, { weights: loaded.weights! });
      expect(wgslDiff(got.logits, reference.get("logits")!)).toBeLessThanOrEqual(WGSL_TOLERANCE);
    }, 300_000);
  },
);

// GenerateModel() as published (16 frames of 112x112, 7 classes), recorded once with
// `tools/record_former_dfer.py <official> <dir> full` (not committed: the reduced cases cover every path):
//   NETC_FORMER_DFER_FULL=<dir>/full npx vitest run test/models/former_dfer.test.ts -t "full configuration"
const FULL = process.env.NETC_FORMER_DFER_FULL;
describe.skipIf(skip || !FULL)("models/former_dfer.net, the full configuration against the official code", () => {
  it(`gives the official logits within ${TOLERANCE} and the intermediates within 1e-4 of their magnitude`, async () => {
    const m: Manifest = JSON.parse(readFileSync(join(FULL!, "manifest.json"), "utf8"));
    const [checkpoint, video] = [join(dir, "full_model_best.pth"), join(dir, "full_input.npy")];
    const made = spawnSync(PYTHON, [GENERATOR, join(FULL!, "manifest.json"), checkpoint, video], { encoding: "utf8" });
    expect(made.status, made.stderr).toBe(0);
    const r = compile(SOURCE, { file: MODEL, overrides: overrides(m), weights: [checkpoint], debugOutputs: true });
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const got = await runOnnx(r.onnx!, new Map([["video", npy(video)]]), { threads: 2 });
    const logits = maxAbsDiff(got.get("logits")!, npy(join(FULL!, "logits.npy")));
    console.log(`full configuration: logits max abs diff ${logits.toExponential(2)}`);
    expect(logits).toBeLessThan(TOLERANCE);
    for (const [name, tap] of [...TAPS, ...FIRST_FRAME_TAPS]) {
      const expected = npy(join(FULL!, `${name}.npy`));
      const actual = got.get(tap)!;
      const first: HostTensor = { ...actual, shape: expected.shape, data: actual.data.slice(0, expected.data.length) };
      const diff = maxAbsDiff(first, expected);
      console.log(`  ${name}: ${diff.toExponential(2)} (scale ${magnitude(expected).toFixed(2)})`);
      expect(diff).toBeLessThan(TOLERANCE * magnitude(expected));
    }
  }, 600_000);
});
