// Run in a child process by stream-memory.test.ts: compiles a model to ONNX (random weights, or a checkpoint) and
// prints how much the resident memory grew while the model was written, against the weights' size.
// Usage: node --import tsx compile-child.ts <model.net> <out.onnx> [checkpoint]
import { readFileSync } from "node:fs";
import { emitToDisk, prepare } from "../../../src/pipeline.js";

const [model, output, checkpoint] = process.argv.slice(2);
const prepared = prepare(readFileSync(model, "utf8"), {
  file: model,
  weights: checkpoint ? [checkpoint] : undefined,
  streamWeights: true,
});
if (!prepared.graph) throw new Error(prepared.diagnostics.map((d) => d.message).join("\n"));
const weightBytes = prepared.graph.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 4), 0);
// The resident set before writing, once the front end's garbage is gone. While writing: the resident set after each
// write (the tensor just written is still referenced then), and the process's peak (getrusage) if it rose.
(globalThis as { gc?: () => void }).gc?.();
const before = process.memoryUsage().rss;
const peakBefore = process.resourceUsage().maxRSS * 1024;
let sampled = before;
const written = emitToDisk({ ...prepared, graph: prepared.graph }, output, {
  onWriteProgress: () => {
    sampled = Math.max(sampled, process.memoryUsage().rss);
  },
});
if (written.diagnostics.some((d) => d.severity === "error")) throw new Error(written.diagnostics[0].message);
const peakAfter = process.resourceUsage().maxRSS * 1024;
const peak = Math.max(sampled, peakAfter > peakBefore ? peakAfter : 0);
process.stdout.write(JSON.stringify({ weightBytes, before, peak, growth: peak - before }));
