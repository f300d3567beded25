// Loading like a web app: time to first result for the mini IFDD bundle in headless Chromium (WebGPU on its
// adapter), netc's loadModel against onnxruntime-web's WebGPU EP on the same page, cold (no HTTP cache, Cache
// Storage emptied) and cached (netc: every shard from Cache Storage; ORT-web: the ONNX file from the HTTP cache,
// which the example server's immutable headers allow). The same compile gives both sides their model: the bundle
// and its ONNX fallback (one seeded set of weights). Time to first result runs from the call to the outputs on the
// host: fetching, hash checks, uploads, pipeline compilation and one run (ORT-web's wasm start-up included), each in
// a fresh page whose JavaScript modules are loaded but not yet used. Also the inference ratio: runs of the loaded
// model and the loaded session on one page, interleaved, outputs read back each time. Both sides' outputs are checked
// against each other
// before anything is timed. All rounds interleave (measure.ts), so a change in the machine's load falls on all.
import fs from "node:fs";
import type { Server } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { emitOnnx } from "../src/backends/onnx/index.js";
import { decodeModel } from "../src/backends/onnx/proto.js";
import { emitWgslBundle } from "../src/backends/wgsl/index.js";
import { compileToGraph } from "../src/driver.js";
import type { Graph } from "../src/compiler/ir/ir.js";
import type { BundleManifest } from "../src/runtime/manifest.js";
import { uniforms } from "../src/util/random.js";
import { type HostTensor, numel } from "../src/util/tensor.js";
import { formatSpread, interleaved, maxAbsDiff, type Spread } from "./measure.js";
import { nodesOrtWebGpuCannotRun } from "./ort-web.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MODEL = path.join(HERE, "../test/wgsl/fixtures/mini_ifdd.net");
const CHROMIUM = "/usr/bin/chromium";
const SEED = 0;
const ROUNDS = Number(process.env.NETC_BENCH_LOAD_ROUNDS ?? 5);
/** The tolerance the WGSL tests hold kernels to against onnxruntime (test/wgsl/helpers.ts). */
const WGSL_TOLERANCE = 1e-3;

export interface LoadBenchResult {
  model: string;
  adapter: string;
  bundle: { shards: number; shardBytes: number; weightBytes: number; shaderBytes: number; kernels: number };
  onnxBytes: number;
  rounds: number;
  firstResultMs: { netcCold: Spread; ortCold: Spread; netcCached: Spread; ortCached: Spread };
  inferenceMs: { netc: Spread; ort: Spread };
  /** ORT-web's time over netc's (above 1: netc is faster). */
  ratios: { cold: number; cached: number; inference: number };
  maxAbsDiff: number;
  maxAbs: number;
}

/** The page's side: both runtimes loaded once, then each load or run timed inside the page. */
const PAGE_SETUP = (input: { name: string; shape: number[] }, output: string, cpuNodes: string[]) => `(async () => {
  const { loadModel } = await import("/netc/runtime/index.js");
  const ort = await import("/ort/ort.webgpu.min.mjs");
  ort.env.wasm.wasmPaths = "/ort/";
  ort.env.logLevel = "error";
  const shape = ${JSON.stringify(input.shape)};
  const x = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i * 0.37) * 0.5 + 0.5);
  const ep = ${JSON.stringify(cpuNodes.length ? { name: "webgpu", forceCpuNodeNames: cpuNodes } : { name: "webgpu" })};
  const manifest = await (await fetch("/bundle/manifest.json", { cache: "no-store" })).json();
  const b = {
    outputs: {},
    async netcLoad(cached) {
      if (!cached) await caches.delete("netc-bundles");
      const t0 = performance.now();
      const model = await loadModel("/bundle/", { cache: true });
      const out = await model.run({ ${JSON.stringify(input.name)}: x });
      const ms = performance.now() - t0;
      if (model.backend !== "webgpu") throw new Error("netc fell back: " + model.reason);
      b.outputs.netc = Array.from(out[${JSON.stringify(output)}].data);
      if (b.netcModel) { b.netcModel.destroy(); b.netcModel.device.destroy(); }
      b.netcModel = model;
      return ms;
    },
    async ortLoad() {
      const t0 = performance.now();
      const bytes = new Uint8Array(await (await fetch("/bundle/" + manifest.fallback.onnx)).arrayBuffer());
      const options = { executionProviders: [ep], graphOptimizationLevel: "all" };
      const session = await ort.InferenceSession.create(bytes, options);
      const out = await session.run({ ${JSON.stringify(input.name)}: new ort.Tensor("float32", x, shape) });
      const ms = performance.now() - t0;
      b.outputs.ort = Array.from(out[${JSON.stringify(output)}].data);
      if (b.session) await b.session.release();
      b.session = session;
      return ms;
    },
    async netcRun() {
      const t0 = performance.now();
      await b.netcModel.run({ ${JSON.stringify(input.name)}: x });
      return performance.now() - t0;
    },
    async ortRun() {
      const t0 = performance.now();
      const out = await b.session.run({ ${JSON.stringify(input.name)}: new ort.Tensor("float32", x, shape) });
      out[${JSON.stringify(output)}].data;
      return performance.now() - t0;
    },
  };
  window.bench = b;
  const adapter = await navigator.gpu.requestAdapter();
  const info = adapter.info ?? {};
  return [info.vendor, info.architecture, info.description].filter(Boolean).join(" ") || "unknown adapter";
})()`;

/**
 * Seeded weights that keep activations near unit scale (norm gains 1, other tensors uniform with variance 1/fan-in),
 * so the logits depend on the input and checking both sides' outputs means something (netc's default draws shrink
 * every feature to nearly the same constant).
 */
function scaledWeights(graph: Graph): Map<string, HostTensor> {
  const next = uniforms(SEED);
  const weights = new Map<string, HostTensor>();
  for (const p of graph.params) {
    if (p.init || p.dtype !== "f32") continue;
    const fanIn = p.shape.length > 1 ? numel(p.shape.slice(1)) : 1;
    const bound = p.path.endsWith("bias") ? 0.1 : Math.sqrt(3 / fanIn);
    const gain = /norm[^.]*(\.\d+)?\.weight$/.test(p.path);
    const data = Float32Array.from({ length: numel(p.shape) }, () => (gain ? 1 : (2 * next() - 1) * bound));
    weights.set(p.path, { dtype: "f32", shape: p.shape, data });
  }
  return weights;
}

export async function benchLoad(): Promise<LoadBenchResult> {
  const playwright = await import("playwright-core").catch(() => undefined);
  if (!playwright || !fs.existsSync(CHROMIUM))
    throw new Error(`the load benchmark needs playwright-core and ${CHROMIUM} (apt-get install chromium)`);
  const { serveExample } = (await import(path.join(HERE, "../examples/web/serve.mjs"))) as {
    serveExample: (o: { bundle: string; port: number }) => Promise<{ server: Server; url: string }>;
  };
  const graph = compileToGraph(fs.readFileSync(MODEL, "utf8"), {
    file: MODEL,
    overrides: { B: "1" },
    target: "wgsl",
  }).graph!;
  const weights = scaledWeights(graph);
  const onnx = emitOnnx(graph, { weights, seed: SEED }).bytes!;
  const root = fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? "/tmp"), "netc-bench-load-"));
  const dir = path.join(root, "bundle");
  const emitted = emitWgslBundle(graph, { outDir: dir, weights, seed: SEED, fallbackOnnx: onnx });
  if (!emitted.program) throw new Error(emitted.diagnostics.map((d) => d.message).join("\n"));
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as BundleManifest;
  const served = await serveExample({ bundle: dir, port: 0 });
  const browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: ["--enable-unsafe-webgpu"] });
  try {
    const input = manifest.inputs[0];
    const output = manifest.outputs[0].name;
    const setup = PAGE_SETUP(input, output, nodesOrtWebGpuCannotRun(decodeModel(onnx)));
    const context = await browser.newContext();
    /** A fresh page of the bundle's origin with both runtimes' code loaded; the HTTP cache on or off. */
    const openPage = async (httpCache: boolean) => {
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable");
      await cdp.send("Network.setCacheDisabled", { cacheDisabled: !httpCache });
      await page.goto(`${served.url}bundle/manifest.json`);
      const adapter = (await page.evaluate(setup)) as string;
      return { page, adapter, call: (fn: string) => page.evaluate(`window.bench.${fn}`) as Promise<number> };
    };
    // Each load in a page of its own: a fresh WebGPU device on both sides (ORT-web keeps one device per page, and
    // its pipelines with it), as a new visit has. The page's set-up is not timed; Cache Storage and the HTTP cache
    // are the browser context's, shared by its pages.
    const loadIn = async (httpCache: boolean, fn: string) => {
      const { page, call } = await openPage(httpCache);
      try {
        return await call(fn);
      } finally {
        await page.close();
      }
    };
    const sides = {
      netcCold: () => loadIn(false, "netcLoad(false)"),
      ortCold: () => loadIn(false, "ortLoad()"),
      netcCached: () => loadIn(true, "netcLoad(true)"),
      ortCached: () => loadIn(true, "ortLoad()"),
    };
    // Outputs first: both sides must compute the same logits, or the timings are not of equal work. The page stays
    // for the inference runs.
    const { page, adapter, call } = await openPage(true);
    await call("netcLoad(false)");
    await call("ortLoad()");
    const outputs = (await page.evaluate("window.bench.outputs")) as { netc: number[]; ort: number[] };
    const diff = maxAbsDiff(outputs.netc, outputs.ort);
    if (!(diff <= WGSL_TOLERANCE)) throw new Error(`netc and ORT-web differ by ${diff} (over ${WGSL_TOLERANCE})`);
    const inferenceMs = await interleaved(ROUNDS * 2, { netc: () => call("netcRun()"), ort: () => call("ortRun()") });
    await page.close();
    const firstResultMs = await interleaved(ROUNDS, sides);
    const ratio = (a: Spread, b: Spread) => Number((a.median / b.median).toFixed(2));
    return {
      model: `${path.relative(path.join(HERE, ".."), MODEL)} (B=1, scaled random weights, seed ${SEED})`,
      adapter,
      bundle: {
        shards: manifest.weights.shards.length,
        shardBytes: manifest.weights.shardBytes,
        weightBytes: manifest.weights.shards.reduce((s, x) => s + x.bytes, 0),
        shaderBytes: manifest.shaders.bytes,
        kernels: manifest.kernels.length,
      },
      onnxBytes: onnx.byteLength,
      rounds: ROUNDS,
      firstResultMs,
      inferenceMs,
      ratios: {
        cold: ratio(firstResultMs.ortCold, firstResultMs.netcCold),
        cached: ratio(firstResultMs.ortCached, firstResultMs.netcCached),
        inference: ratio(inferenceMs.ort, inferenceMs.netc),
      },
      maxAbsDiff: diff,
      maxAbs: Math.max(...outputs.ort.map(Math.abs)),
    };
  } finally {
    await browser.close();
    served.server.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

export function formatLoad(r: LoadBenchResult): string {
  const t = r.firstResultMs;
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  return [
    `load: ${r.model} in headless Chromium on ${r.adapter}; bundle ${mb(r.bundle.weightBytes)} in ` +
      `${r.bundle.shards} shards, ` +
      `${r.bundle.kernels} kernels in one ${(r.bundle.shaderBytes / 1024).toFixed(0)} KiB shader file; ONNX ` +
      `${mb(r.onnxBytes)}`,
    `  time to first result, cold: netc ${formatSpread(t.netcCold, "ms", 0)}, ORT-web ` +
      `${formatSpread(t.ortCold, "ms", 0)}: ORT-web/netc = ${r.ratios.cold}x`,
    `  time to first result, cached: netc ${formatSpread(t.netcCached, "ms", 0)}, ORT-web ` +
      `${formatSpread(t.ortCached, "ms", 0)}: ORT-web/netc = ${r.ratios.cached}x`,
    `  inference on the same adapter: netc ${formatSpread(r.inferenceMs.netc)}, ORT-web ` +
      `${formatSpread(r.inferenceMs.ort)}: ORT-web/netc = ${r.ratios.inference}x ` +
      `(medians of ${r.rounds} and ${2 * r.rounds} interleaved rounds; outputs within ` +
      `${r.maxAbsDiff.toExponential(1)} of each other, up to ${r.maxAbs.toExponential(1)})`,
  ].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  console.log(formatLoad(await benchLoad()));
}
