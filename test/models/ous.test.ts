// models/ous.net: small configurations against the independent PyTorch reference (tools/reference/ous_reference.py,
// data in test/fixtures/ous), the paper's ViT-L/14 configuration (compile, ONNX checker, size, a reduced run), and
// the ViT-B/16 and ViT-B/32 configurations.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOnnx, writeOnnx } from "../../src/backends/onnx/index.js";
import { type CompileResult, compile, compileToGraph, graphStats } from "../../src/index.js";
import { shapeToString } from "../../src/compiler/ir/dim.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { allocData, type HostTensor, numel } from "../../src/util/tensor.js";
import { viewModel } from "../helpers/model.js";
import { maxAbsDiff, npy } from "../helpers/tensors.js";
import { checkerTest, ModelBatch } from "../helpers/onnx-check.js";

const ROOT = resolve(__dirname, "../..");
const MODEL = join(ROOT, "models/ous.net");
const SOURCE = readFileSync(MODEL, "utf8");
const FIXTURES = join(ROOT, "test/fixtures/ous");
const TOLERANCE = 1e-4;

/** Intermediates the reference saves, by tap name. */
const TAPS = ["v_f", "v_s", "v_ft", "v_st", "z_pol", "fused"];

/** Model parameters as `--set` strings (strings quoted, as on the command line). */
function sets(config: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? JSON.stringify(v) : String(v)]),
  );
}

/** Uniform weights in [-scale, scale) from a fast deterministic generator (the big configurations). */
function randomWeights(graph: Graph, scale = 0.02): Map<string, HostTensor> {
  let s = 12345;
  return new Map(
    graph.params.map((p) => {
      const data = allocData(p.dtype, numel(p.shape)) as Float32Array;
      for (let i = 0; i < data.length; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        data[i] = (s / 2 ** 31 - 1) * scale;
      }
      return [p.path, { dtype: p.dtype, shape: p.shape, data }];
    }),
  );
}

/** Parameters under a path prefix. */
function paramsUnder(graph: Graph, prefix: string): number {
  return graph.params.filter((p) => p.path.startsWith(prefix)).reduce((n, p) => n + numel(p.shape), 0);
}

const batch = new ModelBatch();
/** The paper configuration's 1.4 GB of external data, removed once the checker (the file's last test) has run. */
const bigDir = mkdtempSync(join(tmpdir(), "netc-ous-"));
afterAll(() => rmSync(bigDir, { recursive: true, force: true }));

describe.each(["default", "alternative"])("models/ous.net, small %s configuration vs the PyTorch reference", (name) => {
  const dir = join(FIXTURES, name);
  const fixture = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as {
    config: Record<string, unknown>;
    state_dict_keys: number;
  };
  let compiled: CompileResult;
  let outputs: Map<string, HostTensor>;

  beforeAll(async () => {
    compiled = compile(SOURCE, {
      file: MODEL,
      overrides: sets(fixture.config),
      weights: [join(dir, "ous_small.pth")],
      debugOutputs: true,
    });
    expect(compiled.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    batch.add(`ous-small-${name}`, compiled.onnx!);
    const inputs = new Map([
      ["face", npy(join(FIXTURES, "face.npy"))],
      ["scene", npy(join(FIXTURES, "scene.npy"))],
    ]);
    outputs = await runOnnx(compiled.onnx!, inputs, { threads: 2 });
  }, 120_000);

  it("maps every key of the reference state dict, with PyTorch's names unchanged", () => {
    const report = compiled.weightReport!;
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(report.shapeMismatch).toEqual([]);
    expect(report.applied).toHaveLength(fixture.state_dict_keys);
    expect(report.applied.filter((a) => a.unused)).toEqual([]);
  });

  it(`gives the reference logits within ${TOLERANCE}`, () => {
    expect(maxAbsDiff(outputs.get("logits")!, npy(join(dir, "logits.npy")))).toBeLessThan(TOLERANCE);
  });

  it(`gives the reference polarity logits within ${TOLERANCE}`, () => {
    expect(maxAbsDiff(outputs.get("polarity")!, npy(join(dir, "polarity.npy")))).toBeLessThan(TOLERANCE);
  });

  it.each(TAPS)(`intermediate %s matches within ${TOLERANCE}`, (tap) => {
    expect(maxAbsDiff(outputs.get(tap)!, npy(join(dir, "inter", `${tap}.npy`)))).toBeLessThan(TOLERANCE);
  });

  it("gives each clip of the batch its own result", () => {
    const logits = outputs.get("logits")!.data as Float32Array;
    const n = logits.length / 2;
    expect(Math.max(...logits.slice(0, n).map((v, i) => Math.abs(v - logits[n + i])))).toBeGreaterThan(0.1);
  });
});

describe("the shared learnable queries of the type fusion", () => {
  it("are one weight, one initializer, read by every cross-type block", () => {
    const dir = join(FIXTURES, "default");
    const { config } = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as {
      config: Record<string, unknown>;
    };
    const r = compile(SOURCE, { file: MODEL, overrides: sets(config), weights: [join(dir, "ous_small.pth")] });
    const graph = r.graph!;
    expect(graph.params.filter((p) => p.path === "fusion.queries")).toHaveLength(1);
    expect(viewModel(r.onnx!).initializers.filter((t) => t.name === "fusion.queries")).toHaveLength(1);
    // Follow the queries forward: they reach the attention of both blocks.
    const queries = graph.nodes.find(
      (n) => n.op === "param" && (n.attrs as { path: string }).path === "fusion.queries",
    )!;
    const seen = new Set(queries.outputs);
    const scopes = new Set<string>();
    for (const n of graph.nodes)
      if (n.inputs.some((v) => seen.has(v))) {
        n.outputs.forEach((v) => seen.add(v));
        if (n.op === "attention") scopes.add(n.scope.replace(/\.attn\.\d+$/, ""));
      }
    expect([...scopes].sort()).toEqual(["fusion.blocks.0", "fusion.blocks.1"]);
  }, 60_000);
});

describe("models/ous.net, the paper's configuration (CLIP ViT-L/14 at 224, 16 frames)", () => {
  let graph: Graph;

  beforeAll(() => {
    const r = compileToGraph(SOURCE, { file: MODEL });
    expect(r.diagnostics).toEqual([]);
    graph = r.graph!;
  }, 120_000);

  it("has OpenAI CLIP ViT-L/14's 303,966,208 visual parameters and 340,424,963 in all", () => {
    expect(paramsUnder(graph, "visual.")).toBe(303_966_208);
    expect(graphStats(graph).parameters).toBe(340_424_963);
  });

  it("costs about 81 GMAC per image: 2.59 TMAC for a clip of 2 x 16 images", () => {
    const { macs } = graphStats(graph);
    expect(macs / 1e9).toBeCloseTo(2592.79, 1);
    expect(macs / 32 / 1e9).toBeGreaterThan(80);
    expect(macs / 32 / 1e9).toBeLessThan(82);
  });

  it("keeps the batch symbolic and the encoder shared by both streams", () => {
    expect(graph.symbols).toEqual(["B"]);
    expect(graph.inputs.map((i) => i.name)).toEqual(["face", "scene"]);
    expect(graph.outputs.map((o) => o.name)).toEqual(["logits", "polarity"]);
    // One conv1 weight, read by the patch embedding of both streams.
    const conv1 = graph.nodes.find(
      (n) => n.op === "param" && (n.attrs as { path: string }).path === "visual.conv1.weight",
    )!;
    expect(graph.nodes.filter((n) => n.op === "conv" && n.inputs.includes(conv1.outputs[0]))).toHaveLength(2);
  });

  it("compiles to a 1.4 GB model (external data) for the ONNX checker", () => {
    const path = join(bigDir, "ous.onnx");
    const zeros = new Map(
      graph.params.map((p) => [p.path, { dtype: p.dtype, shape: p.shape, data: allocData(p.dtype, numel(p.shape)) }]),
    );
    expect(writeOnnx(path, graph, { weights: zeros, externalDataPath: "ous.onnx.data" })).toEqual([]);
    batch.addFile(path);
  }, 120_000);
});

// The 16-frame ViT-L/14 run takes minutes on 2 cores (most of it onnxruntime loading 1.4 GB of weights), so it is a
// manual check (docs/ous.md); CI runs a full 16-frame clip through the ViT-B/32 configuration.
describe("models/ous.net with CLIP ViT-B/32 and 16 frames, on random weights", () => {
  it("runs a clip in onnxruntime", async () => {
    const overrides = { width: "768", layers: "12", heads: "12", patch: "32", embed_dim: "512" };
    const r = compileToGraph(SOURCE, { file: MODEL, overrides });
    const c = compile(SOURCE, { file: MODEL, overrides, weights: randomWeights(r.graph!) });
    expect(c.diagnostics).toEqual([]);
    const clip = (seed: number): HostTensor => {
      const data = new Float32Array(16 * 3 * 224 * 224);
      let s = seed;
      for (let i = 0; i < data.length; i++) data[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
      return { dtype: "f32", shape: [1, 16, 3, 224, 224], data };
    };
    const out = await runOnnx(
      c.onnx!,
      new Map([
        ["face", clip(1)],
        ["scene", clip(2)],
      ]),
      { threads: 2 },
    );
    const logits = out.get("logits")!;
    expect(logits.shape).toEqual([1, 7]);
    expect(out.get("polarity")!.shape).toEqual([1, 3]);
    const values = [...(logits.data as Float32Array)];
    for (const v of [...values, ...(out.get("polarity")!.data as Float32Array)]) expect(Number.isFinite(v)).toBe(true);
    // Cosine logits lie within the scale, and random weights still tell the classes apart.
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(100);
    expect(Math.max(...values) - Math.min(...values)).toBeGreaterThan(1e-3);
  }, 300_000);
});

describe.each([
  ["ViT-B/16", { width: "768", layers: "12", heads: "12", patch: "16", embed_dim: "512" }, 86_192_640, 197],
  ["ViT-B/32", { width: "768", layers: "12", heads: "12", patch: "32", embed_dim: "512" }, 87_849_216, 50],
])("models/ous.net with CLIP %s", (_name, overrides, visual, tokens) => {
  it(`instantiates with OpenAI CLIP's ${visual.toLocaleString("en")} visual parameters and ${tokens} tokens per ` +
    `image`, () => {
    const r = compileToGraph(SOURCE, { file: MODEL, overrides });
    expect(r.diagnostics).toEqual([]);
    const graph = r.graph!;
    expect(paramsUnder(graph, "visual.")).toBe(visual);
    expect(graph.params.find((p) => p.path === "visual.positional_embedding")!.shape).toEqual([tokens, 768]);
    expect(graph.params.find((p) => p.path === "text_features")!.shape).toEqual([7, 512]);
    expect(graph.outputs.map((o) => shapeToString(o.value.shape))).toEqual(["[B, 7]", "[B, 3]"]);
  }, 60_000);
});

checkerTest(batch);
