// The cost of a run-time batch: one bundle compiled with the batch symbolic (--max-batch 8, the default) against the
// static bundle of each batch (--set B=b), on the same adapter, runs interleaved, outputs checked to agree (AGREEMENT).
// The run-time bundle's kernels read the batch from a uniform and bound their work by it; kernels over values whose
// batch is not their first axis (IFDD's relative-position matmuls) run at the largest batch whatever the batch given.
// Also the compile time of each (one compile of the run-time bundle against one static compile).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bundleOf, compileWgsl, type WgslProgram } from "../src/backends/wgsl/index.js";
import { compileToGraph } from "../src/driver.js";
import { WgslModel } from "../src/runtime/model.js";
import { createNodeDevice } from "../src/runtime/node.js";
import type { HostTensor } from "../src/util/tensor.js";
import { interleaved, machineNote, type MachineNote, maxAbsDiff, type Spread } from "./measure.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MAX = 8;
const BATCHES = [1, 4, 8];
/**
 * How far the two bundles' outputs may differ. A static bundle plans its kernels for its own batch (other fusions and
 * tiles: mini IFDD has 90 kernels at B=4 against the run-time bundle's 80), so its sums may round differently; the
 * largest difference seen is 4.7e-10 (SwiftShader, 2026-12-07), far inside the 1e-3 that WGSL is held to.
 */
const AGREEMENT = 1e-5;
// Tiny's runs take milliseconds, so it gets more rounds against the noise of a loaded machine.
const MODELS = [
  { name: "tiny", file: path.join(HERE, "../examples/tiny.net"), rounds: 31 },
  { name: "mini IFDD", file: path.join(HERE, "../test/wgsl/fixtures/mini_ifdd.net"), rounds: 5 },
];

export interface WgslBatchResult {
  machine: MachineNote;
  adapter: string;
  maxBatch: number;
  models: {
    name: string;
    compileMs: { runtimeBatch: Spread; static: Spread };
    shaders: { runtimeBatch: number; static: number };
    batches: { batch: number; runtimeBatchMs: Spread; staticMs: Spread; ratio: number; maxAbsDiff: number }[];
  }[];
}

function compile(file: string, sets: Record<string, string>, maxBatch?: number): WgslProgram {
  const graph = compileToGraph(fs.readFileSync(file, "utf8"), { file, overrides: sets, target: "wgsl" }).graph!;
  const { program, diagnostics } = compileWgsl(graph, { maxBatch });
  if (!program) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return program;
}

function seeded(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

export async function benchWgslBatch(): Promise<WgslBatchResult> {
  const note = machineNote();
  const gpu = await createNodeDevice();
  const models: WgslBatchResult["models"] = [];
  try {
    for (const { name, file, rounds } of MODELS) {
      const compileTimes = await interleaved(3, {
        runtimeBatch: () => compile(file, {}, MAX),
        static: () => compile(file, { B: String(MAX) }),
      });
      const program = compile(file, {}, MAX);
      const runtime = await WgslModel.create(gpu.device, bundleOf(program));
      const input = program.manifest.inputs[0];
      const perItem = input.shape.slice(1).reduce((p, d) => p * d, 1);
      const batches: WgslBatchResult["models"][number]["batches"] = [];
      let staticShaders = 0;
      for (const batch of BATCHES) {
        const own = compile(file, { B: String(batch) });
        staticShaders = own.shaders.size;
        const single = await WgslModel.create(gpu.device, bundleOf(own));
        const x = seeded(perItem * batch, batch);
        const outputs: Record<string, Record<string, HostTensor>> = {};
        const times = await interleaved(rounds, {
          runtimeBatch: async () => void (outputs.runtime = await runtime.run({ [input.name]: x })),
          static: async () => void (outputs.static = await single.run({ [input.name]: x })),
        });
        single.destroy();
        const diff = Math.max(
          ...Object.keys(outputs.static).map((o) =>
            maxAbsDiff(outputs.runtime[o].data as Float32Array, outputs.static[o].data as Float32Array),
          ),
        );
        if (!(diff <= AGREEMENT)) throw new Error(`${name} at batch ${batch}: the run-time bundle differs by ${diff}`);
        batches.push({
          batch,
          runtimeBatchMs: times.runtimeBatch,
          staticMs: times.static,
          ratio: times.runtimeBatch.median / times.static.median,
          maxAbsDiff: diff,
        });
      }
      runtime.destroy();
      models.push({
        name,
        compileMs: compileTimes,
        shaders: { runtimeBatch: program.shaders.size, static: staticShaders },
        batches,
      });
    }
    const info = gpu.adapter.info;
    const adapter = `${info.vendor} ${info.architecture} ${info.description}`.trim() || "unknown";
    return { machine: note.finish(), adapter, maxBatch: MAX, models };
  } finally {
    gpu.release();
  }
}

export function formatWgslBatch(r: WgslBatchResult): string[] {
  return r.models.flatMap((m) => [
    `wgsl-batch ${m.name}: compile with a run-time batch (max ${r.maxBatch}) ` +
      `${m.compileMs.runtimeBatch.median.toFixed(0)} ms, static ${m.compileMs.static.median.toFixed(0)} ms; ` +
      `${m.shaders.runtimeBatch} distinct shaders (static: ${m.shaders.static})`,
    ...m.batches.map(
      (b) =>
        `wgsl-batch ${m.name} at batch ${b.batch}: run-time bundle ${b.runtimeBatchMs.median.toFixed(1)} ms ` +
        `(${b.runtimeBatchMs.min.toFixed(1)}-${b.runtimeBatchMs.max.toFixed(1)}), ` +
        `static ${b.staticMs.median.toFixed(1)} ms ` +
        `(${b.staticMs.min.toFixed(1)}-${b.staticMs.max.toFixed(1)}): ${b.ratio.toFixed(2)}x, ` +
        (b.maxAbsDiff === 0 ? "outputs identical" : `outputs within ${b.maxAbsDiff.toExponential(1)}`),
    ),
  ]);
}
