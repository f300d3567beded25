// Where a WGSL bundle's GPU time goes, per kernel class (conv, matmul, attention, norm, ...), from the kernels'
// timestamps (WgslModel.profile, as `netc run <bundle> --profile`), for the conv-heavy reference models at reduced
// sizes. With NETC_BASELINE=<another netc checkout> the same models are also compiled by that checkout's WGSL back
// end and the two bundles are profiled and run in one process, interleaved round by round (a before/after on a
// loaded machine). Both sides' outputs are checked against onnxruntime on the same graph and weights first.
//   NETC_BASELINE=/tmp/netc-before npx tsx bench/wgsl-profile.ts [model ...]
import path from "node:path";
import { pathToFileURL } from "node:url";
import { emitOnnx } from "../src/backends/onnx/index.js";
import { runOnnx } from "../src/backends/onnx/run.js";
import { bundleOf, compileWgsl } from "../src/backends/wgsl/index.js";
import { kernelClassOf } from "../src/backends/wgsl/kernel-class.js";
import { compileToGraph } from "../src/driver.js";
import { type KernelTiming, WgslModel } from "../src/runtime/model.js";
import type { HostTensor } from "../src/util/tensor.js";
import { machineNote, maxAbsDiff, type Spread, spread, writeResult } from "./measure.js";
import { createSharedNodeDevice } from "./ort-web.js";
import { WGSL_BENCH_MODELS } from "./wgsl.js";
import fs from "node:fs";

const ROUNDS = 3;
const SEED = 0;
const WGSL_TOLERANCE = 1e-3;
const MODELS = ["m3dfel", "ifdd"];

type Compile = typeof compileWgsl;
type Front = typeof compileToGraph;
interface Side {
  name: string;
  compile: Compile;
  front: Front;
}

export interface ProfileSide {
  kernels: number;
  /** Per class: the sum of its kernels' median times over the rounds, and how many kernels it has. */
  classes: Record<string, { ms: number; count: number }>;
  /** The sum of all kernels' medians (each kernel in a pass of its own, as profiled). */
  kernelMs: number;
  /** A plain run (one pass, read back to the host), per round. */
  runMs: Spread;
  maxAbsDiffFromOnnx: number;
}

export interface ProfileResult {
  model: string;
  config: string;
  sides: Record<string, ProfileSide>;
}

/** A side: this checkout, or the one NETC_BASELINE names (its own front end and WGSL back end). */
async function sides(): Promise<Side[]> {
  const here: Side = { name: "this checkout", compile: compileWgsl, front: compileToGraph };
  const base = process.env.NETC_BASELINE;
  if (!base) return [here];
  const load = (file: string) => import(pathToFileURL(path.resolve(base, file)).href);
  const [wgsl, driver] = await Promise.all([load("src/backends/wgsl/index.ts"), load("src/driver.ts")]);
  return [{ name: "baseline", compile: wgsl.compileWgsl, front: driver.compileToGraph }, here];
}

function uniformInput(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) out[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return out;
}

export async function benchWgslProfile(names = MODELS): Promise<ProfileResult[]> {
  const all = await sides();
  const results: ProfileResult[] = [];
  for (const name of names) {
    const m = WGSL_BENCH_MODELS.find((b) => b.name === name);
    if (!m) throw new Error(`no WGSL bench model ${name}`);
    const source = fs.readFileSync(m.file, "utf8");
    const programs = all.map((s) => {
      const front = s.front(source, { file: m.file, overrides: m.overrides, target: "wgsl" });
      if (!front.graph) throw new Error(`${s.name}: ${m.file} does not compile`);
      const { program, diagnostics } = s.compile(front.graph, { seed: SEED });
      if (!program) throw new Error(`${s.name}: ${diagnostics.map((d) => d.message).join("; ")}`);
      return { program, graph: front.graph };
    });
    const bundles = programs.map((p) => bundleOf(p.program));
    const gpu = await createSharedNodeDevice(bundles.map((b) => b.manifest));
    try {
      const inputs = programs[0].program.manifest.inputs.map((s, i) => ({
        name: s.name,
        tensor: {
          dtype: "f32",
          shape: s.shape,
          data: uniformInput(
            s.shape.reduce((a, b) => a * b, 1),
            7 + i,
          ),
        },
      })) as { name: string; tensor: HostTensor }[];
      const feed = Object.fromEntries(inputs.map((i) => [i.name, i.tensor.data as Float32Array]));
      const onnx = emitOnnx(programs[0].graph, { seed: SEED });
      const reference = await runOnnx(onnx.bytes!, new Map(inputs.map((i) => [i.name, i.tensor])));
      const models = await Promise.all(bundles.map((b) => WgslModel.create(gpu.device, b)));
      const diffs = await Promise.all(
        models.map(async (model) => {
          const out = await model.run(feed);
          return Math.max(
            ...[...reference].map(([k, t]) =>
              maxAbsDiff(out[k].data as Float32Array, t.data as unknown as ArrayLike<number>),
            ),
          );
        }),
      );
      diffs.forEach((d, i) => {
        if (!(d <= WGSL_TOLERANCE)) throw new Error(`${all[i].name}: ${name} is ${d} off onnxruntime`);
      });
      const profiles: KernelTiming[][][] = all.map(() => []);
      const runs: number[][] = all.map(() => []);
      for (let round = 0; round < ROUNDS; round++) {
        process.stderr.write(`${name}: round ${round + 1} of ${ROUNDS}\n`);
        const order = round % 2 === 0 ? [...all.keys()] : [...all.keys()].reverse();
        for (const i of order) {
          profiles[i].push((await models[i].profile(feed)).kernels);
          const t = performance.now();
          await models[i].run(feed);
          runs[i].push(performance.now() - t);
        }
      }
      for (const model of models) model.destroy();
      const result: ProfileResult = {
        model: name,
        config: `${path.relative(process.cwd(), m.file)} ${Object.entries(m.overrides)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ")}`,
        sides: {},
      };
      all.forEach((s, i) => {
        const classes: Record<string, { ms: number; count: number }> = {};
        let kernelMs = 0;
        profiles[i][0].forEach((k, j) => {
          const ms = spread(profiles[i].map((p) => p[j].ms)).median;
          const c = (classes[kernelClassOf(k.ops[0])] ??= { ms: 0, count: 0 });
          c.ms += ms;
          c.count++;
          kernelMs += ms;
        });
        result.sides[s.name] = {
          kernels: profiles[i][0].length,
          classes,
          kernelMs,
          runMs: spread(runs[i]),
          maxAbsDiffFromOnnx: diffs[i],
        };
      });
      results.push(result);
    } finally {
      gpu.release();
    }
  }
  return results;
}

export function formatWgslProfile(r: ProfileResult): string {
  const lines = [`wgsl profile ${r.model} (${r.config}):`];
  for (const [name, s] of Object.entries(r.sides)) {
    const classes = Object.entries(s.classes)
      .sort((a, b) => b[1].ms - a[1].ms)
      .map(([c, v]) => `${c} ${v.ms.toFixed(1)} ms ${((100 * v.ms) / s.kernelMs).toFixed(0)}% (${v.count})`)
      .join(", ");
    lines.push(
      `  ${name}: ${s.kernels} kernels, ${s.kernelMs.toFixed(1)} ms of kernel time: ${classes}; ` +
        `run ${s.runMs.median.toFixed(1)} ms (${s.runMs.min.toFixed(1)}-${s.runMs.max.toFixed(1)}); ` +
        `max diff from onnxruntime ${s.maxAbsDiffFromOnnx.toExponential(1)}`,
    );
  }
  return lines.join("\n");
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  const note = machineNote();
  const results = await benchWgslProfile(process.argv.length > 2 ? process.argv.slice(2) : MODELS);
  for (const r of results) console.log(formatWgslProfile(r));
  const machine = note.finish();
  console.log(`load average ${machine.loadAverage.start} -> ${machine.loadAverage.end} on ${machine.cpus} cores`);
  console.log(writeResult("wgsl-profile", { machine, rounds: ROUNDS, results }));
}
