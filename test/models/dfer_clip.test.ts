// models/dfer_clip.net against the official DFER-CLIP code (test/fixtures/dfer_clip, recorded by
// tools/record_dfer_clip.py at two reduced sizes: DFEW's 7 and MAFW's 11 classes). The checkpoints are regenerated
// here from each case's manifest with tools/dfer_clip_checkpoint.py (python3-torch), saved as main.py saves them.
// A mutation check breaks one detail of the .net at a time and expects the case to catch it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOnnx } from "../../src/backends/onnx/index.js";
import { compile, type CompileResult, compileToGraph, graphStats } from "../../src/index.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { checkerTest, ModelBatch } from "../helpers/onnx-check.js";
import { maxAbsDiff, npy } from "../helpers/tensors.js";
import { expectLogitsMissed, itCatchesEach, type Mutation } from "./mutations.js";

const ROOT = resolve(__dirname, "../..");
const FIXTURES = join(ROOT, "test/fixtures/dfer_clip");
const MODEL = join(ROOT, "models/dfer_clip.net");
const PYTHON = "/usr/bin/python3";
const TOLERANCE = 1e-4;
/** Intermediates: this much of their largest magnitude (at least of 1). */
const RELATIVE = 1e-5;

/** Graph outputs (taps under debugOutputs) and the official values recorded for them. */
const COMPARED: Record<string, string> = {
  "image_encoder/ln_pre_out": "ln_pre_out",
  "image_encoder/block_out.0": "block_out_0",
  "image_encoder/block_out.1": "block_out_1",
  image_features: "image_features",
  "temporal_net/input": "temporal_input",
  video_features: "video_features",
};

interface Manifest {
  config: { clip: number[]; temporal_layers: number; frames: number; batch: number; classes: number };
  tensors: { key: string; same_as?: string }[];
}

/** The model's --set values for a case: CLIP(embed_dim, image_resolution, vision_layers, vision_width, patch, ...). */
function overrides(m: Manifest): Record<string, string> {
  const [embedDim, image, layers, width, patch] = m.config.clip;
  return {
    embed_dim: String(embedDim),
    image_size: String(image),
    layers: String(layers),
    width: String(width),
    patch_size: String(patch),
    num_frames: String(m.config.frames),
    num_classes: String(m.config.classes),
    temporal_layers: String(m.config.temporal_layers),
  };
}

function skipReason(): string | undefined {
  const probe = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" });
  if (probe.status !== 0) return `skipped: ${PYTHON} with torch and numpy is needed (apt-get install python3-torch)`;
  return undefined;
}
const skip = skipReason();
if (skip) console.warn(skip);

const dir = mkdtempSync(join(tmpdir(), "netc-dfer-clip-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  manifest: Manifest;
  weights: string[];
}

const prepared = new Map<string, Case>();

/** The case with its checkpoint regenerated (once per case in this file). */
function prepare(name: string): Case {
  const known = prepared.get(name);
  if (known) return known;
  const manifestFile = join(FIXTURES, name, "manifest.json");
  const checkpoint = join(dir, `${name}.pth`);
  const made = spawnSync(PYTHON, [join(ROOT, "tools/dfer_clip_checkpoint.py"), manifestFile, checkpoint], {
    encoding: "utf8",
  });
  expect(made.stderr).toBe("");
  expect(made.status).toBe(0);
  const c = {
    name,
    manifest: JSON.parse(readFileSync(manifestFile, "utf8")) as Manifest,
    weights: [checkpoint, `text=${join(FIXTURES, name, "text_features.pth")}`],
  };
  prepared.set(name, c);
  return c;
}

function build(source: string, c: Case, debugOutputs = false): CompileResult {
  const r = compile(source, { file: MODEL, overrides: overrides(c.manifest), weights: c.weights, debugOutputs });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return r;
}

async function run(onnx: Uint8Array, c: Case): Promise<Map<string, HostTensor>> {
  return runOnnx(onnx, new Map([["video", npy(join(FIXTURES, c.name, "input.npy"))]]), { threads: 2 });
}

const logitsOf = async (onnx: Uint8Array, c: Case) => (await run(onnx, c)).get("logits")!;
const official = (c: Case) => npy(join(FIXTURES, c.name, "logits.npy"));

const batch = new ModelBatch();

describe.skipIf(skip).each(["small7", "small11"])("models/dfer_clip.net, %s, against the official code", (name) => {
  let c: Case;
  let compiled: CompileResult;
  let outputs: Map<string, HostTensor>;

  beforeAll(async () => {
    c = prepare(name);
    compiled = build(readFileSync(MODEL, "utf8"), c, true);
    batch.add(`dfer-clip-${name}`, compiled.onnx!);
    outputs = await run(compiled.onnx!, c);
  }, 120_000);

  it("maps the checkpoint as main.py saved it, and the text features from their own file", () => {
    const report = compiled.weightReport!;
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(report.shapeMismatch).toEqual([]);
    const [checkpoint, text] = c.weights;
    expect(report.sources).toEqual([`${checkpoint} ['state_dict']`, text.slice("text=".length)]);
    // Every image_encoder and temporal_net tensor of the state dict; the text side and clip_model_ are dropped.
    const video = c.manifest.tensors.filter((t) => /^module\.(image_encoder|temporal_net)\./.test(t.key));
    expect(report.applied).toHaveLength(video.length + 1);
    expect(report.applied.map((a) => a.path)).toContain("text_features");
    expect(report.dropped).toHaveLength(c.manifest.tensors.length - video.length);
  });

  it(`gives the official logits within ${TOLERANCE}`, () => {
    expect(maxAbsDiff(outputs.get("logits")!, npy(join(FIXTURES, name, "logits.npy")))).toBeLessThan(TOLERANCE);
  });

  it.each(Object.entries(COMPARED))(`gives the official %s within ${RELATIVE} of its magnitude`, (output, file) => {
    const want = npy(join(FIXTURES, name, `${file}.npy`));
    const magnitude = Math.max(1, ...Array.from(want.data as Float32Array, Math.abs));
    expect(maxAbsDiff(outputs.get(output)!, want)).toBeLessThan(RELATIVE * magnitude);
  });
});

describe.skipIf(skip)("the ONNX of both cases", () => {
  checkerTest(batch);
});

describe("the paper's configurations compile from --set", () => {
  // ViT-B/32 as OpenAI's CLIP has it (87,849,216 parameters), the one-layer temporal model of the training scripts
  // (2,110,464), and one 512-d text feature per class.
  it.each([
    ["DFEW and FERV39k (the defaults): 7 classes", {}, 7],
    ["MAFW (--set num_classes=11): 11 classes", { num_classes: "11" }, 11],
  ] as const)(
    "%s, ViT-B/32 over 16 frames",
    (_name, sets, classes) => {
      const front = compileToGraph(readFileSync(MODEL, "utf8"), { file: MODEL, overrides: { B: "1", ...sets } });
      expect(front.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const graph = front.graph!;
      expect(graph.outputs.map((o) => [o.name, o.value.shape])).toEqual([["logits", [1, classes]]]);
      const stats = graphStats(graph);
      expect(stats.parameters).toBe(87_849_216 + 2_110_464 + classes * 512);
      expect(Math.abs(stats.macs - 70.58e9)).toBeLessThan(0.01e9);
    },
    60_000,
  );
});

/**
 * One detail of the .net broken at a time, each a plausible slip when writing the model from the official code.
 * The small7 case must tell every one apart from the official logits (by ten times the tolerance or more).
 */
const MUTATIONS: Mutation[] = [
  // small7's tokens enter ln_pre with a variance near 5e-4 (see tools/dfer_clip_checkpoint.py), so its epsilon counts.
  [
    "ln_pre's epsilon 1e-5 -> 1e-6 (timm's)",
    "layer ln_pre = LayerNorm(width)",
    "layer ln_pre = LayerNorm(width, eps = 1e-6)",
  ],
  [
    "ln_post on the first patch token instead of the class token",
    "return ln_post(x[:, 0, :]) @ proj",
    "return ln_post(x[:, 1, :]) @ proj",
  ],
  ["class embedding after the patches", "concat([cls, patches], axis = 1)", "concat([patches, cls], axis = 1)"],
  ["QuickGELU -> exact GELU in CLIP's MLP", "mlp.c_proj(quick_gelu(mlp.c_fc(", "mlp.c_proj(gelu(mlp.c_fc("],
  ["the MLP normalised by ln_1", "mlp.c_fc(ln_2(x))", "mlp.c_fc(ln_1(x))"],
  ["q and k swapped in the temporal attention", "let (q, k, v) = split(to_qkv(x)", "let (k, q, v) = split(to_qkv(x)"],
  ["attention scale by the model width, not dim_head", "scale = dim_head ** -0.5", "scale = dim ** -0.5"],
  ["exact GELU in the temporal FeedForward", 'approximate = "tanh"', 'approximate = "none"'],
  ["positions from index 1", "pos_embedding[:, :T + 1]", "pos_embedding[:, 1:T + 2]"],
  ["the last frame's token instead of the class token", "  return x[:, 0]\n", "  return x[:, T]\n"],
  ["text features not normalised", "@ l2_normalize(text_features).T", "@ text_features.T"],
  ["logit scale 1 / 0.07 (CLIP's initial) instead of 1 / 0.01", "/ 0.01\n}", "/ 0.07\n}"],
];

describe.skipIf(skip)("mutation check: models/dfer_clip.net with one detail broken misses the official logits", () => {
  const source = readFileSync(MODEL, "utf8");
  let c: Case;
  beforeAll(() => {
    c = prepare("small7");
  }, 60_000);

  it("the unbroken model matches", async () => {
    expect(maxAbsDiff(await logitsOf(build(source, c).onnx!, c), official(c))).toBeLessThan(TOLERANCE);
  }, 60_000);

  itCatchesEach(source, MUTATIONS, async (mutated) => {
    const r = compile(mutated, { file: MODEL, overrides: overrides(c.manifest), weights: c.weights });
    await expectLogitsMissed(r, (onnx) => logitsOf(onnx, c), official(c), 10 * TOLERANCE, "fail");
  });
});
