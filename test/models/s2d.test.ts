// models/s2d.net against the official PyTorch outputs in ../shared/fixtures/s2d (made by the official code at a
// small size: embed_dim 64, depth 3, 4 heads, 4 frames), the full DFEW configuration, and the three weight layouts.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runOnnx } from "../../src/backends/onnx/index.js";
import {
  type CompileOptions,
  type CompileResult,
  compile,
  compileToGraph,
  type Graph,
  graphStats,
} from "../../src/index.js";
import { type HostTensor, numel } from "../../src/util/tensor.js";
import { maxAbsDiff, npy } from "../helpers/tensors.js";
import { runNetc } from "../helpers/cli.js";
import { checkerTest, ModelBatch } from "../helpers/onnx-check.js";

const ROOT = resolve(__dirname, "../..");
const FIXTURES = resolve(ROOT, "../shared/fixtures/s2d");
const MODEL = join(ROOT, "models/s2d.net");
const LANDMARKS = join(ROOT, "test/models/s2d_landmarks.net");
const PRETRAINED = join(ROOT, "test/fixtures/s2d/pretrained_small.pth");
const SMALL = { embed_dim: "64", depth: "3", num_heads: "4", num_frames: "4" };
const TOLERANCE = 1e-4;

/** Graph outputs (outputs, and taps under debugOutputs) and the official values they must equal. */
const COMPARED: Record<string, string> = {
  logits: "logits",
  feature: "pooled_feature",
  lm_input: "lm_input_resized_112",
  lm_feat: "lm_feat_conv4",
  patch_embed_out: "patch_embed_out",
  patch_embed_prompt_out: "patch_embed_prompt_out",
  "prompt_blocks.0/in_cat": "prompt0_in_cat",
  "prompt_blocks.0/fovea_out": "prompt0_fovea_out",
  "prompt_blocks.0/conv_out": "prompt0_conv_out",
  "prompt_blocks.0.TMA/t_out": "prompt0_tma_T_out",
  "prompt_blocks.0.TMA/out": "prompt0_tma_out",
  "blocks.0/input": "block0_in",
  "blocks.0/out": "block0_out",
  "blocks.1/input": "block1_in",
  "blocks.2/out": "block2_out",
};

/** The fixture sets: the official random init, and every weight re-drawn so that every branch matters. */
const SETS = [
  { name: "official init", dir: FIXTURES, s2d: "s2d_small_random.pth", landmark: "mobilefacenet_random.pth.tar" },
  {
    name: "perturbed",
    dir: join(FIXTURES, "perturbed"),
    s2d: "s2d_small_perturbed.pth",
    landmark: "mobilefacenet_perturbed.pth.tar",
  },
];

function build(file: string, options: CompileOptions): CompileResult {
  const r = compile(readFileSync(file, "utf8"), { file, ...options });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return r;
}

/** A fixture for the landmark branch's input: each frame [(b t), 3, 224, 224] as the official rearrange gives it. */
const video = () => npy(join(FIXTURES, "input_video.npy"));

const present = existsSync(join(FIXTURES, "s2d_small_random.pth"));

describe.skipIf(!present)("models/s2d.net, small configuration, against the official code", () => {
  const batch = new ModelBatch();

  describe.each(SETS)("$name weights", (set) => {
    let compiled: CompileResult;
    let outputs: Map<string, HostTensor>;

    beforeAll(async () => {
      compiled = build(MODEL, {
        overrides: SMALL,
        weights: [join(set.dir, set.s2d), `landmark=${join(set.dir, set.landmark)}`],
        debugOutputs: true,
      });
      batch.add(`s2d-small-${set.name}`, compiled.onnx!);
      outputs = await runOnnx(compiled.onnx!, new Map([["video", video()]]), { threads: 2 });
    }, 300_000);

    it("maps both checkpoints strictly: 113 keys of ['model'] and 333 of ['state_dict'] under landmark.", () => {
      const report = compiled.weightReport!;
      expect(report.missing).toEqual([]);
      expect(report.unexpected).toEqual([]);
      expect(report.shapeMismatch).toEqual([]);
      expect(report.sources).toEqual([
        `${join(set.dir, set.s2d)} ['model']`,
        `${join(set.dir, set.landmark)} ['state_dict']`,
      ]);
      expect(report.applied.filter((a) => !a.path.startsWith("landmark."))).toHaveLength(113);
      expect(
        report.applied.filter((a) => a.path.startsWith("landmark.") && a.key === a.path.slice("landmark.".length)),
      ).toHaveLength(333);
      // Unused: the last prompt norm, MobileFaceNet after conv_4, and BatchNorm's training counters.
      const unused = report.applied.filter((a) => a.unused).map((a) => a.path);
      expect(
        unused.filter(
          (p) =>
            !p.endsWith(".num_batches_tracked") && !/^landmark\.(conv_45|conv_5|conv_6_sep|output_layer)\./.test(p),
        ),
      ).toEqual(["prompt_norms.2.weight", "prompt_norms.2.bias"]);
      expect(unused.filter((p) => p.endsWith(".num_batches_tracked"))).toHaveLength(50);
    });

    it.each(Object.entries(COMPARED))(`%s matches %s within ${TOLERANCE}`, (name, fixture) => {
      const file = join(set.dir, `${fixture}.npy`);
      if (!existsSync(file)) return void expect(fixture).toBe("lm_input_resized_112"); // the same input in both sets
      const got = outputs.get(name);
      expect(got, `the graph has no output ${name}`).toBeDefined();
      expect(maxAbsDiff(got!, npy(file))).toBeLessThan(TOLERANCE);
    });

    it("MobileFaceNet alone gives the official 68 landmarks (computed by S2D, then discarded)", async () => {
      const r = build(LANDMARKS, { weights: [`landmark=${join(set.dir, set.landmark)}`] });
      expect(r.weightReport!.applied).toHaveLength(333);
      expect(
        r
          .weightReport!.applied.filter((a) => a.unused)
          .map((a) => a.path)
          .every((p) => p.endsWith(".num_batches_tracked")),
      ).toBe(true);
      const out = await runOnnx(r.onnx!, new Map([["frames", npy(join(FIXTURES, "lm_input_resized_112.npy"))]]), {
        threads: 2,
      });
      expect(maxAbsDiff(out.get("landmarks")!, npy(join(set.dir, "lm_landmarks_136_unused.npy")))).toBeLessThan(
        TOLERANCE,
      );
      expect(maxAbsDiff(out.get("feat")!, npy(join(set.dir, "lm_feat_conv4.npy")))).toBeLessThan(TOLERANCE);
    }, 120_000);
  });

  it("keeps the batch symbolic: one clip alone gives its row of the two-clip logits", async () => {
    const r = build(MODEL, {
      overrides: SMALL,
      weights: [join(FIXTURES, "perturbed", SETS[1].s2d), `landmark=${join(FIXTURES, "perturbed", SETS[1].landmark)}`],
    });
    const two = video();
    const one: HostTensor = {
      dtype: "f32",
      shape: [1, ...two.shape.slice(1)],
      data: (two.data as Float32Array).slice(numel(two.shape) / 2),
    };
    const out = await runOnnx(r.onnx!, new Map([["video", one]]), { threads: 2, outputs: ["logits"] });
    const expected = npy(join(FIXTURES, "perturbed/logits.npy"));
    const row: HostTensor = { dtype: "f32", shape: [1, 7], data: (expected.data as Float32Array).slice(7) };
    expect(maxAbsDiff(out.get("logits")!, row)).toBeLessThan(TOLERANCE);
  }, 120_000);

  checkerTest(batch);
});

describe("models/s2d.net, full DFEW configuration (ViT-B/16, 16 frames, 7 classes)", () => {
  let graph: Graph;
  const declared = (prefix: boolean) =>
    graph.params.filter((p) => p.path.startsWith("landmark.") === prefix).reduce((s, p) => s + numel(p.shape), 0);
  beforeAll(() => {
    const front = compileToGraph(readFileSync(MODEL, "utf8"), { file: MODEL });
    expect(front.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    graph = front.graph!;
  }, 120_000);

  it("declares the official state dict's 95,055,571 parameters and MobileFaceNet's 1,026,898 tensor elements", () => {
    expect(declared(false)).toBe(95_055_571);
    // 1,007,248 parameters + 19,650 BatchNorm buffer elements (running statistics and counters).
    expect(declared(true)).toBe(1_026_898);
  });

  it("counts 313.1 G multiply-adds per 16-frame clip (the official 313.5 G less MobileFaceNet's dead tail)", () => {
    const stats = graphStats(graph);
    expect(Math.abs(stats.macs - 313.1e9)).toBeLessThan(0.05e9);
    expect(stats.parameters).toBe(95_055_571 - 1536 + 578_304); // prompt_norms.11 unused; MobileFaceNet up to conv_4
  });

  const batch = new ModelBatch();
  it("compiles with random weights and runs one clip in onnxruntime", async () => {
    const r = build(MODEL, { overrides: { B: "1" } });
    batch.add("s2d-full", r.onnx!);
    const clip = new Float32Array(3 * 16 * 224 * 224).map((_, i) => Math.sin(i * 0.37));
    const out = await runOnnx(
      r.onnx!,
      new Map([["video", { dtype: "f32", shape: [1, 3, 16, 224, 224], data: clip }]]),
      { threads: 2 },
    );
    const logits = out.get("logits")!;
    expect(logits.shape).toEqual([1, 7]);
    expect(Array.from(logits.data as Float32Array).every(Number.isFinite)).toBe(true);
    expect(out.get("feature")!.shape).toEqual([1, 768]);
  }, 600_000);

  checkerTest(batch);
});

describe.skipIf(!present)("the pretrained static image model's layout (`--weights pretrained=...`)", () => {
  // tools/make_s2d_fixtures.py writes it at a tiny size: embed_dim 32, depth 2, 56x56 images of 4x4 patches.
  const TINY = { embed_dim: "32", depth: "2", num_heads: "2", num_frames: "2", img_size: "56", patch_size: "4" };
  const weights = [`pretrained=${PRETRAINED}`, `landmark=${join(FIXTURES, "mobilefacenet_random.pth.tar")}`];

  it("is reported strictly: the loader's adaptations applied, what strict=False hides listed", () => {
    const r = compile(readFileSync(MODEL, "utf8"), { file: MODEL, overrides: TINY, weights });
    const report = r.weightReport!;
    expect(report.sources[0]).toBe(`${PRETRAINED} ['model']`);
    expect(report.applied.find((a) => a.path === "ln_post.weight")).toMatchObject({ key: "norm.weight" });
    expect(report.applied.find((a) => a.path === "patch_embed_prompt.proj.weight")).toMatchObject({
      key: "patch_embed_prompt.proj.weight",
    });
    expect(report.applied.filter((a) => !a.path.startsWith("landmark."))).toHaveLength(50);
    expect(report.dropped.map((d) => d.key)).toEqual([
      "landmark.backbone.conv1.conv.weight",
      "landmark.backbone.conv1.bn.weight",
      "landmark.backbone.conv1.bn.bias",
      "landmark.backbone.conv1.bn.running_mean",
      "landmark.backbone.conv1.bn.running_var",
      "landmark.backbone.conv1.prelu.weight",
      "landmark.backbone.conv1.bn.num_batches_tracked",
    ]);
    expect(report.unexpected.map((u) => u.key)).toEqual(["head.weight", "head.bias"]);
    const missing = report.missing.map((m) => m.path);
    expect(missing.filter((p) => !/^prompt_blocks\.[01]\.TMA\./.test(p))).toEqual([
      "temporal_embedding",
      "head.fc_cls.weight",
      "head.fc_cls.bias",
    ]);
    expect(missing).toHaveLength(3 + 2 * 13);
    expect(
      r.diagnostics
        .filter((d) => d.severity === "error")
        .map((d) => d.code)
        .sort(),
    ).toEqual([...Array(29).fill("NET6020"), "NET6021", "NET6021"]);
  });

  it("starts fine-tuning like the official loader: --allow-missing --allow-unexpected, the new parts drawn at " +
    "random", async () => {
    const r = build(MODEL, { overrides: { ...TINY, B: "1" }, weights, allowMissing: true, allowUnexpected: true });
    const frames = new Float32Array(3 * 2 * 56 * 56).map((_, i) => Math.cos(i * 0.11));
    const out = await runOnnx(r.onnx!, new Map([["video", { dtype: "f32", shape: [1, 3, 2, 56, 56], data: frames }]]), {
      threads: 2,
    });
    expect(Array.from(out.get("logits")!.data as Float32Array).every(Number.isFinite)).toBe(true);
  }, 120_000);
});

describe.skipIf(!present)("the netc command line on S2D", () => {
  const netc = runNetc;
  const sets = Object.entries(SMALL).flatMap(([k, v]) => ["--set", `${k}=${v}`]);

  it("compiles the small model from its two files, each through its own weights set", async () => {
    const target = join(mkdtempSync(join(tmpdir(), "netc-s2d-")), "s2d.onnx");
    const weights = [
      "--weights",
      join(FIXTURES, "s2d_small_random.pth"),
      "--weights",
      `landmark=${join(FIXTURES, "mobilefacenet_random.pth.tar")}`,
    ];
    const r = await netc("compile", MODEL, ...sets, ...weights, "-o", target);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain("446 applied, 0 missing, 0 unexpected");
    // A summary, not a listing: each weight named at most once, BatchNorm's counters in one line, no endless line.
    const lines = r.err.trimEnd().split("\n");
    expect(lines.length).toBeLessThan(40);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(300);
    expect(lines.filter((l) => l.includes("num_batches_tracked"))).toEqual([
      "  50 standard-library buffers the forward never reads (num_batches_tracked): 50 loaded, 0 not in the checkpoint",
    ]);
    const named = r.err
      .match(/(?<![\w./'-])[A-Za-z_]\w*(?:\.\w+)+(?![\w./])/g)!
      .filter((n) => !/\.(net|pth|tar|onnx)$/.test(n));
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((n, i) => named.indexOf(n) !== i)).toEqual([]);
    const out = await runOnnx(readFileSync(target), new Map([["video", video()]]), { threads: 2, outputs: ["logits"] });
    expect(maxAbsDiff(out.get("logits")!, npy(join(FIXTURES, "logits.npy")))).toBeLessThan(TOLERANCE);
  }, 120_000);

  it("imports both files into one safetensors, which alone compiles to the same logits", async () => {
    const dir = mkdtempSync(join(tmpdir(), "netc-s2d-"));
    const files = [
      join(FIXTURES, "s2d_small_random.pth"),
      `landmark=${join(FIXTURES, "mobilefacenet_random.pth.tar")}`,
    ];
    const r = await netc(
      "weights",
      "import",
      ...files,
      "--model",
      MODEL,
      ...sets,
      "--verbose",
      "-o",
      join(dir, "s2d.safetensors"),
    );
    expect(r.code, r.err).toBe(0);
    // --verbose: every entry of every list.
    expect(r.err).toContain("  renamed or transformed (333):");
    expect(r.err.split("\n").filter((l) => l.includes(" <- "))).toHaveLength(333);
    expect(r.err).not.toContain("--verbose lists them");
    const c = await netc(
      "compile",
      MODEL,
      ...sets,
      "--weights",
      join(dir, "s2d.safetensors"),
      "--quiet",
      "-o",
      join(dir, "s2d.onnx"),
    );
    expect(c.code, c.err).toBe(0);
    // --quiet: no report and no notes; no warning either (the never-called prompt norm is declared `unused`).
    expect(c.err).not.toContain("weights from");
    expect(c.err).not.toContain("note");
    expect(c.err).not.toContain("warning");
    const out = await runOnnx(readFileSync(join(dir, "s2d.onnx")), new Map([["video", video()]]), {
      threads: 2,
      outputs: ["logits"],
    });
    expect(maxAbsDiff(out.get("logits")!, npy(join(FIXTURES, "logits.npy")))).toBeLessThan(TOLERANCE);
  }, 120_000);

  it("inspect reports the full model's parameters and multiply-adds", async () => {
    const r = await netc("inspect", MODEL);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("parameters: 95,632,339 (+450,130 declared but unused)");
    expect(r.out).toContain("MACs: 313.10 G (B = 1)");
  }, 120_000);
});
