// S2D through the ONNX target on onnxruntime-node (2 threads). Small fixture configuration: netc's graph against
// torch.onnx.export's graph of the same model and weights (../shared/fixtures/s2d/s2d_small_torch_export.onnx),
// interleaved in this process, both checked against the official logits (fixture logits.npy) within 1e-4.
// Full DFEW configuration (ViT-B/16, 16 frames, B 1, random weights): compile, session and inference time; it has no
// exported peer here, so only its output's finiteness is checked.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { compile, type CompileOptions } from "../src/index.js";
import { interleaved, maxAbsDiff, type Spread, spread } from "./measure.js";
import { tensorOf } from "./onnx-inputs.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MODEL = path.resolve(HERE, "../models/s2d.net");
const FIXTURES = path.resolve(HERE, "../../shared/fixtures/s2d");
export const SMALL = { embed_dim: "64", depth: "3", num_heads: "4", num_frames: "4" };
const SESSION: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
  graphOptimizationLevel: "all",
};

function timedCompile(
  options: CompileOptions,
  repeats: number,
): { compileMs: Spread; bytes: Uint8Array; nodes: number } {
  const source = fs.readFileSync(MODEL, "utf8");
  const times: number[] = [];
  let bytes: Uint8Array | undefined;
  let nodes = 0;
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    const r = compile(source, { file: MODEL, ...options });
    times.push(performance.now() - t);
    if (!r.onnx || !r.graph)
      throw new Error(
        r.diagnostics
          .filter((d) => d.severity === "error")
          .map((d) => d.message)
          .join("\n"),
      );
    bytes = r.onnx;
    nodes = r.graph.nodes.length;
  }
  return { compileMs: spread(times), bytes: bytes!, nodes };
}

export interface S2dBenchResult {
  small: {
    compileMs: Spread;
    nodes: number;
    sessionMs: number;
    inferenceMs: Spread;
    torchExportMs: Spread;
    /** netc's median over torch.onnx.export's median (below 1: netc is faster). */
    ratioToTorchExport: number;
    maxAbsDiffFromOfficial: { netc: number; torchExport: number };
  };
  full: { compileMs: number; megabytes: number; sessionMs: number; inferenceMs: Spread };
}

export async function benchS2d(): Promise<S2dBenchResult> {
  const weights = [
    path.join(FIXTURES, "s2d_small_random.pth"),
    `landmark=${path.join(FIXTURES, "mobilefacenet_random.pth.tar")}`,
  ];
  const feeds = { video: tensorOf(path.join(FIXTURES, "input_video.npy")) };
  const official = tensorOf(path.join(FIXTURES, "logits.npy")).data as Float32Array;

  compile(fs.readFileSync(MODEL, "utf8"), { file: MODEL, overrides: SMALL, weights }); // warm the JIT
  const small = timedCompile({ overrides: SMALL, weights }, 3);
  const t0 = performance.now();
  const ours = await ort.InferenceSession.create(small.bytes, SESSION);
  const sessionMs = performance.now() - t0;
  const peer = await ort.InferenceSession.create(path.join(FIXTURES, "s2d_small_torch_export.onnx"), SESSION);
  const logitsOf = async (s: ort.InferenceSession) => (await s.run(feeds))[s.outputNames[0]].data as Float32Array;
  const diffs = {
    netc: maxAbsDiff(await logitsOf(ours), official),
    torchExport: maxAbsDiff(await logitsOf(peer), official),
  };
  if (!(diffs.netc <= 1e-4 && diffs.torchExport <= 1e-4))
    throw new Error(`bench/s2d: logits off the official: ${JSON.stringify(diffs)}`);
  const times = await interleaved(9, { netc: () => ours.run(feeds), torchExport: () => peer.run(feeds) });
  await Promise.all([ours.release(), peer.release()]);

  const full = timedCompile({ overrides: { B: "1" } }, 1);
  const clip = new Float32Array(3 * 16 * 224 * 224).map((_, i) => Math.sin(i * 0.37));
  const clipFeeds = { video: new ort.Tensor("float32", clip, [1, 3, 16, 224, 224]) };
  const t1 = performance.now();
  const fullSession = await ort.InferenceSession.create(full.bytes, SESSION);
  const fullSessionMs = performance.now() - t1;
  const out = (await fullSession.run(clipFeeds))[fullSession.outputNames[0]].data as Float32Array;
  if (!out.every(Number.isFinite)) throw new Error("bench/s2d: the full configuration's logits are not finite");
  const fullTimes = await interleaved(3, { full: () => fullSession.run(clipFeeds) });
  await fullSession.release();
  return {
    small: {
      compileMs: small.compileMs,
      nodes: small.nodes,
      sessionMs,
      inferenceMs: times.netc,
      torchExportMs: times.torchExport,
      ratioToTorchExport: times.netc.median / times.torchExport.median,
      maxAbsDiffFromOfficial: diffs,
    },
    full: {
      compileMs: full.compileMs.median,
      megabytes: full.bytes.length / 1e6,
      sessionMs: fullSessionMs,
      inferenceMs: fullTimes.full,
    },
  };
}
