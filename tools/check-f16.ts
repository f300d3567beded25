// Checks the f16 WGSL kernels on this machine's WebGPU adapter: compiles a model with --precision f16, runs it on a
// seeded random input, and compares its outputs with the interpreter's f16 reference (interpret with storage "f16":
// every stored value rounded to f16, f32 accumulation) and, for scale, with the f32 interpreter. It needs an
// adapter with shader-f16 (a real GPU; SwiftShader has none) and says so when there is none.
//
//   npx tsx tools/check-f16.ts [file.net] [--set NAME=VALUE ...]     (default: examples/tiny.net with B=1)
//
// Exit 0: every output within the bound; 1: beyond it; 2: no adapter with shader-f16 (nothing checked).
import { readFileSync } from "node:fs";
import { bundleOf, compileWgsl } from "../src/backends/wgsl/index.js";
import { interpret } from "../src/compiler/ir/interpret.js";
import { compileToGraph } from "../src/driver.js";
import { WgslModel } from "../src/runtime/model.js";
import { createNodeAdapter } from "../src/runtime/node.js";
import { requestDeviceFor } from "../src/runtime/device.js";
import type { HostTensor } from "../src/util/tensor.js";
import { numel } from "../src/util/tensor.js";

const SEED = 7;

/**
 * The bound on |WGSL f16 - reference f16|, relative to the largest |reference| of the output: the reference rounds
 * every op's result while a fused kernel rounds only what it stores, so each fused op may differ by about one f16
 * rounding (2^-11 relative); 1e-2 leaves room for a few dozen of them. Not yet calibrated on hardware.
 */
export const F16_RELATIVE_BOUND = 1e-2;

export interface F16Check {
  adapter: string;
  /** Why nothing ran (no shader-f16), else undefined. */
  skipped?: string;
  outputs: { name: string; maxAbsToF16Reference: number; maxAbsToF32: number; scale: number; ok: boolean }[];
}

/** A seeded input in [-1, 1) (float) or 0 (other types). */
function randomInput(name: string, dtype: HostTensor["dtype"], shape: number[], seed: number): HostTensor {
  const data = new Float32Array(numel(shape));
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 2 ** 32) * 2 - 1;
  }
  if (dtype !== "f32") throw new Error(`check-f16 feeds f32 inputs only; the input ${name} is ${dtype}`);
  return { dtype, shape, data };
}

export async function checkF16(file: string, overrides: Record<string, string>): Promise<F16Check> {
  const front = compileToGraph(readFileSync(file, "utf8"), { file, overrides, target: "wgsl" });
  const errors = front.diagnostics.filter((d) => d.severity === "error");
  if (!front.graph || errors.length) throw new Error(`${file}: ${errors.map((d) => d.message).join("; ")}`);
  const graph = front.graph;
  const adapter = await createNodeAdapter();
  const name =
    adapter.info?.description ||
    [adapter.info?.vendor, adapter.info?.architecture].filter(Boolean).join(" ") ||
    "WebGPU adapter";
  if (!adapter.features.has("shader-f16"))
    return { adapter: name, skipped: `the adapter (${name}) has no shader-f16`, outputs: [] };
  const compiled = compileWgsl(graph, { precision: "f16", seed: SEED });
  if (!compiled.program) throw new Error(`compiling for f16: ${compiled.diagnostics.map((d) => d.message).join("; ")}`);
  const bundle = bundleOf(compiled.program);
  const device = await requestDeviceFor(adapter, bundle.manifest);
  try {
    const model = await WgslModel.create(device, bundle);
    const inputs = new Map(
      graph.inputs.map(
        (x, i) => [x.name, randomInput(x.name, x.value.dtype, x.value.shape as number[], SEED + i)] as const,
      ),
    );
    const gpu = await model.run(Object.fromEntries(inputs));
    const half = interpret(graph, inputs, new Map(), { seed: SEED, storage: "f16" }).outputs;
    const full = interpret(graph, inputs, new Map(), { seed: SEED }).outputs;
    const maxAbs = (a: HostTensor, b: HostTensor) =>
      Math.max(0, ...Array.from(a.data as Float32Array, (v, i) => Math.abs(v - (b.data as Float32Array)[i])));
    const outputs = graph.outputs.map(({ name: out }) => {
      const ref = half.get(out)!;
      const scale = Math.max(1e-6, ...Array.from(ref.data as Float32Array, Math.abs));
      const toRef = maxAbs(gpu[out], ref);
      return {
        name: out,
        maxAbsToF16Reference: toRef,
        maxAbsToF32: maxAbs(gpu[out], full.get(out)!),
        scale,
        ok: toRef <= F16_RELATIVE_BOUND * scale,
      };
    });
    model.destroy();
    return { adapter: name, outputs };
  } finally {
    device.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith("--") && !a.includes("=")) ?? "examples/tiny.net";
  const sets = args.filter((a) => a.includes("="));
  const overrides = Object.fromEntries((sets.length ? sets : ["B=1"]).map((s) => s.split("=", 2) as [string, string]));
  const result = await checkF16(file, overrides);
  if (result.skipped) {
    console.log(`not checked: ${result.skipped}; run this on a machine whose GPU adapter has shader-f16`);
    process.exit(2);
  }
  console.log(
    `adapter: ${result.adapter}; ${file} at f16 against the interpreter's f16 reference (bound ` +
      `${F16_RELATIVE_BOUND} x the output's largest |value|)`,
  );
  for (const o of result.outputs)
    console.log(
      `  ${o.name}: max |wgsl - f16 reference| ${o.maxAbsToF16Reference.toExponential(2)} (scale ` +
        `${o.scale.toExponential(2)}), max |wgsl - f32| ${o.maxAbsToF32.toExponential(2)}: ` +
        `${o.ok ? "ok" : "BEYOND THE BOUND"}`,
    );
  process.exit(result.outputs.every((o) => o.ok) ? 0 : 1);
}
