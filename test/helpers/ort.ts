// Runs an IR graph through the ONNX emitter and onnxruntime-node, for the passes' end-to-end checks against the
// reference interpreter.
import { emitOnnx } from "../../src/backends/onnx/emit.js";
import { runOnnx } from "../../src/backends/onnx/run.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import type { HostTensor } from "../../src/util/tensor.js";

/** Each output of `g` as onnxruntime computes it from `feeds`. */
export async function inOnnxruntime(g: Graph, feeds: Record<string, HostTensor>): Promise<Map<string, HostTensor>> {
  const emitted = emitOnnx(g);
  if (!emitted.bytes) throw new Error(emitted.diagnostics.map((d) => d.message).join("\n"));
  return runOnnx(emitted.bytes, feeds);
}
