// OUS's CLIP encoder and Frames Encoder follow DFER-CLIP's modules, so a DFER-CLIP checkpoint (main.py's layout,
// the small7 case of test/fixtures/dfer_clip regenerated from its manifest) fills them with the rules docs/ous.md
// gives: every image_encoder and temporal_net tensor lands on the OUS weight of the same role.
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

/** The rules of docs/ous.md, as a user adds them to the OUS model body. */
const RULES = `weights {
  subdict "state_dict"
  strip "module."
  rename_regex r"temporal_net\\.temporal_transformer\\.layers\\.(\\d+)\\.(\\d)\\.fn\\.(fn\\.)?(.*)" -> "frame_encoder.transformer.layers.$1.$2.$4"
  rename "temporal_net" -> "frame_encoder"
  rename "image_encoder" -> "visual"
}`;

/** small7's configuration in OUS's parameters: CLIP 128 wide, 2 layers, 32x32 in 16x16 patches, 512-d features. */
const SMALL7 = { image: "32", patch: "16", width: "128", layers: "2", heads: "2", embed_dim: "512", frames: "16", frame_depth: "2", polarity_blocks: "2" };

/** Where OUS keeps a DFER-CLIP tensor, written out independently of the rules. */
function ousPath(key: string): string | undefined {
  const k = key.replace(/^module\./, "");
  if (k.startsWith("image_encoder.")) return `visual.${k.slice("image_encoder.".length)}`;
  if (!k.startsWith("temporal_net.")) return undefined;
  return k
    .replace("temporal_net.", "frame_encoder.")
    .replace("temporal_transformer.", "transformer.")
    .replace(".fn.fn.", ".")
    .replace(".fn.norm.", ".norm.");
}

const skip = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" }).status !== 0;

describe.skipIf(skip)("OUS loads a DFER-CLIP checkpoint's image encoder and frames encoder", () => {
  const dir = mkdtempSync(join(tmpdir(), "netc-ous-dfer-clip-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("with docs/ous.md's rules, all 13 tensors of each temporal layer pair and every CLIP tensor map by role", () => {
    expect(readFileSync(join(ROOT, "docs/ous.md"), "utf8")).toContain(RULES);
    const checkpoint = join(dir, "small7.pth");
    const made = spawnSync(PYTHON, [join(ROOT, "tools/dfer_clip_checkpoint.py"), join(CASE, "manifest.json"), checkpoint], { encoding: "utf8" });
    expect(made.status).toBe(0);

    const anchor = "  layer frame_encoder = FramesEncoder(";
    const source = readFileSync(MODEL, "utf8").replace(anchor, `${RULES.replace(/^/gm, "  ")}\n${anchor}`);
    expect(source).toContain("rename_regex");
    const front = compileToGraph(source, { file: MODEL, overrides: SMALL7 });
    expect(front.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const loaded = loadModelWeights(front.graph!, [{ path: checkpoint }], front.weightRules, { allowMissing: true, allowUnexpected: true });
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
  }, 120_000);
});
