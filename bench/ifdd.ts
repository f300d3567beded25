// IFDD through the ONNX target: compile time, ONNX emission, onnxruntime session creation and inference latency
// (median of 7 after a warm-up, 2 threads). The peer is the same model compiled with netc's IR passes off, run in
// the same process, so the ratio shows what the passes buy at run time.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { compile } from "../src/index.js";
import { readNpyFile } from "../src/util/npy.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MODEL = path.resolve(HERE, "../models/ifdd.net");
const FIXTURES = path.resolve(HERE, "../../shared/fixtures/ifdd");
const RUNS = 7;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function latency(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<{ sessionMs: number; inferenceMs: number }> {
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: "all" });
  const sessionMs = performance.now() - t0;
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  await session.release();
  return { sessionMs, inferenceMs: median(times) };
}

export interface IfddBenchResult {
  compileMs: number;
  nodes: number;
  sessionMs: number;
  inferenceMs: number;
  unoptimizedInferenceMs: number;
  unoptimizedNodes: number;
}

export async function benchIfdd(): Promise<IfddBenchResult> {
  const source = fs.readFileSync(MODEL, "utf8");
  const weights = [path.join(FIXTURES, "ifdd_dfew_random.pth")];
  compile(source, { file: MODEL, weights }); // warm the JIT
  const compileTimes: number[] = [];
  let bytes: Uint8Array | undefined;
  let nodes = 0;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const r = compile(source, { file: MODEL, weights });
    compileTimes.push(performance.now() - t);
    bytes = r.onnx;
    nodes = r.graph!.nodes.length;
  }
  const input = readNpyFile(path.join(FIXTURES, "input.npy"));
  if (!input.ok) throw new Error(input.diagnostic.message);
  const feeds = { video: new ort.Tensor("float32", input.tensor.data as Float32Array, input.tensor.shape) };
  const optimized = await latency(bytes!, feeds);
  const plain = compile(source, { file: MODEL, weights, optimize: false });
  const unoptimized = await latency(plain.onnx!, feeds);
  return {
    compileMs: median(compileTimes),
    nodes,
    sessionMs: optimized.sessionMs,
    inferenceMs: optimized.inferenceMs,
    unoptimizedInferenceMs: unoptimized.inferenceMs,
    unoptimizedNodes: plain.graph!.nodes.length,
  };
}
