// S2D through the ONNX target, small fixture configuration and full DFEW configuration: compile time (weights
// included), onnxruntime session creation and inference latency (2 threads, median after a warm-up). The peer is
// torch.onnx.export's graph of the same small model (../shared/fixtures/s2d/s2d_small_torch_export.onnx), run in
// this process on the same input; the full configuration has no exported peer here (random weights, B = 1).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { compile, type CompileOptions } from "../src/index.js";
import { readNpyFile } from "../src/util/npy.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MODEL = path.resolve(HERE, "../models/s2d.net");
const FIXTURES = path.resolve(HERE, "../../shared/fixtures/s2d");
export const SMALL = { embed_dim: "64", depth: "3", num_heads: "4", num_frames: "4" };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function latency(model: Uint8Array | string, feeds: Record<string, ort.Tensor>, runs: number): Promise<{ sessionMs: number; inferenceMs: number }> {
  const t0 = performance.now();
  const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: "all" };
  const session = typeof model === "string" ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  const sessionMs = performance.now() - t0;
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  await session.release();
  return { sessionMs, inferenceMs: median(times) };
}

function timedCompile(options: CompileOptions, repeats: number): { compileMs: number; bytes: Uint8Array; nodes: number } {
  const source = fs.readFileSync(MODEL, "utf8");
  const times: number[] = [];
  let bytes: Uint8Array | undefined;
  let nodes = 0;
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    const r = compile(source, { file: MODEL, ...options });
    times.push(performance.now() - t);
    if (!r.onnx) throw new Error(r.diagnostics.filter((d) => d.severity === "error").map((d) => d.message).join("\n"));
    bytes = r.onnx;
    nodes = r.graph!.nodes.length;
  }
  return { compileMs: median(times), bytes: bytes!, nodes };
}

export interface S2dBenchResult {
  small: { compileMs: number; nodes: number; sessionMs: number; inferenceMs: number; torchExportMs: number };
  full: { compileMs: number; megabytes: number; sessionMs: number; inferenceMs: number };
}

export async function benchS2d(): Promise<S2dBenchResult> {
  const weights = [path.join(FIXTURES, "s2d_small_random.pth"), `landmark=${path.join(FIXTURES, "mobilefacenet_random.pth.tar")}`];
  const input = readNpyFile(path.join(FIXTURES, "input_video.npy"));
  if (!input.ok) throw new Error(input.diagnostic.message);
  const feeds = { video: new ort.Tensor("float32", input.tensor.data as Float32Array, input.tensor.shape) };

  compile(fs.readFileSync(MODEL, "utf8"), { file: MODEL, overrides: SMALL, weights }); // warm the JIT
  const small = timedCompile({ overrides: SMALL, weights }, 3);
  const ours = await latency(small.bytes, feeds, 7);
  const peer = await latency(path.join(FIXTURES, "s2d_small_torch_export.onnx"), feeds, 7);

  const full = timedCompile({ overrides: { B: "1" } }, 1);
  const clip = new Float32Array(3 * 16 * 224 * 224).map((_, i) => Math.sin(i * 0.37));
  const fullRun = await latency(full.bytes, { video: new ort.Tensor("float32", clip, [1, 3, 16, 224, 224]) }, 3);
  return {
    small: { compileMs: small.compileMs, nodes: small.nodes, sessionMs: ours.sessionMs, inferenceMs: ours.inferenceMs, torchExportMs: peer.inferenceMs },
    full: { compileMs: full.compileMs, megabytes: full.bytes.length / 1e6, sessionMs: fullRun.sessionMs, inferenceMs: fullRun.inferenceMs },
  };
}
