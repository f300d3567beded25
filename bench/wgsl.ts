// The WGSL target on the Node WebGPU adapter (a GPU, else SwiftShader): compile time, kernel count against the
// ONNX node count (onnxruntime-web's WebGPU EP runs one shader per ONNX node), pipeline creation time, and
// inference latency (median of 5 after a warm-up). The default model is IFDD's blocks at a reduced size
// (software adapters take minutes on the full model); NETC_BENCH_WGSL_MODEL=models/ifdd.net picks another.
// The peer the issue names, onnxruntime-web's WebGPU EP in the same process, needs the onnxruntime-web package,
// which the project does not depend on yet; until it does, this reports netc's side alone.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { emitOnnx } from "../src/backends/onnx/index.js";
import { decodeModel } from "../src/backends/onnx/proto.js";
import { compileWgsl } from "../src/backends/wgsl/index.js";
import { compileToGraph } from "../src/compiler/compile.js";
import { WgslModel } from "../src/runtime/model.js";
import { createNodeDevice } from "../src/runtime/node.js";
import { writeSafetensors } from "../src/weights/safetensors.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RUNS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export interface WgslBenchResult {
  model: string;
  adapter: string;
  compileMs: number;
  kernels: number;
  onnxNodes: number;
  pipelineMs: number;
  inferenceMs: number;
}

export async function benchWgsl(file = process.env.NETC_BENCH_WGSL_MODEL ?? path.join(HERE, "../test/wgsl/fixtures/mini_ifdd.net")): Promise<WgslBenchResult> {
  const front = compileToGraph(fs.readFileSync(file, "utf8"), { file, overrides: { B: "1" } });
  if (!front.graph) throw new Error(`${file} does not compile: ${front.diagnostics.map((d) => d.message).join("; ")}`);
  const t0 = performance.now();
  const { program, diagnostics } = compileWgsl(front.graph);
  const compileMs = performance.now() - t0;
  if (!program) throw new Error(diagnostics.map((d) => `${d.code} ${d.message}`).join("\n"));
  const onnx = emitOnnx(front.graph);
  const onnxNodes = onnx.bytes ? countOnnxNodes(onnx.bytes) : NaN;

  const gpu = await createNodeDevice(program.manifest);
  try {
    const bundle = { manifest: program.manifest, shaders: program.shaders, weights: safetensorsBytes(program) };
    const t1 = performance.now();
    const model = await WgslModel.create(gpu.device, bundle);
    const pipelineMs = performance.now() - t1;
    const inputs = Object.fromEntries(program.manifest.inputs.map((s) => [s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1)).fill(0.5)]));
    await model.run(inputs);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      await model.run(inputs);
      times.push(performance.now() - t);
    }
    model.destroy();
    const info = gpu.adapter.info;
    return { model: path.relative(process.cwd(), file), adapter: `${info.vendor} ${info.architecture} ${info.description}`.trim() || "unknown", compileMs, kernels: program.manifest.kernels.length, onnxNodes, pipelineMs, inferenceMs: median(times) };
  } finally {
    gpu.release();
  }
}

function countOnnxNodes(bytes: Uint8Array): number {
  return decodeModel(bytes).graph?.node?.length ?? NaN;
}

/** The program's weights as the bytes of the safetensors file a bundle would hold. */
function safetensorsBytes(program: NonNullable<ReturnType<typeof compileWgsl>["program"]>): Uint8Array {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "netc-bench-")), "weights.safetensors");
  writeSafetensors(file, program.weights);
  return new Uint8Array(fs.readFileSync(file));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const r = await benchWgsl();
  console.log(
    `wgsl ${r.model} on ${r.adapter}: ${r.kernels} kernels (ONNX: ${r.onnxNodes} nodes), compile ${r.compileMs.toFixed(0)} ms, ` +
      `pipelines ${r.pipelineMs.toFixed(0)} ms, inference ${r.inferenceMs.toFixed(1)} ms (median of ${RUNS}); ` +
      "onnxruntime-web peer: not measured (the package is not a dependency)",
  );
}
