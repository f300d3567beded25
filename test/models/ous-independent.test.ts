// models/ous.net against a second, independent reading of the paper: tools/reference-independent/ous_paper.py,
// written from the spec alone (before its author read ous.net or tools/reference/). At test time the reference
// regenerates its weights (from key, shape, dtype and a seed), input and outputs with python3-torch; netc loads the
// reference's own state dict through a `weights { }` block of renames (so the case also tests the rename rules),
// and must give its logits within 1e-4. Three cases: the reference's defaults, ous.net's defaults, and every other
// option of both (docs/ous.md, "Reconciliation").
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOnnx } from "../../src/backends/onnx/index.js";
import { compile, type CompileResult } from "../../src/index.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { maxAbsDiff, npy } from "../helpers/tensors.js";

const ROOT = resolve(__dirname, "../..");
const MODEL = join(ROOT, "models/ous.net");
const REFERENCE = join(ROOT, "tools/reference-independent/ous_paper.py");
const PYTHON = "/usr/bin/python3";
const TOLERANCE = 1e-4;

/** The reference's module names mapped onto ous.net's weight paths (docs/ous.md gives the same block). */
const RENAMES = String.raw`
  weights {
    rename "frames_encoder" -> "frame_encoder"
    rename "scene_alignment" -> "similarity"
    rename "polarity.fc1" -> "polarity_encoder.encoder.0"
    rename "polarity.fc2" -> "polarity_encoder.encoder.2"
    rename "polarity.head" -> "polarity_encoder.head"
    rename_regex r"^(fusion\.blocks\.\d+)\.ln_q_face\." -> "$1.norm_q.0."
    rename_regex r"^(fusion\.blocks\.\d+)\.ln_kv_face\." -> "$1.norm_kv.0."
    rename_regex r"^(fusion\.blocks\.\d+)\.attn_face\." -> "$1.attn.0."
    rename_regex r"^(fusion\.blocks\.\d+)\.ln_q_scene\." -> "$1.norm_q.1."
    rename_regex r"^(fusion\.blocks\.\d+)\.ln_kv_scene\." -> "$1.norm_kv.1."
    rename_regex r"^(fusion\.blocks\.\d+)\.attn_scene\." -> "$1.attn.1."
    rename_regex r"^(fusion\.blocks\.\d+)\.ln_mlp\." -> "$1.norm_mlp."
    rename_regex r"^(fusion\.blocks\.\d+)\.mlp\.c_fc\." -> "$1.mlp.fc1."
    rename_regex r"^(fusion\.blocks\.\d+)\.mlp\.c_proj\." -> "$1.mlp.fc2."
  }
`;
const ANCHOR = "  param text_features: f32[num_classes, embed_dim] // the fixed prompts through CLIP's text tower\n";

/** The reduced size, as ous.net parameters (the reference's SMALL). */
const SIZE = {
  image: "32",
  patch: "8",
  width: "64",
  layers: "4",
  heads: "4",
  embed_dim: "32",
  frames: "4",
  frame_heads: "2",
  frame_head_dim: "16",
  frame_mlp: "64",
  num_queries: "4",
  fusion_heads: "4",
};

interface Case {
  /** `--set` arguments of the reference. */
  reference: string[];
  /** ous.net parameters (beyond SIZE) that read the paper the same way. */
  netc: Record<string, string>;
  /** Reference keys that ous.net leaves unread in this configuration (training-only parts). */
  unused: string[];
}

const CASES: Record<string, Case> = {
  // Every guess as the independent reference made it.
  "the reference's defaults": {
    reference: [],
    netc: { frame_output: '"cls"', scene_aligned: "false", fusion_chain: "true", fusion_mlp_act: '"quick_gelu"' },
    unused: ["similarity.conv.weight", "similarity.conv.bias", "similarity.fc.weight", "similarity.fc.bias"],
  },
  // Every guess as ous.net makes it by default.
  "ous.net's defaults": {
    reference: ["frames_output=all", "align_feeds_fusion=true", "query_mode=parallel", "fusion_act=gelu"],
    netc: {},
    unused: [],
  },
  // The remaining alternatives of both.
  "every other option": {
    reference: [
      "pixel_norm=none",
      "frame_feature=cls",
      "lstm_hidden=16",
      "lstm_layers=2",
      "lstm_bidirectional=true",
      "share_lstm=true",
      "frames_depth=2",
      "align_feeds_fusion=true",
      "align_kernel=3",
      "polarity_blocks=3",
      "polarity_stream=face",
      "polarity_token=mean",
      "polarity_depth=1",
      "queries=3",
      "fusion_layers=3",
      "fusion_kv=concat",
      "fusion_pool=first",
      "type_embeddings=false",
      "fusion_act=gelu",
      "logit_scale=30",
      "head_proj=true",
    ],
    netc: {
      pixel_norm: "false",
      frame_feature: '"cls"',
      lstm_hidden: "16",
      lstm_layers: "2",
      lstm_bidirectional: "true",
      lstm_shared: "true",
      frame_depth: "2",
      frame_output: '"cls"',
      sim_kernel: "3",
      polarity_blocks: "3",
      polarity_stream: '"face"',
      polarity_pool: '"mean"',
      polarity_depth: "1",
      num_queries: "3",
      fusion_depth: "3",
      fusion_joint_kv: "true",
      fusion_chain: "true",
      fusion_pool: '"first"',
      type_embeddings: "false",
      logit_scale: "30.0",
      head_projection: "true",
    },
    unused: ["visual.proj"],
  },
};

/** Why the test cannot run here, or undefined. */
function skipReason(): string | undefined {
  const probe = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" });
  if (probe.status !== 0) return `skipped: ${PYTHON} with torch and numpy is needed (apt-get install python3-torch)`;
  return undefined;
}
const skip = skipReason();
if (skip) console.warn(skip);

const source = readFileSync(MODEL, "utf8");
const root = mkdtempSync(join(tmpdir(), "netc-ous-independent-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(skip).each(Object.entries(CASES))("models/ous.net vs the independent reference, %s", (name, c) => {
  const dir = join(root, name.replace(/\W+/g, "-"));
  let compiled: CompileResult;
  let outputs: Map<string, HostTensor>;

  beforeAll(async () => {
    const made = spawnSync(PYTHON, [REFERENCE, dir, ...c.reference.flatMap((s) => ["--set", s])], { encoding: "utf8" });
    expect(made.stderr).toBe("");
    expect(made.status).toBe(0);
    expect(source).toContain(ANCHOR);
    compiled = compile(source.replace(ANCHOR, ANCHOR + RENAMES), {
      file: MODEL,
      overrides: { ...SIZE, ...c.netc },
      weights: [join(dir, "weights.pth"), join(dir, "text.pth")],
      debugOutputs: true,
    });
    expect(compiled.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const inputs = new Map([
      ["face", npy(join(dir, "face.npy"))],
      ["scene", npy(join(dir, "scene.npy"))],
    ]);
    outputs = await runOnnx(compiled.onnx!, inputs, { threads: 2 });
  }, 120_000);

  it("reads every tensor of the reference's state dict through the renames", () => {
    const report = compiled.weightReport!;
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(report.shapeMismatch).toEqual([]);
    expect(
      report.applied
        .filter((a) => a.unused)
        .map((a) => a.path)
        .sort(),
    ).toEqual([...c.unused].sort());
  });

  it(`gives the reference's logits within ${TOLERANCE}`, () => {
    expect(maxAbsDiff(outputs.get("logits")!, npy(join(dir, "logits.npy")))).toBeLessThan(TOLERANCE);
  });

  it("agrees on the per-frame CLIP features and z_pol", () => {
    expect(maxAbsDiff(outputs.get("v_f")!, npy(join(dir, "v_face.npy")))).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(outputs.get("v_s")!, npy(join(dir, "v_scene.npy")))).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(outputs.get("z_pol")!, npy(join(dir, "z_pol.npy")))).toBeLessThan(TOLERANCE);
  });

  it("gives each clip of the batch its own logits", () => {
    const logits = outputs.get("logits")!.data as Float32Array;
    const n = logits.length / 2;
    expect(Math.max(...logits.slice(0, n).map((v, i) => Math.abs(v - logits[n + i])))).toBeGreaterThan(0.1);
  });
});

// The Frames Encoder is DFER-CLIP's Temporal_Transformer_Cls with its exact key layout, so a DFER-CLIP training
// checkpoint (DataParallel prefixes, {'state_dict', ...}) fills OUS's encoder and Frames Encoder through the rules of
// docs/ous.md. The checkpoint is made from the reference's tensors, renamed as DFER-CLIP's GenerateModel names them.
const DFER_CLIP_RULES = String.raw`
  weights {
    subdict "state_dict"
    strip "module."
    rename "image_encoder" -> "visual"
    rename "temporal_net" -> "frame_encoder"
    drop_regex r"(clip_model_|text_encoder|prompt_learner)\..*"
  }
`;
const AS_DFER_CLIP = `
import sys, torch
sd = torch.load(sys.argv[1])
out = {"module.image_encoder." + k[len("visual."):]: v for k, v in sd.items() if k.startswith("visual.")}
out.update({"module.temporal_net." + k[len("frames_encoder."):]: v for k, v in sd.items() if k.startswith("frames_encoder.")})
out["module.clip_model_.visual.proj"] = sd["visual.proj"]
out["module.prompt_learner.ctx"] = torch.ones(7, 8, 32)
torch.save({"epoch": 3, "state_dict": out, "best_acc": 41.5}, sys.argv[2])
`;

describe.skipIf(skip)("models/ous.net reads a DFER-CLIP checkpoint's image encoder and temporal net", () => {
  const dir = join(root, "dfer-clip");
  let compiled: CompileResult;

  beforeAll(() => {
    const made = spawnSync(PYTHON, [REFERENCE, dir], { encoding: "utf8" });
    expect(made.status).toBe(0);
    const packed = spawnSync(PYTHON, ["-c", AS_DFER_CLIP, join(dir, "weights.pth"), join(dir, "dfer_clip.pth")], {
      encoding: "utf8",
    });
    expect(packed.stderr).toBe("");
    compiled = compile(source.replace(ANCHOR, ANCHOR + DFER_CLIP_RULES), {
      file: MODEL,
      overrides: { ...SIZE, ...CASES["the reference's defaults"].netc },
      weights: [join(dir, "dfer_clip.pth")],
      allowMissing: true,
    });
  }, 120_000);

  it("maps all 13 tensors of the one-layer temporal net and the whole image encoder", () => {
    expect(compiled.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const report = compiled.weightReport!;
    const applied = report.applied.map((a) => a.path);
    expect(applied.filter((p) => p.startsWith("frame_encoder."))).toHaveLength(13);
    expect(applied).toContain("frame_encoder.temporal_transformer.layers.0.0.fn.fn.to_qkv.weight");
    expect(applied).toContain("frame_encoder.temporal_transformer.layers.0.1.fn.fn.net.3.bias");
    expect(applied.filter((p) => p.startsWith("visual.")).length).toBe(
      compiled.graph!.params.filter((p) => p.path.startsWith("visual.")).length,
    );
    expect(report.unexpected).toEqual([]);
    expect(report.dropped.length).toBe(2);
    expect(
      report.missing.map((m) => m.path).filter((p) => p.startsWith("visual.") || p.startsWith("frame_encoder.")),
    ).toEqual([]);
  });
});
