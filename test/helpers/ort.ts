// Runs an IR graph through the ONNX emitter and onnxruntime-node (float32 inputs and outputs), for the passes'
// end-to-end checks against the reference interpreter.
import * as ort from "onnxruntime-node";
import { emitOnnx } from "../../src/backends/onnx/emit.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import type { HostTensor } from "../../src/util/tensor.js";

/** Each output of `g` as onnxruntime computes it from `feeds`. */
export async function inOnnxruntime(g: Graph, feeds: Record<string, HostTensor>): Promise<Map<string, HostTensor>> {
  const emitted = emitOnnx(g);
  if (!emitted.bytes) throw new Error(emitted.diagnostics.map((d) => d.message).join("\n"));
  const session = await ort.InferenceSession.create(emitted.bytes);
  const inputs = Object.fromEntries(
    Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor("float32", t.data as Float32Array, t.shape)]),
  );
  const results = await session.run(inputs);
  await session.release();
  return new Map(
    Object.entries(results).map(([name, t]) => [
      name,
      { dtype: "f32" as const, shape: [...t.dims], data: t.data as Float32Array },
    ]),
  );
}
