// `npm run bench`: every benchmark, each reported against a peer measured in the same process.
import fs from "node:fs";
import { benchIfdd } from "./ifdd.js";
import { benchInfer, formatInfer } from "./infer.js";
import { benchS2d } from "./s2d.js";
import { benchStartup, formatStartup } from "./startup.js";
import { benchWeights } from "./weights.js";
import { benchWgsl, formatWgslResult } from "./wgsl.js";

function rawReadMbPerSec(file: string): number {
  const t = performance.now();
  const fd = fs.openSync(file, "r");
  const buf = Buffer.allocUnsafe(1 << 24);
  let total = 0;
  for (let n; (n = fs.readSync(fd, buf, 0, buf.length, total)) > 0; ) total += n;
  fs.closeSync(fd);
  return total / 1e6 / ((performance.now() - t) / 1000);
}

// First: the CLI's start-up (writes bench/startup.json), before the heavier benches warm anything up.
console.log(formatStartup(benchStartup()));

const weights = await benchWeights();
const raw = rawReadMbPerSec(new URL("../../shared/fixtures/ifdd/ifdd_dfew_random.pth", import.meta.url).pathname);
console.log(`${weights.name}: ${weights.seconds.toFixed(3)} s, ${weights.mbPerSec.toFixed(0)} MB/s (${(weights.mbPerSec / raw).toFixed(2)}x of a plain read at ${raw.toFixed(0)} MB/s)`);

const ifdd = await benchIfdd();
console.log(`ifdd: compile ${ifdd.compileMs.toFixed(0)} ms (weights included, ${ifdd.nodes} IR nodes), ORT session ${ifdd.sessionMs.toFixed(0)} ms`);
console.log(
  `ifdd: inference ${ifdd.inferenceMs.toFixed(1)} ms (median of 7, 2 threads); without netc's IR passes ` +
    `${ifdd.unoptimizedInferenceMs.toFixed(1)} ms (${ifdd.unoptimizedNodes} IR nodes): ratio ${(ifdd.unoptimizedInferenceMs / ifdd.inferenceMs).toFixed(2)}x`,
);

const infer = await benchInfer();
fs.writeFileSync(new URL("infer.json", import.meta.url), JSON.stringify(infer, null, 1) + "\n");
console.log(formatInfer(infer));

const s2d = await benchS2d();
console.log(
  `s2d small (D 64, depth 3, 4 frames, B 2): compile ${s2d.small.compileMs.toFixed(0)} ms (both checkpoints, ${s2d.small.nodes} IR nodes), ` +
    `ORT session ${s2d.small.sessionMs.toFixed(0)} ms, inference ${s2d.small.inferenceMs.toFixed(1)} ms (median of 7, 2 threads); ` +
    `torch.onnx.export's graph ${s2d.small.torchExportMs.toFixed(1)} ms: netc takes ${(s2d.small.inferenceMs / s2d.small.torchExportMs).toFixed(2)}x its time`,
);
console.log(
  `s2d full (ViT-B/16, 16 frames, B 1, random weights): compile ${(s2d.full.compileMs / 1000).toFixed(1)} s (${s2d.full.megabytes.toFixed(0)} MB), ` +
    `ORT session ${(s2d.full.sessionMs / 1000).toFixed(1)} s, inference ${(s2d.full.inferenceMs / 1000).toFixed(2)} s per clip (median of 3, 2 threads)`,
);

// Last: onnxruntime-web's WebGPU EP against netc's WGSL runtime, on the same adapter (minutes on SwiftShader).
for await (const r of benchWgsl()) console.log(formatWgslResult(r));
