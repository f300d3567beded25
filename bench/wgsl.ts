// The WGSL target against onnxruntime-web's WebGPU EP (issue 7's peer), on one adapter in one process: the same
// IR graph compiled once to a WGSL bundle and to ONNX (same seeded weights), the same input, both read back to the
// host each run. Reported per model: netc's kernels against ONNX nodes and against the nodes ORT runs after its
// own fusions, GPU dispatches per run on each side, pipeline compilation (netc: WgslModel.create; ORT: session
// creation plus its first run, which compiles its shaders lazily), per-run medians, the ratio ORT-web / netc, and
// the largest difference between the two outputs (so the timings are of equal work).
// The models are the reference models at reduced sizes (software adapters take minutes on the full ones);
// NETC_BENCH_WGSL_MODELS=ifdd,s2d picks some of them.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type * as OrtWeb from "onnxruntime-web";
import { emitOnnx } from "../src/backends/onnx/index.js";
import { decodeModel } from "../src/backends/onnx/proto.js";
import { bundleOf, compileWgsl } from "../src/backends/wgsl/index.js";
import { compileToGraph } from "../src/driver.js";
import { WgslModel } from "../src/runtime/model.js";
import type { NodeGpu } from "../src/runtime/node.js";
import type { HostTensor } from "../src/util/tensor.js";
import { createSharedNodeDevice, loadOrtWebGpu, nodesOrtWebGpuCannotRun, type OrtWebGpu } from "./ort-web.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RUNS = 5;
const SEED = 0;
/** The tolerance the WGSL tests hold kernels to against onnxruntime (test/wgsl/helpers.ts). */
const WGSL_TOLERANCE = 1e-3;

interface BenchModel {
  name: string;
  file: string;
  overrides: Record<string, string>;
  /** How the report names the size, when the overrides are too many to list. */
  size?: string;
}

const OUS_SMALL = JSON.parse(fs.readFileSync(path.join(HERE, "../test/fixtures/ous/default/config.json"), "utf8"))
  .config as Record<string, unknown>;

export const WGSL_BENCH_MODELS: readonly BenchModel[] = [
  // IFDD's blocks (pooled multiscale attention, the lifting module) at a reduced size, as test/wgsl/models.test.ts.
  { name: "ifdd", file: path.join(HERE, "../test/wgsl/fixtures/mini_ifdd.net"), overrides: { B: "1" } },
  // S2D at test/models/s2d.test.ts's tiny size (the landmark net included, 2 frames of 56x56).
  {
    name: "s2d",
    file: path.join(HERE, "../models/s2d.net"),
    overrides: {
      B: "1",
      embed_dim: "32",
      depth: "2",
      num_heads: "2",
      num_frames: "2",
      img_size: "56",
      patch_size: "4",
    },
  },
  // M3DFEL's 3-D ResNet-18 (conv-heavy) at test/fixtures/m3dfel/mafw_small's configuration: 3 instances of 2
  // frames, 24x24 crops.
  {
    name: "m3dfel",
    file: path.join(HERE, "../models/m3dfel.net"),
    overrides: { B: "1", num_classes: "11", num_frames: "6", instance_length: "2", crop_size: "24" },
  },
  // OUS in the small default configuration of its PyTorch reference fixture (4 frames of 64x64, both streams).
  {
    name: "ous",
    file: path.join(HERE, "../models/ous.net"),
    size: "B=1, test/fixtures/ous/default's configuration",
    overrides: {
      B: "1",
      ...Object.fromEntries(
        Object.entries(OUS_SMALL).map(([k, v]) => [k, typeof v === "string" ? JSON.stringify(v) : String(v)]),
      ),
    },
  },
];

export interface WgslSide {
  /** Pipeline compilation: netc's WgslModel.create; ORT-web's session creation. */
  setupMs: number;
  firstRunMs: number;
  /** Compute pipelines created by setup and the first run, and the longest any one of them took. */
  pipelines: number;
  slowestPipelineMs: number;
  dispatchesPerRun: number;
  inferenceMs: number;
}

export interface WgslBenchResult {
  model: string;
  config: string;
  adapter: string;
  compileMs: number;
  kernels: number;
  onnxNodes: number;
  /** Nodes per execution provider after ORT's graph fusions. */
  ortPlacement: Record<string, number>;
  /** Nodes placed on ORT-web's CPU EP up front because its WebGPU EP fails on them. */
  ortForcedCpu: number;
  netc: WgslSide;
  ort: WgslSide;
  maxAbsDiff: number;
  /** The largest |output| (from ORT-web), the scale of maxAbsDiff. */
  maxAbs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Counts compute pipelines (and the longest wait for one) and dispatches on every device (both runtimes share one). */
const counts = { pipelines: 0, slowestPipelineMs: 0, dispatches: 0 };
function countGpuWork(): void {
  const device = GPUDevice.prototype as GPUDevice & { netcCounted?: true };
  if (device.netcCounted) return;
  device.netcCounted = true;
  const pass = GPUComputePassEncoder.prototype;
  const createAsync = device.createComputePipelineAsync;
  const create = device.createComputePipeline;
  const dispatch = pass.dispatchWorkgroups;
  const dispatchIndirect = pass.dispatchWorkgroupsIndirect;
  device.createComputePipelineAsync = function (this: GPUDevice, d) {
    counts.pipelines++;
    const t = performance.now();
    return createAsync
      .call(this, d)
      .then((p) => ((counts.slowestPipelineMs = Math.max(counts.slowestPipelineMs, performance.now() - t)), p));
  };
  device.createComputePipeline = function (this: GPUDevice, d) {
    counts.pipelines++;
    return create.call(this, d);
  };
  pass.dispatchWorkgroups = function (this: GPUComputePassEncoder, x, y, z) {
    counts.dispatches++;
    return dispatch.call(this, x, y, z);
  };
  pass.dispatchWorkgroupsIndirect = function (this: GPUComputePassEncoder, b, o) {
    counts.dispatches++;
    return dispatchIndirect.call(this, b, o);
  };
}

interface Timed<T> {
  value: T;
  ms: number;
  pipelines: number;
  slowestPipelineMs: number;
  dispatches: number;
}

async function timed<T>(f: () => Promise<T>): Promise<Timed<T>> {
  const [p, d, t] = [counts.pipelines, counts.dispatches, performance.now()];
  counts.slowestPipelineMs = 0;
  const value = await f();
  return {
    value,
    ms: performance.now() - t,
    pipelines: counts.pipelines - p,
    slowestPipelineMs: counts.slowestPipelineMs,
    dispatches: counts.dispatches - d,
  };
}

/** Uniform [0, 1) from a fixed linear congruential sequence: the same input on both sides, every time. */
function uniformInput(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) out[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return out;
}

/** The largest difference between the two runtimes' outputs, and the largest output magnitude (its scale). */
function compareOutputs(
  netc: Record<string, HostTensor>,
  ort: OrtWeb.InferenceSession.OnnxValueMapType,
): { maxAbsDiff: number; maxAbs: number } {
  let worst = 0;
  let maxAbs = 0;
  for (const [name, t] of Object.entries(netc)) {
    const peer = ort[name];
    if (!peer || peer.dims.join() !== t.shape.join())
      throw new Error(`output ${name}: shape ${t.shape} here, ${peer?.dims} from onnxruntime-web`);
    const a = t.data as ArrayLike<number>;
    const b = peer.data as ArrayLike<number>;
    for (let i = 0; i < a.length; i++) {
      worst = Math.max(worst, Number.isNaN(a[i]) !== Number.isNaN(b[i]) ? Infinity : Math.abs(a[i] - b[i]) || 0);
      maxAbs = Math.max(maxAbs, Math.abs(b[i]) || 0);
    }
  }
  return { maxAbsDiff: worst, maxAbs };
}

/** Compiles every model first (the shared device must satisfy all their bundles), then times them one by one. */
export async function* benchWgsl(models = selectedModels()): AsyncGenerator<WgslBenchResult> {
  const compiled = models.map(compileBoth);
  const gpu = await createSharedNodeDevice(compiled.map((c) => bundleOf(c.program).manifest));
  try {
    countGpuWork();
    const ortWeb = await loadOrtWebGpu(gpu);
    for (const c of compiled) yield await benchModel(c, gpu, ortWeb);
  } finally {
    gpu.release();
  }
}

interface Compiled {
  model: BenchModel;
  compileMs: number;
  program: NonNullable<ReturnType<typeof compileWgsl>["program"]>;
  onnx: Uint8Array;
}

/** The model's IR graph, compiled to a WGSL program and to ONNX with the same seeded weights. */
function compileBoth(m: BenchModel): Compiled {
  const front = compileToGraph(fs.readFileSync(m.file, "utf8"), {
    file: m.file,
    overrides: m.overrides,
    target: "wgsl",
  });
  if (!front.graph)
    throw new Error(`${m.file} does not compile: ${front.diagnostics.map((d) => d.message).join("; ")}`);
  const t0 = performance.now();
  const { program, diagnostics } = compileWgsl(front.graph, { seed: SEED });
  const compileMs = performance.now() - t0;
  if (!program) throw new Error(diagnostics.map((d) => `${d.code} ${d.message}`).join("\n"));
  const onnx = emitOnnx(front.graph, { seed: SEED });
  if (!onnx.bytes) throw new Error(onnx.diagnostics.map((d) => `${d.code} ${d.message}`).join("\n"));
  return { model: m, compileMs, program, onnx: onnx.bytes };
}

async function benchModel(
  { model: m, compileMs, program, onnx }: Compiled,
  gpu: NodeGpu,
  ortWeb: OrtWebGpu,
): Promise<WgslBenchResult> {
  const onnxModel = decodeModel(onnx);
  const forcedCpu = nodesOrtWebGpuCannotRun(onnxModel);

  const shapes = program.manifest.inputs.map((s) => {
    if (s.dtype !== "f32") throw new Error(`input ${s.name} is ${s.dtype}: the bench feeds f32 inputs only`);
    return s;
  });
  const data = shapes.map((s, i) =>
    uniformInput(
      s.shape.reduce((a, b) => a * b, 1),
      7 + i,
    ),
  );
  const netcInputs = Object.fromEntries(shapes.map((s, i) => [s.name, data[i]]));
  const ortInputs = Object.fromEntries(
    shapes.map((s, i) => [s.name, new ortWeb.ort.Tensor("float32", data[i], s.shape)]),
  );

  const bundle = bundleOf(program);
  const netcCreate = await timed(() => WgslModel.create(gpu.device, bundle));
  const model = netcCreate.value;
  const ortCreate = await timed(() => ortWeb.createSession(onnx, forcedCpu));
  const session = ortCreate.value;
  try {
    const netcFirst = await timed(() => model.run(netcInputs));
    const ortFirst = await timed(() => session.run(ortInputs));
    const agreement = compareOutputs(netcFirst.value, ortFirst.value);
    // Interleaved, so that a change in the machine's load falls on both sides alike.
    const netcRuns: Timed<unknown>[] = [];
    const ortRuns: Timed<unknown>[] = [];
    for (let i = 0; i < RUNS; i++) {
      netcRuns.push(await timed(() => model.run(netcInputs)));
      ortRuns.push(await timed(() => session.run(ortInputs)));
    }
    const side = (create: Timed<unknown>, first: Timed<unknown>, runs: Timed<unknown>[]): WgslSide => ({
      setupMs: create.ms,
      firstRunMs: first.ms,
      pipelines: create.pipelines + first.pipelines,
      slowestPipelineMs: Math.max(create.slowestPipelineMs, first.slowestPipelineMs),
      dispatchesPerRun: runs[0].dispatches,
      inferenceMs: median(runs.map((r) => r.ms)),
    });
    const info = gpu.adapter.info;
    return {
      model: m.name,
      config: `${path.relative(process.cwd(), m.file)} ${
        m.size ??
        Object.entries(m.overrides)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ")
      }`,
      adapter: `${info.vendor} ${info.architecture} ${info.description}`.trim() || "unknown",
      compileMs,
      kernels: program.manifest.kernels.length,
      onnxNodes: onnxModel.graph?.node?.length ?? NaN,
      // After the timed session, so that its warmed shader cache does not flatter ORT's session time.
      ortPlacement: await ortWeb.placement(onnx, forcedCpu),
      ortForcedCpu: forcedCpu.length,
      netc: side(netcCreate, netcFirst, netcRuns),
      ort: side(ortCreate, ortFirst, ortRuns),
      ...agreement,
    };
  } finally {
    model.destroy();
    await session.release();
  }
}

function selectedModels(): BenchModel[] {
  const names = process.env.NETC_BENCH_WGSL_MODELS?.split(",").map((s) => s.trim());
  if (!names) return [...WGSL_BENCH_MODELS];
  const unknown = names.filter((n) => !WGSL_BENCH_MODELS.some((m) => m.name === n));
  if (unknown.length)
    throw new Error(
      `NETC_BENCH_WGSL_MODELS: no model ${unknown.join(", ")} (there are ` +
        `${WGSL_BENCH_MODELS.map((m) => m.name).join(", ")})`,
    );
  return WGSL_BENCH_MODELS.filter((m) => names.includes(m.name));
}

export function formatWgslResult(r: WgslBenchResult): string {
  const s = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(ms >= 100 ? 0 : 1)} ms`);
  const placement = Object.entries(r.ortPlacement)
    .map(([ep, n]) => `${n} on ${ep.replace("ExecutionProvider", "")}`)
    .join(", ");
  return [
    `wgsl ${r.model} (${r.config}) on ${r.adapter}:`,
    `  kernels: netc ${r.kernels} (${r.netc.dispatchesPerRun} dispatches/run) vs ${r.onnxNodes} ONNX nodes; ` +
      `ORT-web runs ${placement}` +
      `${r.ortForcedCpu ? ` (${r.ortForcedCpu} grouped Conv3D forced to CPU: its WebGPU EP fails on them)` : ""}, ` +
      `${r.ort.dispatchesPerRun} dispatches/run`,
    `  setup: netc compile ${s(r.compileMs)}, pipelines ${s(r.netc.setupMs)} (${r.netc.pipelines} pipelines, ` +
      `slowest ${s(r.netc.slowestPipelineMs)}), first run ${s(r.netc.firstRunMs)}; ` +
      `ORT-web session ${s(r.ort.setupMs)}, first run ${s(r.ort.firstRunMs)} (${r.ort.pipelines} pipelines, ` +
      `slowest ${s(r.ort.slowestPipelineMs)})`,
    `  inference (median of ${RUNS}, interleaved): netc ${s(r.netc.inferenceMs)}, ORT-web ` +
      `${s(r.ort.inferenceMs)}: ORT-web/netc = ${(r.ort.inferenceMs / r.netc.inferenceMs).toFixed(2)}x; ` +
      `max |netc - ORT-web| over the outputs ${r.maxAbsDiff.toExponential(1)} (outputs up to ` +
      `${r.maxAbs.toExponential(1)})` +
      `${r.maxAbsDiff > WGSL_TOLERANCE ? ` (over the ${WGSL_TOLERANCE} WGSL tolerance: not equal work)` : ""}`,
  ].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  for await (const r of benchWgsl()) console.log(formatWgslResult(r));
}
