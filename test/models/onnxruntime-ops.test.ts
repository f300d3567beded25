// Every reference model compiled with onnxruntimeOps (`--onnxruntime-ops`) computes what its standard ONNX graph
// computes: small configurations with seeded random weights, a batch of 2 (the contrib form merges the batch into
// its rows), every output within 1e-4 of the standard graph's relative to its largest magnitude. Each model's own
// test holds its standard graph to the official PyTorch outputs, so these hold the contrib form to them too.
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { runOnnx } from "../../src/backends/onnx/index.js";
import { isStatic } from "../../src/compiler/ir/dim.js";
import { compile } from "../../src/index.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { random } from "../helpers/ir.js";
import { viewModel } from "../helpers/model.js";
import { maxAbsDiff } from "../helpers/tensors.js";

const ROOT = resolve(__dirname, "../..");
const BATCH = 2;

/** Small configurations (those of each model's own tests where they have one). */
const MODELS: Record<string, Record<string, string>> = {
  ifdd: {},
  s2d: { embed_dim: "32", depth: "2", num_heads: "2", num_frames: "2", img_size: "56", patch_size: "4" },
  former_dfer: {
    layers: "[1, 1, 1, 1]",
    s_heads: "4",
    s_mlp_dim: "64",
    s_dim_head: "16",
    t_depth: "2",
    t_heads: "4",
    t_mlp_dim: "64",
    t_dim_head: "16",
  },
  m3dfel: { crop_size: "32" },
  mae_dfer: {
    img_size: "48",
    patch_size: "8",
    embed_dim: "32",
    depth: "2",
    num_heads: "4",
    all_frames: "8",
    lg_region_size: "[2, 3, 2]",
  },
  dfer_clip: {
    embed_dim: "64",
    image_size: "32",
    layers: "2",
    width: "128",
    patch_size: "16",
    num_frames: "4",
    temporal_layers: "2",
  },
  ous: {
    image: "64",
    patch: "32",
    width: "128",
    layers: "4",
    heads: "2",
    embed_dim: "128",
    frames: "4",
    frame_heads: "2",
    frame_head_dim: "16",
    frame_mlp: "64",
  },
};

function inputsOf(graph: NonNullable<ReturnType<typeof compile>["graph"]>): Map<string, HostTensor> {
  return new Map(
    graph.inputs.map((input, i) => {
      const shape = input.value.shape.map((d) => (isStatic(d) ? d : BATCH));
      return [input.name, random("f32", shape, 100 + i, 0, 1)];
    }),
  );
}

const magnitude = (t: HostTensor) => (t.data as Float32Array).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe("reference models with onnxruntime's contrib ops", () => {
  it("covers every model in models/", () => {
    const files = readdirSync(join(ROOT, "models")).filter((f) => f.endsWith(".net"));
    expect(files.map((f) => f.replace(/\.net$/, "")).sort()).toEqual(Object.keys(MODELS).sort());
  });
  for (const [name, overrides] of Object.entries(MODELS))
    it(`${name}: every attention is one MultiHeadAttention, and the outputs are the standard graph's`, async () => {
      const file = join(ROOT, "models", `${name}.net`);
      const source = readFileSync(file, "utf8");
      const standard = compile(source, { file, overrides, seed: 3 });
      const contrib = compile(source, { file, overrides, seed: 3, onnxruntimeOps: true });
      expect(standard.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      expect(contrib.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const attentions = contrib.graph!.nodes.filter((n) => n.op === "attention").length;
      const ops = viewModel(contrib.onnx!).nodes.map((n) => n.opType);
      expect(ops.filter((op) => op === "MultiHeadAttention")).toHaveLength(attentions);
      // A model without attention (M3DFEL) gets the standard graph byte for byte.
      if (attentions === 0) expect(Buffer.from(contrib.onnx!).equals(Buffer.from(standard.onnx!))).toBe(true);
      const inputs = inputsOf(standard.graph!);
      const [want, got] = await Promise.all([
        runOnnx(standard.onnx!, inputs, { threads: 2 }),
        runOnnx(contrib.onnx!, inputs, { threads: 2 }),
      ]);
      for (const [output, expected] of want)
        expect(maxAbsDiff(got.get(output)!, expected), `${name}: ${output}`).toBeLessThan(
          1e-4 * Math.max(1, magnitude(expected)),
        );
    }, 120_000);
});
