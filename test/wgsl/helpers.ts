// Shared setup of the WGSL tests: one WebGPU device per test file (SwiftShader when there is no GPU), bundles
// written to temporary folders, and the onnxruntime reference run on the same IR graph.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { emitOnnx, type EmitOnnxOptions } from "../../src/backends/onnx/emit.js";
import { runOnnx } from "../../src/backends/onnx/run.js";
import { emitWgslBundle, type EmitWgslBundleOptions } from "../../src/backends/wgsl/index.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { toNumbers } from "../../src/compiler/ir/interp/numeric.js";
import { WgslModel } from "../../src/runtime/model.js";
import { createNodeDevice, type NodeGpu, readBundleDir } from "../../src/runtime/node.js";
import { type HostTensor, numel } from "../../src/util/tensor.js";
import { random } from "../helpers/ir.js";

/** The device, or why there is none (then the GPU tests skip with that reason). */
export async function tryGpu(): Promise<{ gpu?: NodeGpu; reason?: string }> {
  try {
    return { gpu: await createNodeDevice() };
  } catch (e) {
    return { reason: `no WebGPU adapter (${(e as Error).message})` };
  }
}

export function tempDir(stem: string): string {
  return mkdtempSync(join(tmpdir(), `netc-wgsl-${stem}-`));
}

/** Writes `graph` as a bundle and loads it on `gpu`; fails the test on any diagnostic error. */
export async function loadGraph(
  gpu: NodeGpu,
  graph: Graph,
  opts: Partial<EmitWgslBundleOptions> = {},
): Promise<{ model: WgslModel; dir: string }> {
  const dir = join(tempDir(graph.name.replace(/\W+/g, "_")), "bundle");
  const { program, diagnostics } = emitWgslBundle(graph, { ...opts, outDir: dir });
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  expect(program).toBeDefined();
  return { model: await WgslModel.create(gpu.device, readBundleDir(dir)), dir };
}

/** onnxruntime (CPU) on the same graph and weights: the reference every kernel is held to. */
export async function onnxReference(
  graph: Graph,
  inputs: ReadonlyMap<string, HostTensor>,
  opts: EmitOnnxOptions = {},
): Promise<Map<string, HostTensor>> {
  const { bytes, diagnostics } = emitOnnx(graph, opts);
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return runOnnx(bytes!, inputs);
}

/** Largest absolute difference; integer and bool tensors must match exactly. */
export function maxAbsDiff(actual: HostTensor, expected: HostTensor): number {
  expect(actual.dtype).toBe(expected.dtype);
  expect(actual.shape).toEqual(expected.shape);
  const [a, e] = [toNumbers(actual), toNumbers(expected)];
  let worst = 0;
  for (let i = 0; i < e.length; i++)
    worst = Math.max(worst, a[i] === e[i] || (Number.isNaN(e[i]) && Number.isNaN(a[i])) ? 0 : Math.abs(a[i] - e[i]));
  return Number.isNaN(worst) ? Infinity : worst;
}

export const TOLERANCE = 1e-3;

/**
 * Weights that keep activations near unit scale through deep models, so that 1e-3 is a tight bound: tensors of
 * rank 2 and up uniform in ±sqrt(1.5 / fan-in) (half the unit variance, which MobileFaceNet's ten residual blocks
 * would blow up to hundreds), vectors in ±1, declared defaults (BatchNorm statistics) moved by up to ±0.25. The
 * default draw (std 0.02) shrinks S2D's signal towards zero.
 */
export function boundedWeights(graph: Graph, seed: number): Map<string, HostTensor> {
  const weights = new Map<string, HostTensor>();
  graph.params.forEach((p, i) => {
    if (p.unused || p.dtype !== "f32") return;
    const fanIn = p.shape.length >= 2 ? numel(p.shape) / p.shape[0] : 1;
    const bound = p.init ? 0.25 : Math.sqrt(1.5 / fanIn);
    const t = random("f32", p.shape, seed + i, -bound, bound);
    if (p.init) toNumbers(p.init).forEach((v, k) => ((t.data as Float32Array)[k] += v));
    weights.set(p.path, t);
  });
  return weights;
}

/** One graph on `gpu` and in onnxruntime with the same inputs and weights: both outputs, the bundle destroyed. */
export async function runBoth(
  gpu: NodeGpu,
  graph: Graph,
  inputs: ReadonlyMap<string, HostTensor>,
  weights: ReadonlyMap<string, HostTensor>,
): Promise<{ got: Record<string, HostTensor>; expected: Map<string, HostTensor> }> {
  const { model } = await loadGraph(gpu, graph, { weights });
  const [got, expected] = await Promise.all([
    model.run(Object.fromEntries(inputs)),
    onnxReference(graph, inputs, { weights }),
  ]);
  model.destroy();
  return { got, expected };
}
