// OUS's CLIP encoder and Frames Encoder have DFER-CLIP's layout, so a DFER-CLIP checkpoint fills them with the rules
// docs/ous.md gives. test/models/ous-independent.test.ts checks that on a checkpoint renamed from OUS's reference;
// here the checkpoint is the official model's own state dict (the small7 manifest of test/fixtures/dfer_clip: its
// two temporal layers, the text side and clip_model_'s duplicates), regenerated as main.py saves it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileToGraph } from "../../src/index.js";
import { loadModelWeights } from "../../src/weights/model-weights.js";

const ROOT = resolve(__dirname, "../..");
const MODEL = join(ROOT, "models/ous.net");
const CASE = join(ROOT, "test/fixtures/dfer_clip/small7");
const PYTHON = "/usr/bin/python3";

/** The rules docs/ous.md gives for a DFER-CLIP checkpoint (its one `net fragment` block that strips "module."). */
function documentedRules(): string {
  const blocks = [...readFileSync(join(ROOT, "docs/ous.md"), "utf8").matchAll(/```net fragment\n([\s\S]*?)```/g)].map(
    (m) => m[1],
  );
  const rules = blocks.filter((b) => b.includes('strip "module."'));
  expect(rules).toHaveLength(1);
  return rules[0];
}

/** small7's configuration in OUS's parameters: CLIP 128 wide, 2 layers, 32x32 in 16x16 patches, 512-d features. */
const SMALL7 = {
  image: "32",
  patch: "16",
  width: "128",
  layers: "2",
  heads: "2",
  embed_dim: "512",
  frames: "16",
  frame_depth: "2",
  polarity_blocks: "2",
};

/** Where OUS keeps a DFER-CLIP tensor (it has DFER-CLIP's layout), written out independently of the rules. */
function ousPath(key: string): string | undefined {
  const k = key.replace(/^module\./, "");
  if (k.startsWith("image_encoder.")) return `visual.${k.slice("image_encoder.".length)}`;
  if (k.startsWith("temporal_net.")) return `frame_encoder.${k.slice("temporal_net.".length)}`;
  return undefined;
}

const skip = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" }).status !== 0;

describe.skipIf(skip)("OUS loads a DFER-CLIP checkpoint's image encoder and frames encoder", () => {
  const dir = mkdtempSync(join(tmpdir(), "netc-ous-dfer-clip-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("with docs/ous.md's rules, every image_encoder and temporal_net tensor of the official layout maps " +
    "by role", () => {
    const rules = documentedRules();
    const checkpoint = join(dir, "small7.pth");
    const made = spawnSync(
      PYTHON,
      [join(ROOT, "tools/dfer_clip_checkpoint.py"), join(CASE, "manifest.json"), checkpoint],
      { encoding: "utf8" },
    );
    expect(made.status).toBe(0);

    const anchor = "  layer frame_encoder = FramesEncoder(";
    const original = readFileSync(MODEL, "utf8");
    expect(original.split(anchor)).toHaveLength(2); // in the model body, once
    const source = original.replace(anchor, `${rules.replace(/^(?=.)/gm, "  ")}${anchor}`);
    const front = compileToGraph(source, { file: MODEL, overrides: SMALL7 });
    expect(front.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const loaded = loadModelWeights(front.graph!, [{ path: checkpoint }], front.weightRules, { allowMissing: true });
    expect(loaded.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const report = loaded.report!;

    const { tensors } = JSON.parse(readFileSync(join(CASE, "manifest.json"), "utf8")) as { tensors: { key: string }[] };
    const wanted = tensors.flatMap((t) => {
      const path = ousPath(t.key);
      return path ? [`${t.key} -> ${path}`] : [];
    });
    // Two temporal layers: the class token and the positions, then 11 tensors a layer (13 for DFER-CLIP's one).
    expect(wanted.filter((w) => w.includes("frame_encoder."))).toHaveLength(2 + 2 * 11);
    const applied = report.applied.map((a) => `${a.key} -> ${a.path}`);
    expect(applied.filter((a) => / -> (frame_encoder|visual)\./.test(a)).sort()).toEqual([...wanted].sort());
    expect(report.missing.map((m) => m.path).filter((p) => /^(frame_encoder|visual)\./.test(p))).toEqual([]);
    expect(report.unexpected).toEqual([]); // the text side and clip_model_ are dropped by the rules
  }, 120_000);
});
