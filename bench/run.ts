// `npm run bench`: every benchmark, each against a peer or floor measured in the same process (interleaved, outputs
// of both sides checked to agree). Each prints a line or table and writes bench/results/<name>.json with the machine
// and its load (a 1-minute load average above the core count means the timings are upper bounds).
// `npm run bench -- weights ifdd` runs only the benchmarks named.
import { benchIfdd } from "./ifdd.js";
import { benchIfddCeiling, formatCeiling } from "./ifdd-ceiling.js";
import { benchInfer, formatInfer } from "./infer.js";
import { benchLoad, formatLoad } from "./load.js";
import { benchLsp, formatLsp } from "./lsp.js";
import { benchLspWeights, formatLspWeights } from "./lsp-weights.js";
import { formatSpread, machineNote, writeResult } from "./measure.js";
import { benchOusCompile, type CompileRuns } from "./ous.js";
import { benchS2d } from "./s2d.js";
import { benchStartup, buildCliOnce, formatStartup } from "./startup.js";
import { benchWeights } from "./weights.js";
import { benchWgsl, formatWgslResult, type WgslBenchResult } from "./wgsl.js";
import { benchWgslBatch, formatWgslBatch } from "./wgsl-batch.js";

const BENCHES: Record<string, () => Promise<{ result: unknown; lines: string[] }>> = {
  // First: the CLI's start-up, before the heavier benches warm anything.
  async startup() {
    const result = await benchStartup();
    return { result, lines: [formatStartup(result)] };
  },
  async lsp() {
    const result = await benchLsp();
    return { result, lines: [formatLsp(result)] };
  },
  async "lsp-weights"() {
    const result = await benchLspWeights();
    return { result, lines: [formatLspWeights(result)] };
  },
  async weights() {
    const r = await benchWeights();
    return {
      result: r,
      lines: [
        `weights: import IFDD checkpoint (${r.megabytes.toFixed(0)} MB, ${r.tensors} tensors, checked against ` +
          `the official listing) ` +
          `${formatSpread(r.importMs)}, ${r.importMbPerSec.toFixed(0)} MB/s; plain read of the file ` +
          `${formatSpread(r.plainReadMs)}: ` +
          `${r.ratioToPlainRead.toFixed(2)}x the floor (median of 7 interleaved)`,
      ],
    };
  },
  async ifdd() {
    const r = await benchIfdd();
    return {
      result: r,
      lines: [
        `ifdd: compile ${formatSpread(r.compileMs, "ms", 0)} (weights included, ${r.nodes} IR nodes), ORT ` +
          `session ${r.sessionMs.toFixed(0)} ms`,
        `ifdd: inference ${formatSpread(r.inferenceMs)} for ${r.gmacPerClip.toFixed(2)} GMAC = ` +
          `${r.ifddGmacPerSec.toFixed(1)} GMAC/s; ` +
          `2048^3 MatMul ${formatSpread(r.matmulMs)} = ${r.matmulGmacPerSec.toFixed(1)} GMAC/s (per run, in spans ` +
          `of ${r.matmulsPerSpan} back-to-back runs, about one IFDD run's time): ` +
          `IFDD at ${formatSpread(r.fractionOfMatmulRate, "", 2)} of the MatMul rate (goal 0.8; 2 threads; per ` +
          `round against the spans run just before and after it, median of ${r.inferenceMs.runs.length} rounds)`,
        `ifdd: fastest run ${r.inferenceMs.min.toFixed(1)} ms against the MatMul's fastest span ` +
          `${r.matmulMs.min.toFixed(1)} ms per run: IFDD at ${r.fractionAtBest.toFixed(2)} of the MatMul rate with ` +
          `each side at its best; against the fastest single MatMul run (${r.matmulSingleRunMs.min.toFixed(1)} ms, ` +
          `a burst shorter than one IFDD run) ${r.fractionAtBurst.toFixed(2)}`,
        `ifdd --onnxruntime-ops (attention as com.microsoft MultiHeadAttention): inference ` +
          `${formatSpread(r.onnxruntimeOps.inferenceMs)}, ${r.onnxruntimeOps.gain.toFixed(2)}x faster than the ` +
          `standard graph per round: IFDD at ${formatSpread(r.onnxruntimeOps.fractionOfMatmulRate, "", 2)} of the ` +
          `MatMul rate (measured as above), ${r.onnxruntimeOps.fractionAtBest.toFixed(2)} with each side at its ` +
          `best; logits off the official by ${r.maxAbsDiffFromOfficial["onnxruntime ops"].toExponential(1)}`,
        `ifdd: in CPU time (all threads, no spinning) ${formatSpread(r.cpuMs.ifdd)} per clip, MatMul ` +
          `${formatSpread(r.cpuMs.matmul)}: IFDD at ${formatSpread(r.fractionOfMatmulRateCpu, "", 2)} of the ` +
          `MatMul's rate per CPU second`,
        `ifdd: without netc's IR passes ${formatSpread(r.unoptimizedInferenceMs)} (${r.unoptimizedNodes} IR nodes): ` +
          `${(r.unoptimizedInferenceMs.median / r.inferenceMs.median).toFixed(2)}x; logits off the official by ` +
          `${r.maxAbsDiffFromOfficial.optimized.toExponential(1)} (passes on) and ` +
          `${r.maxAbsDiffFromOfficial.unoptimized.toExponential(1)} (off)`,
        `ifdd: the same graph run among the other sides (not between MatMuls) ${formatSpread(r.amongSidesMs)}; ` +
          `between the MatMuls it took ${r.bracketCost.toFixed(2)}x that per round (the rewrites below compare ` +
          "with the run among the sides)",
        ...r.rewrites.map(
          (w) =>
            `ifdd: without the ${w.pass} rewrite ${formatSpread(w.withoutMs)} (${w.nodesWithout} IR nodes): ` +
            `the rewrite makes inference ${w.gain.toFixed(2)}x faster (per round; ${w.gainCpu.toFixed(2)}x in CPU ` +
            `time; logits off by ${r.maxAbsDiffFromOfficial[`without ${w.pass}`].toExponential(1)})`,
        ),
      ],
    };
  },
  // Every matmul, attention product and conv of IFDD alone: the fraction IFDD could reach if nothing else took time.
  async "ifdd-ceiling"() {
    const result = await benchIfddCeiling(Number(process.env.NETC_BENCH_ROUNDS ?? 5));
    return { result, lines: formatCeiling(result).map((line) => `ifdd-ceiling: ${line}`) };
  },
  async infer() {
    const r = await benchInfer();
    return { result: r, lines: formatInfer(r).split("\n") };
  },
  async s2d() {
    const r = await benchS2d();
    return {
      result: r,
      lines: [
        `s2d small (D 64, depth 3, 4 frames, B 2): compile ${formatSpread(r.small.compileMs, "ms", 0)} (both ` +
          `checkpoints, ${r.small.nodes} IR nodes), ` +
          `ORT session ${r.small.sessionMs.toFixed(0)} ms; inference ${formatSpread(r.small.inferenceMs)}, ` +
          `torch.onnx.export's graph ` +
          `${formatSpread(r.small.torchExportMs)}: netc takes ${r.small.ratioToTorchExport.toFixed(2)}x its ` +
          `time (median of 9 interleaved; ` +
          `logits off the official by ${r.small.maxAbsDiffFromOfficial.netc.toExponential(1)} and ` +
          `${r.small.maxAbsDiffFromOfficial.torchExport.toExponential(1)})`,
        `s2d full (ViT-B/16, 16 frames, B 1, random weights): compile ${(r.full.compileMs / 1000).toFixed(1)} s ` +
          `(${r.full.megabytes.toFixed(0)} MB), ` +
          `ORT session ${(r.full.sessionMs / 1000).toFixed(1)} s, inference ` +
          `${formatSpread(r.full.inferenceMs, "ms", 0)} per clip (median of 3)`,
      ],
    };
  },
  async ous() {
    buildCliOnce();
    const r = benchOusCompile();
    const x = (v: number) => `${v.toFixed(2)}x`;
    const runs = (c: CompileRuns) =>
      `${formatSpread(c.wallMs, "ms", 0)} (CPU ${formatSpread(c.cpuMs, "ms", 0)}), peak ` +
      `${formatSpread(c.peakRssMB, "MB", 0)}`;
    return {
      result: r,
      lines: [
        `ous: netc compile models/ous.net (ViT-L/14, ${r.onnxMB.toFixed(0)} MB ONNX), median of ` +
          `${r.random.wallMs.runs.length} interleaved rounds, ${r.defaultThreads} read-ahead threads by default:`,
        `  random weights: ${runs(r.random)}; --threads 0: ${runs(r.randomOneThread)}; threads/none: wall ` +
          `${x(r.ratios.randomThreadsWall)}, CPU ${x(r.ratios.randomThreadsCpu)}`,
        `  floor: writing the same bytes from memory ${formatSpread(r.plainWriteMs, "ms", 0)}: compile is ` +
          `${r.ratios.randomToPlainWrite.toFixed(1)}x the floor`,
        `  from a ${r.checkpointMB.toFixed(0)} MB safetensors checkpoint: ${runs(r.checkpoint)}; --threads 0: ` +
          `${runs(r.checkpointOneThread)}; threads/none: wall ${x(r.ratios.checkpointThreadsWall)}, CPU ` +
          `${x(r.ratios.checkpointThreadsCpu)}`,
        `  floor: reading the checkpoint plainly ${formatSpread(r.plainReadMs, "ms", 0)} and writing the output ` +
          `(${formatSpread(r.plainReadWriteMs, "ms", 0)} together): compile is ` +
          `${r.ratios.checkpointToPlainReadWrite.toFixed(1)}x the floor`,
        `  --external-data (random): ${runs(r.external)}; examples/tiny.net peaks at ` +
          `${formatSpread(r.floorPeakRssMB, "MB", 0)}: OUS peaks at ${x(r.ratios.peakOverOutput)} its output, ` +
          `${(r.ratios.aboveFloorOverOutput * 100).toFixed(1)}% of it above tiny's peak`,
      ],
    };
  },
  // A run-time batch against static bundles, on the WebGPU adapter (a few minutes on SwiftShader).
  async "wgsl-batch"() {
    const result = await benchWgslBatch();
    return { result, lines: formatWgslBatch(result) };
  },
  // Loading in headless Chromium: time to first result, cold and cached, and inference, against ORT-web (minutes).
  async load() {
    const r = await benchLoad();
    return { result: r, lines: formatLoad(r).split("\n") };
  },
  // Last: onnxruntime-web's WebGPU EP against netc's WGSL runtime, on the same adapter (minutes on SwiftShader).
  async wgsl() {
    const results: WgslBenchResult[] = [];
    for await (const r of benchWgsl()) {
      results.push(r);
      console.log(formatWgslResult(r)); // as each model finishes: the whole benchmark takes minutes
    }
    return { result: results, lines: [] };
  },
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in BENCHES));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(", ")}; the benchmarks are: ${Object.keys(BENCHES).join(", ")}`);
  process.exit(2);
}
const host = machineNote().finish();
// The ISA first: a MatMul rate, and so every fraction of it, depends on the vector instructions the host exposes.
console.log(`bench: ${host.cpus} x ${host.cpuModel} (${host.vectorIsa}), ${host.memoryGiB} GiB, Node ${host.node}`);
for (const [name, bench] of Object.entries(BENCHES)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const machine = machineNote();
  const { result, lines } = await bench();
  for (const line of lines) console.log(line);
  console.log(`  -> ${writeResult(name, { machine: machine.finish(), result })}`);
}
