// models/ifdd.net against the official PyTorch outputs in ../shared/fixtures/ifdd (made by the official code).
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { runOnnx } from "../../src/backends/onnx/index.js";
import { MAX_OPSET } from "../../src/backends/onnx/opset.js";
import { type CompileResult, compile } from "../../src/index.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { maxAbsDiff, npy } from "../helpers/tensors.js";
import { viewModel } from "../helpers/model.js";
import { checkerTest, ModelBatch } from "../helpers/onnx-check.js";

const ROOT = resolve(__dirname, "../..");
const FIXTURES = resolve(ROOT, "../shared/fixtures/ifdd");
const MODEL = join(ROOT, "models/ifdd.net");
const CHECKPOINT = join(FIXTURES, "ifdd_dfew_random.pth");
const TOLERANCE = 1e-4;

/** Graph outputs (taps) and the official intermediates they must equal. */
const TAPS: Record<string, string> = {
  "backbone.backbone.blocks.3/out": "backbone_block03_out",
  "backbone.backbone.blocks.8/out": "backbone_block08_out",
  "backbone.backbone.blocks.9/out": "backbone_block09_out",
  "backbone.backbone/final_norm_out": "backbone_final_norm_out",
  "backbone/fpn_panlayer0_out": "fpn_panlayer0_out",
  "backbone/fpn_catconv_out": "fpn_catconv_out",
  "backbone.WaveLifts/ladm_in": "ladm_in",
  "backbone.WaveLifts/issm_in": "issm_in",
  "backbone.WaveLifts.adapt_split/dim_project_out": "issm_dim_project_out",
  "backbone.WaveLifts.adapt_split/similarity": "issm_similarity",
  "backbone.WaveLifts.adapt_split/offset_approx_tanh": "issm_offset_approx_tanh",
  "backbone.WaveLifts.adapt_split/offset_detail_tanh": "issm_offset_detail_tanh",
  "backbone.WaveLifts.adapt_split/index_approx": "issm_index_approx",
  "backbone.WaveLifts.adapt_split/index_detail": "issm_index_detail",
  "backbone.WaveLifts.adapt_split/grid_approx": "issm_grid_approx",
  "backbone.WaveLifts.adapt_split/grid_detail": "issm_grid_detail",
  "backbone.WaveLifts.adapt_split/samplepos_approx": "issm_samplepos_approx",
  "backbone.WaveLifts.adapt_split/samplepos_detail": "issm_samplepos_detail",
  "backbone.WaveLifts/issm_x_a": "issm_x_a",
  "backbone.WaveLifts/issm_x_d": "issm_x_d",
  "backbone.WaveLifts/xa_norm_out": "ladm_xa_norm_out",
  "backbone.WaveLifts/xd_norm_out": "ladm_xd_norm_out",
  "backbone.WaveLifts/xa_updated": "ladm_xa_updated",
  "backbone.WaveLifts/xd_predicted": "ladm_xd_predicted",
  "backbone.WaveLifts/pool_a": "ladm_pool_a",
  "backbone.WaveLifts/selfattn_out": "ladm_selfattn_out",
  "backbone.WaveLifts/xd_after_selfattn": "ladm_xd_after_selfattn",
  "backbone.WaveLifts/xd_after_mlp": "ladm_xd_after_mlp",
  head_in: "head_in",
};

function compileIfdd(weightOverrides: string[] = []): CompileResult {
  const r = compile(readFileSync(MODEL, "utf8"), {
    file: MODEL,
    weights: [CHECKPOINT],
    weightOverrides,
    debugOutputs: true,
  });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return r;
}

const present = existsSync(CHECKPOINT);

describe.skipIf(!present)("models/ifdd.net (official DFEW model)", () => {
  const batch = new ModelBatch();
  let compiled: CompileResult;
  let outputs: Map<string, HostTensor>;
  const input = () => npy(join(FIXTURES, "input.npy"));

  beforeAll(async () => {
    compiled = compileIfdd();
    batch.add("ifdd", compiled.onnx!);
    outputs = await runOnnx(compiled.onnx!, new Map([["video", input()]]), { threads: 2 });
  }, 120_000);

  it("accounts for every checkpoint key: 297 applied, the 7 the forward never uses reported as unused", () => {
    const report = compiled.weightReport!;
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(report.shapeMismatch).toEqual([]);
    expect(report.applied).toHaveLength(297);
    expect(
      report.applied
        .filter((a) => a.unused)
        .map((a) => a.path)
        .sort(),
    ).toEqual([
      "backbone.WaveLifts.adapt_split.time_project.0.bias",
      "backbone.WaveLifts.adapt_split.time_project.0.weight",
      "backbone.WaveLifts.adapt_split.time_project.2.bias",
      "backbone.WaveLifts.adapt_split.time_project.2.weight",
      "backbone.WaveLifts.class_pos",
      "backbone.WaveLifts.spatial_pos",
      "backbone.WaveLifts.temporal_pos",
    ]);
  });

  it(`gives the official logits within ${TOLERANCE}`, () => {
    expect(maxAbsDiff(outputs.get("logits")!, npy(join(FIXTURES, "logits.npy")))).toBeLessThan(TOLERANCE);
  });

  it.each(Object.entries(TAPS))(`intermediate %s matches %s within ${TOLERANCE}`, (tap, fixture) => {
    const got = outputs.get(tap);
    expect(got, `the graph has no output ${tap}`).toBeDefined();
    expect(maxAbsDiff(got!, npy(join(FIXTURES, "inter", `${fixture}.npy`)))).toBeLessThan(TOLERANCE);
  });

  it("is a small fraction of torch.onnx.export's 9,058 nodes", () => {
    const nodes = compiled.graph!.nodes.filter((n) => !["param", "const", "input"].includes(n.op)).length;
    expect(nodes).toBeLessThan(9058 / 5);
  });

  it(`at opset ${MAX_OPSET} (one Gelu and one Attention node each) with --deploy (no Transpose of a weight) ` +
    `gives the official logits too`, async () => {
    const r = compile(readFileSync(MODEL, "utf8"), {
      file: MODEL,
      weights: [CHECKPOINT],
      opset: MAX_OPSET,
      deploy: true,
    });
    const view = viewModel(r.onnx!);
    const ops = view.nodes.map((n) => n.opType);
    const weightNames = new Set(view.initializers.map((i) => i.name));
    expect(view.nodes.filter((n) => n.opType === "Transpose" && weightNames.has(n.input[0]))).toEqual([]);
    const layouts = JSON.parse(view.meta["netc.weight_layouts"]) as { checkpoint: string }[];
    // At least the proj and two MLP Linears of 12 blocks (the pooled blocks' qkv weights are read as stored).
    expect(layouts.length).toBeGreaterThanOrEqual(36);
    expect(layouts.map((l) => l.checkpoint)).toContain("backbone.WaveLifts.q_d.weight");
    expect(ops.filter((o) => o === "Gelu")).toHaveLength(12);
    // 13 attentions, the 10 MViT ones with their class-token query row apart (its bias row is padding): 13 + 10;
    // and the query rows of blocks 0-7, over 8 MiB of scores, in parts: 5, 10, 3, 3 and 2 (blocks 4-7) parts, +21.
    expect(ops.filter((o) => o === "Attention")).toHaveLength(44);
    expect(ops).not.toContain("Erf");
    const out = await runOnnx(r.onnx!, new Map([["video", input()]]), { threads: 2, outputs: ["logits"] });
    expect(maxAbsDiff(out.get("logits")!, npy(join(FIXTURES, "logits.npy")))).toBeLessThan(TOLERANCE);
  }, 120_000);

  it("with onnxruntime's contrib ops (23 MultiHeadAttention nodes) gives the official logits, B = 2 too", async () => {
    const r = compile(readFileSync(MODEL, "utf8"), { file: MODEL, weights: [CHECKPOINT], onnxruntimeOps: true });
    const ops = viewModel(r.onnx!).nodes.map((n) => n.opType);
    expect(ops.filter((o) => o === "MultiHeadAttention")).toHaveLength(23);
    // Each attention's Softmax went into its MultiHeadAttention; the model's own softmax ops stay.
    const softmaxOps = r.graph!.nodes.filter((n) => n.op === "softmax").length;
    expect(ops.filter((o) => o === "Softmax")).toHaveLength(softmaxOps);
    const one = input();
    const two = new Float32Array(2 * one.data.length);
    two.set(one.data as Float32Array);
    two.set(
      (one.data as Float32Array).map((v, i) => (v + 0.3 * Math.sin(i)) % 1),
      one.data.length,
    );
    const video = { dtype: "f32" as const, shape: [2, ...one.shape.slice(1)], data: two };
    const out = await runOnnx(r.onnx!, new Map([["video", video]]), { threads: 2, outputs: ["logits"] });
    const logits = out.get("logits")!;
    const first: HostTensor = { dtype: "f32", shape: [1, 7], data: (logits.data as Float32Array).slice(0, 7) };
    expect(maxAbsDiff(first, npy(join(FIXTURES, "logits.npy")))).toBeLessThan(TOLERANCE);
    // The second clip through the standard graph: the merged batch rows keep the clips apart.
    const second = await runOnnx(compiled.onnx!, new Map([["video", { ...one, data: two.slice(one.data.length) }]]), {
      threads: 2,
      outputs: ["logits"],
    });
    const got: HostTensor = { dtype: "f32", shape: [1, 7], data: (logits.data as Float32Array).slice(7) };
    expect(maxAbsDiff(got, second.get("logits")!)).toBeLessThan(1e-5);
    expect(maxAbsDiff(got, first)).toBeGreaterThan(1e-6);
  }, 120_000);

  it("matches the stress fixture (saturated offsets, clamped and crossing positions)", async () => {
    const r = compileIfdd([join(FIXTURES, "stress/state_dict_overrides.pth")]);
    const out = await runOnnx(r.onnx!, new Map([["video", input()]]), { threads: 2 });
    const dir = join(FIXTURES, "stress");
    expect(maxAbsDiff(out.get("logits")!, npy(join(dir, "logits.npy")))).toBeLessThan(TOLERANCE);
    for (const [tap, fixture] of Object.entries(TAPS))
      if (existsSync(join(dir, `${fixture}.npy`)))
        expect(maxAbsDiff(out.get(tap)!, npy(join(dir, `${fixture}.npy`))), tap).toBeLessThan(TOLERANCE);
    const positions = out.get("backbone.WaveLifts.adapt_split/index_detail")!.data as Float32Array;
    expect([...positions].some((p, i) => i > 0 && p < positions[i - 1])).toBe(true); // crossing positions really occur
  }, 120_000);

  it("keeps the batch symbolic: B = 4 gives each clip's B = 1 result", async () => {
    const one = input();
    const n = one.data.length;
    const four = new Float32Array(4 * n);
    for (let b = 0; b < 4; b++)
      for (let i = 0; i < n; i++)
        four[b * n + i] = b === 0 ? (one.data[i] as number) : ((one.data[(i * (b + 3)) % n] as number) + 0.25 * b) % 1;
    const out = await runOnnx(
      compiled.onnx!,
      new Map([["video", { dtype: "f32", shape: [4, ...one.shape.slice(1)], data: four }]]),
      { threads: 2, outputs: ["logits"] },
    );
    const logits = out.get("logits")!;
    expect(logits.shape).toEqual([4, 7]);
    const row = (t: HostTensor, b: number): HostTensor => ({
      dtype: "f32",
      shape: [1, 7],
      data: (t.data as Float32Array).slice(b * 7, b * 7 + 7),
    });
    expect(maxAbsDiff(row(logits, 0), npy(join(FIXTURES, "logits.npy")))).toBeLessThan(TOLERANCE);
    const third = await runOnnx(
      compiled.onnx!,
      new Map([["video", { dtype: "f32", shape: one.shape, data: four.slice(2 * n, 3 * n) }]]),
      { threads: 2, outputs: ["logits"] },
    );
    expect(maxAbsDiff(row(logits, 2), third.get("logits")!)).toBeLessThan(1e-5);
    expect(maxAbsDiff(row(logits, 2), row(logits, 0))).toBeGreaterThan(1e-6); // the clips really differ
  }, 120_000);

  it("imports the official checkpoint to safetensors bit for bit, which compiles to the official logits", async () => {
    const { main } = await import("../../src/cli/main.js");
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const target = join(mkdtempSync(join(tmpdir(), "netc-ifdd-")), "ifdd.safetensors");
    const quiet = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await main(["weights", "import", CHECKPOINT, "--model", MODEL, "-o", target])).toBe(0);
    } finally {
      quiet.mockRestore();
    }
    const { findStateDict, openCheckpoint } = await import("../../src/weights/index.js");
    const [imported, official] = [openCheckpoint(target), openCheckpoint(CHECKPOINT)];
    const a = findStateDict(imported).tensors;
    const b = findStateDict(official, "model").tensors;
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [key, entry] of a)
      expect(
        Buffer.from(imported.readTensor(entry).data.buffer).equals(
          Buffer.from(official.readTensor(b.get(key)!).data.buffer),
        ),
        key,
      ).toBe(true);
    imported.close();
    official.close();
    const r = compile(readFileSync(MODEL, "utf8"), { file: MODEL, weights: [target] });
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(r.weightReport!.applied).toHaveLength(297);
    const out = await runOnnx(r.onnx!, new Map([["video", input()]]), { threads: 2 });
    expect(maxAbsDiff(out.get("logits")!, npy(join(FIXTURES, "logits.npy")))).toBeLessThan(TOLERANCE);
  }, 120_000);

  checkerTest(batch);
});
