// The ceiling of IFDD's fraction of the MatMul rate on onnxruntime-node, measured two ways.
// In the model: IFDD runs with onnxruntime's profiler on, between spans of the 2048^3 MatMul about as long as one
// IFDD run; its dense product kernels (matmuls, convs over all input channels) are timed where they run, with warm
// caches and the model's own layouts, and the fraction IFDD would reach if every other kernel (layout, elementwise,
// norm, the grouped pooling convs) cost nothing is its MACs over the products' kernel time, against the MatMul's rate
// in the adjacent spans.
// Alone: every product IFDD's ONNX graph computes (each matmul, the two products of each attention, each conv) is run
// in a session of its own, one per distinct shape, in the session options of bench/ifdd.ts, interleaved round by
// round with the 2048^3 MatMul: a rate per shape. Their sum is no floor for the model: alone, a product reads inputs
// no earlier op left in cache and pays its own run, and the sum has taken 1.1-2.2x IFDD's whole time.
//   npx tsx bench/ifdd-ceiling.ts [--rounds 5] [--json OUT.json]
// A constant operand (a weight) is an initializer here too, so onnxruntime pre-packs it as in the model. Agreement:
// each product's output is compared with the same product computed here in float64 at sampled entries.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { SPEED_REWRITES } from "../src/compiler/ir/passes/index.js";
import type { Dim } from "../src/compiler/ir/dim.js";
import type { Graph, Node, Value } from "../src/compiler/ir/ir.js";
import { graphStats } from "../src/compiler/ir/stats.js";
import { compile } from "../src/index.js";
import { maxAbsDiff, runSpan, type Spread, spanLength, spread, timeOnce } from "./measure.js";
import type { ProfileEvent } from "./profile-onnx.js";
import {
  IFDD_FIXTURES as FIXTURES,
  IFDD_MODEL as MODEL,
  IFDD_WEIGHTS as WEIGHTS,
  QUIET_SESSION as SESSION,
  tensorOf,
} from "./onnx-inputs.js";

/** One product as a standalone model: its .net source, its operands (constant ones become weights) and MACs. */
interface Product {
  key: string;
  count: number;
  source: string;
  inputs: { name: string; shape: number[] }[];
  weights: { name: string; shape: number[] }[];
  macs: number;
  kind: "matmul" | "attention" | "conv";
}

const numeric = (shape: readonly Dim[]): number[] => shape.map((d) => (typeof d === "number" ? d : 1)); // B = 1
const isConstant = (v: Value) => v.producer.op === "param" || v.producer.op === "const";
const f32 = (shape: number[]) => `f32[${shape.join(", ")}]`;
const prod = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function broadcastLead(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  return [...Array(n).keys()].map((i) => Math.max(a[a.length - n + i] ?? 1, b[b.length - n + i] ?? 1));
}

/** A @ B with the constant side as a weight, as the model has it. */
function matmulProduct(a: number[], b: number[], bConstant: boolean, kind: Product["kind"]): Product {
  const out = [...broadcastLead(a.slice(0, -2), b.slice(0, -2)), ...(a.length > 1 ? [a[a.length - 2]] : [])];
  if (b.length > 1) out.push(b[b.length - 1]);
  const inner = a[a.length - 1];
  const body = bConstant ? `param w: ${f32(b)}\n  return a @ w` : "return a @ b";
  const inputs = [{ name: "a", shape: a }, ...(bConstant ? [] : [{ name: "b", shape: b }])];
  const signature = inputs.map((i) => `${i.name}: ${f32(i.shape)}`).join(", ");
  return {
    key: `${kind} ${f32(a)} @ ${f32(b)}${bConstant ? " (weight)" : ""}`,
    count: 1,
    source: `model P()(${signature}) -> (c: ${f32(out)}) {\n  ${body}\n}\n`,
    inputs,
    weights: bConstant ? [{ name: "w", shape: b }] : [],
    macs: prod(out) * inner,
    kind,
  };
}

function convProduct(n: Node<"conv">): Product {
  const x = numeric(n.inputs[0].shape);
  const w = numeric(n.inputs[1].shape);
  const out = numeric(n.outputs[0].shape);
  const { strides, pads, dilations, groups } = n.attrs;
  const spatial = strides.length;
  // Per-dim padding where begins and ends agree; otherwise begins then ends (the strided-window rows pass makes some).
  const symmetric = pads.slice(0, spatial).every((p, i) => p === pads[spatial + i]);
  const padding = symmetric ? pads.slice(0, spatial) : pads;
  const bias = n.inputs.length > 2 ? `, b` : "";
  const window = `stride = [${strides}], padding = [${padding}], dilation = [${dilations}]`;
  const call = `conv(x, w${bias}, ${window}, groups = ${groups})`;
  const params = [`param w: ${f32(w)}`, ...(bias ? [`param b: ${f32([w[0]])}`] : [])].join("\n  ");
  return {
    key: `conv ${f32(x)} * ${f32(w)} stride [${strides}] dilation [${dilations}] groups ${groups}`,
    count: 1,
    source: `model P()(x: ${f32(x)}) -> (y: ${f32(out)}) {\n  ${params}\n  return ${call}\n}\n`,
    inputs: [{ name: "x", shape: x }],
    weights: [{ name: "w", shape: w }, ...(bias ? [{ name: "b", shape: [w[0]] }] : [])],
    macs: (prod(out) * prod(w.slice(1))) | 0,
    kind: "conv",
  };
}

/** Every product of the graph, grouped by shape. */
export function productsOf(graph: Graph): Product[] {
  const found = new Map<string, Product>();
  const add = (p: Product) => {
    const seen = found.get(p.key);
    if (seen) seen.count++;
    else found.set(p.key, p);
  };
  for (const n of graph.nodes) {
    if (n.op === "matmul") {
      const [a, b] = n.inputs;
      add(matmulProduct(numeric(a.shape), numeric(b.shape), isConstant(b), "matmul"));
    } else if (n.op === "attention") {
      const [q, k, v] = n.inputs.map((i) => numeric(i.shape));
      const r = k.length;
      const kt = [...k.slice(0, -2), k[r - 1], k[r - 2]];
      const scores = [...broadcastLead(q.slice(0, -2), k.slice(0, -2)), q[r - 2], k[r - 2]];
      add(matmulProduct(q, kt, false, "attention"));
      add(matmulProduct(scores, v, false, "attention"));
    } else if (n.op === "conv") add(convProduct(n as Node<"conv">));
  }
  return [...found.values()];
}

function random(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

interface Timed {
  key: string;
  kind: Side["kind"];
  count: number;
  gmac: number;
  wallMs: Spread;
  cpuMs: Spread;
}

export interface CeilingResult {
  gmacPerClipAsWritten: number;
  gmacPerClipRun: number;
  products: Timed[];
  matmul2048: { wallMs: Spread; cpuMs: Spread; gmac: number };
  /** The whole IFDD graph (all passes, official logits checked), timed in the same rounds. */
  ifdd: { wallMs: Spread; cpuMs: Spread };
  /** Sum over products of count x median (and x best) time, in ms, by kind and in all; `cpu`: CPU-time medians. */
  floorMs: Record<"matmul" | "attention" | "conv" | "all", { median: number; best: number; cpu: number }>;
  /** IFDD's MACs (as written) per second over the 2048^3 MatMul's: if only the products took time (the ceiling), and
   *  as measured here (the goal is 0.8 of the latter), in wall time (medians, and best runs) and in CPU time. */
  fraction: Record<"ceiling" | "measured", { wallMedian: number; wallBest: number; cpuMedian: number }>;
  /** The products' floor over IFDD's time: the share of an inference the products would need alone. */
  productShare: { wallMedian: number; cpuMedian: number };
  inModel: InModel;
  loadAverage: { start: number[]; end: number[] };
}

/** IFDD's product kernels where they run, per profiled round (medians over rounds, with their spread). */
export interface InModel {
  rounds: number;
  matmulsPerSpan: number;
  /** IFDD's wall time per run, with the profiler on. */
  wallMs: Spread;
  /** Kernel time per run: all kernels, the dense product kernels, and the rest. */
  kernelMs: Spread;
  productMs: Spread;
  /** The dense products' multiply-adds per run, from the profiled shapes (the folded bias columns included). */
  productGmac: number;
  otherMs: Spread;
  /** The products' MAC rate (their MACs as run) over the MatMul's in the spans beside the run. */
  productRate: Spread;
  /** IFDD's MACs as written over its wall time, and over the products' kernel time alone, against the spans' rate. */
  fraction: { measured: Spread; ifOnlyProductsTookTime: Spread };
  /** Kernel time per op type per run (the round's median), largest first. */
  byOpType: { op: string; ms: number }[];
}

/**
 * The multiply-adds of a dense product kernel from its profiled shapes, or undefined for any other kernel: a matmul
 * (MatMul, FusedMatMul, Gemm; the inner size is the dim of A that is not the output's row count, which also holds for
 * a transposed A) or a conv whose filter spans all input channels. Grouped convs (the pooling convs) do few
 * multiply-adds per byte and count with the rest.
 */
function denseProductMacs(e: ProfileEvent): number | undefined {
  const shapes = (list?: Record<string, number[]>[]) => (list ?? []).map((o) => Object.values(o)[0] ?? []);
  const [a, w] = shapes(e.args?.input_type_shape);
  const [out] = shapes(e.args?.output_type_shape);
  if (!a || !out) return undefined; // a pre-packed weight (B of a MatMul) is not listed among the inputs
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
  const op = e.args?.op_name;
  if (op === "MatMul" || op === "FusedMatMul" || op === "Gemm") {
    const rows = out.length > 1 ? out[out.length - 2] : 1;
    const [a1, a2] = a.length > 1 ? a.slice(-2) : [1, a[0]];
    return size(out) * (a1 === rows ? a2 : a1);
  }
  if ((op === "Conv" || op === "FusedConv") && w && w.length > 2 && w[1] === a[1]) return size(out) * size(w.slice(1));
  return undefined;
}

/**
 * Profiles IFDD for `rounds` runs, each between two spans of the MatMul (`matmul` runs it once), and splits each
 * run's kernel time into products and the rest.
 */
async function profileInModel(
  onnx: Uint8Array,
  feeds: Record<string, ort.Tensor>,
  matmul: () => Promise<unknown>,
  gmac: { asWritten: number; matmul: number },
  rounds: number,
): Promise<InModel> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "netc-ceiling-"));
  try {
    const session = await ort.InferenceSession.create(onnx, {
      ...SESSION,
      enableProfiling: true,
      profileFilePrefix: path.join(dir, "ort"),
    });
    await session.run(feeds); // warm-up: the profile's first runs are left out below
    const runModel = () => session.run(feeds);
    const matmulsPerSpan = await spanLength(runModel, matmul);
    /** The MatMul's time per run over one span. */
    const spanMs = async () => (await runSpan(matmul, matmulsPerSpan)).reduce((a, b) => a + b) / matmulsPerSpan;
    const wall: number[] = [];
    const matmulMs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const before = await spanMs();
      wall.push(await timeOnce(runModel));
      matmulMs.push((before + (await spanMs())) / 2);
    }
    session.endProfiling();
    await session.release();
    const file = fs.readdirSync(dir).find((f) => f.endsWith(".json"));
    if (!file) throw new Error("bench/ifdd-ceiling: onnxruntime wrote no profile");
    const events = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as ProfileEvent[];
    // The model_run events in order: the warm-up, spanLength's three sizing runs, then one per round.
    const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run").sort((a, b) => a.ts - b.ts);
    if (runs.length !== rounds + 4) throw new Error(`bench/ifdd-ceiling: ${runs.length} profiled runs`);
    const timedRuns = runs.slice(-rounds);
    const kernels = events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time"));
    const perRun = timedRuns.map((run) => {
      const byOp = new Map<string, number>();
      let [productMs, productMacs] = [0, 0];
      for (const e of kernels)
        if (e.ts >= run.ts && e.ts < run.ts + run.dur) {
          const op = e.args?.op_name ?? "?";
          byOp.set(op, (byOp.get(op) ?? 0) + e.dur / 1000);
          const macs = denseProductMacs(e);
          if (macs !== undefined) [productMs, productMacs] = [productMs + e.dur / 1000, productMacs + macs];
        }
      return { byOp, productMs, productGmac: productMacs / 1e9 };
    });
    const kernelMs = perRun.map((r) => [...r.byOp.values()].reduce((a, b) => a + b, 0));
    const productMs = perRun.map((r) => r.productMs);
    const rate = (g: number, ms: number) => g / ms;
    const matmulRate = matmulMs.map((ms) => rate(gmac.matmul, ms));
    const ops = [...new Set(perRun.flatMap((r) => [...r.byOp.keys()]))];
    return {
      rounds,
      matmulsPerSpan,
      wallMs: spread(wall),
      kernelMs: spread(kernelMs),
      productMs: spread(productMs),
      productGmac: perRun[0].productGmac,
      otherMs: spread(kernelMs.map((k, i) => k - productMs[i])),
      productRate: spread(perRun.map((r, i) => rate(r.productGmac, r.productMs) / matmulRate[i])),
      fraction: {
        measured: spread(wall.map((ms, i) => rate(gmac.asWritten, ms) / matmulRate[i])),
        ifOnlyProductsTookTime: spread(productMs.map((ms, i) => rate(gmac.asWritten, ms) / matmulRate[i])),
      },
      byOpType: ops
        .map((op) => ({ op, ms: spread(perRun.map((r) => r.byOp.get(op) ?? 0)).median }))
        .sort((a, b) => b.ms - a.ms),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface Side {
  key: string;
  kind: Product["kind"] | "peer" | "model";
  count: number;
  gmac: number;
  run: () => Promise<unknown>;
  wall: number[];
  cpu: number[];
}

/** A session per product, its output written into a buffer allocated once (as an intermediate in the arena). */
async function productSide(p: Product, seed: number): Promise<Side> {
  const weights = new Map(
    p.weights.map((w, j) => [w.name, { dtype: "f32" as const, shape: w.shape, data: random(prod(w.shape), 7 + j) }]),
  );
  const r = compile(p.source, { file: "product.net", weights });
  if (!r.onnx || !r.graph)
    throw new Error(`${p.key}: ${r.diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n")}`);
  const session = await ort.InferenceSession.create(r.onnx, SESSION);
  const feeds = Object.fromEntries(
    p.inputs.map((inp, j) => [inp.name, new ort.Tensor("float32", random(prod(inp.shape), seed + j), inp.shape)]),
  );
  // Without a buffer given, each run would also pay for a fresh output (up to 79 MB for the largest scores).
  const outName = session.outputNames[0];
  const outShape = numeric(r.graph.outputs[0].value.shape);
  const fetches = { [outName]: new ort.Tensor("float32", new Float32Array(prod(outShape)), outShape) };
  await session.run(feeds, fetches);
  if (p.kind !== "conv") checkProduct(p, feeds, weights, fetches[outName]);
  const kind = p.count === 0 ? "peer" : p.kind;
  return {
    key: p.key,
    kind,
    count: p.count,
    gmac: p.macs / 1e9,
    run: () => session.run(feeds, fetches),
    wall: [],
    cpu: [],
  };
}

/** Times every product of IFDD alone, the 2048^3 MatMul and IFDD itself, interleaved over `rounds` rounds. */
export async function benchIfddCeiling(rounds = 5): Promise<CeilingResult> {
  const loadStart = os.loadavg();
  const source = fs.readFileSync(MODEL, "utf8");
  const ifdd = compile(source, { file: MODEL, weights: [WEIGHTS] });
  const asWritten = compile(source, { file: MODEL, weights: [WEIGHTS], skipPasses: SPEED_REWRITES });
  if (!ifdd.graph || !ifdd.onnx || !asWritten.graph) throw new Error("bench/ifdd-ceiling: IFDD did not compile");
  const gmac = graphStats(asWritten.graph).macs / 1e9;

  const sides: Side[] = [];
  for (const [i, p] of productsOf(ifdd.graph).entries()) sides.push(await productSide(p, 100 * i + 1));
  const peer = { ...matmulProduct([2048, 2048], [2048, 2048], false, "matmul"), key: "2048^3 MatMul", count: 0 };
  sides.push(await productSide(peer, 1));
  const session = await ort.InferenceSession.create(ifdd.onnx, SESSION);
  const video = { [session.inputNames[0]]: tensorOf(path.join(FIXTURES, "input.npy")) };
  const logits = (await session.run(video))[session.outputNames[0]].data as Float32Array;
  const diff = maxAbsDiff(logits, tensorOf(path.join(FIXTURES, "logits.npy")).data as Float32Array);
  if (!(diff <= 1e-4)) throw new Error(`bench/ifdd-ceiling: IFDD's logits are ${diff} off the official ones`);
  sides.push({ key: "IFDD", kind: "model", count: 0, gmac, run: () => session.run(video), wall: [], cpu: [] });

  for (const s of sides) await s.run(); // warm-up
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const s of order) {
      const [c0, t0] = [process.cpuUsage(), performance.now()];
      await s.run();
      s.wall.push(performance.now() - t0);
      const used = process.cpuUsage(c0);
      s.cpu.push((used.user + used.system) / 1000);
    }
  }
  const timed: Timed[] = sides.map((s) => ({
    key: s.key,
    kind: s.kind,
    count: s.count,
    gmac: s.gmac,
    wallMs: spread(s.wall),
    cpuMs: spread(s.cpu),
  }));
  const [matmul, model] = [timed.find((t) => t.kind === "peer"), timed.find((t) => t.kind === "model")] as Timed[];
  const products = timed.filter((t) => t.count > 0);
  const floorMs = Object.fromEntries(
    (["matmul", "attention", "conv", "all"] as const).map((kind) => {
      const of = products.filter((t) => kind === "all" || t.kind === kind);
      const sum = (ms: (t: Timed) => number) => of.reduce((a, t) => a + t.count * ms(t), 0);
      return [
        kind,
        { median: sum((t) => t.wallMs.median), best: sum((t) => t.wallMs.min), cpu: sum((t) => t.cpuMs.median) },
      ];
    }),
  ) as CeilingResult["floorMs"];
  // MACs per ms of a side over the MatMul's.
  const fractionOf = (wallMedian: number, wallBest: number, cpu: number) => ({
    wallMedian: gmac / wallMedian / (matmul.gmac / matmul.wallMs.median),
    wallBest: gmac / wallBest / (matmul.gmac / matmul.wallMs.min),
    cpuMedian: gmac / cpu / (matmul.gmac / matmul.cpuMs.median),
  });
  const all = floorMs.all;
  const peerSide = sides.find((s) => s.kind === "peer") as Side;
  const inModel = await profileInModel(
    ifdd.onnx,
    video,
    peerSide.run,
    { asWritten: gmac, matmul: matmul.gmac },
    rounds,
  );
  const result: CeilingResult = {
    gmacPerClipAsWritten: gmac,
    gmacPerClipRun: products.reduce((a, t) => a + t.count * t.gmac, 0),
    products,
    matmul2048: { wallMs: matmul.wallMs, cpuMs: matmul.cpuMs, gmac: matmul.gmac },
    ifdd: { wallMs: model.wallMs, cpuMs: model.cpuMs },
    floorMs,
    fraction: {
      ceiling: fractionOf(all.median, all.best, all.cpu),
      measured: fractionOf(model.wallMs.median, model.wallMs.min, model.cpuMs.median),
    },
    productShare: { wallMedian: all.median / model.wallMs.median, cpuMedian: all.cpu / model.cpuMs.median },
    inModel,
    loadAverage: { start: loadStart, end: os.loadavg() },
  };
  return result;
}

/** The per-product table and the fractions, as printed. */
export function formatCeiling(result: CeilingResult): string[] {
  const lines: string[] = [];
  const { products, floorMs, gmacPerClipAsWritten: gmac, loadAverage } = result;
  const matmul = { key: "2048^3 MatMul", ...result.matmul2048 };
  const model = { key: "IFDD", ...result.ifdd };
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(" ");
  lines.push(
    `load average ${load(loadAverage.start)} -> ${load(loadAverage.end)}; ` +
      `${matmul.wallMs.runs.length} interleaved rounds`,
  );
  const m = result.inModel;
  const ms = (x: Spread) => `${x.median.toFixed(1)} ms (${x.min.toFixed(1)}-${x.max.toFixed(1)})`;
  const of = (x: Spread) => `${x.median.toFixed(2)} (${x.min.toFixed(2)}-${x.max.toFixed(2)})`;
  lines.push(
    `in the model (profiled, ${m.rounds} runs, each between spans of ${m.matmulsPerSpan} MatMuls): ` +
      `IFDD ${ms(m.wallMs)}; kernels ${ms(m.kernelMs)}: dense products (matmuls, convs over all channels; ` +
      `${m.productGmac.toFixed(2)} GMAC) ${ms(m.productMs)} at ${of(m.productRate)} of the MatMul's rate, ` +
      `the rest (grouped convs included) ${ms(m.otherMs)}`,
    `in the model: IFDD at ${of(m.fraction.measured)} of the MatMul rate per round; if only the products took time, ` +
      `${of(m.fraction.ifOnlyProductsTookTime)}: the ceiling`,
    `in the model, kernel ms per run by op: ${m.byOpType
      .slice(0, 14)
      .map((o) => `${o.op} ${o.ms.toFixed(1)}`)
      .join(", ")}`,
    "alone (each product in its own session; their sum is no floor for the model, see the file's head):",
  );
  lines.push("| product | count | GMAC each | median ms (best) | CPU ms | GMAC/s (median) | count x median ms |");
  lines.push("|---|---:|---:|---:|---:|---:|---:|");
  for (const t of [...products].sort((a, b) => b.count * b.wallMs.median - a.count * a.wallMs.median))
    lines.push(
      `| ${t.key} | ${t.count} | ${t.gmac.toFixed(3)} | ${t.wallMs.median.toFixed(2)} (${t.wallMs.min.toFixed(2)}) | ` +
        `${t.cpuMs.median.toFixed(2)} | ${(t.gmac / (t.wallMs.median / 1000)).toFixed(1)} | ` +
        `${(t.count * t.wallMs.median).toFixed(1)} |`,
    );
  for (const t of [matmul, model])
    lines.push(
      `${t.key}: ${t.wallMs.median.toFixed(1)} ms (best ${t.wallMs.min.toFixed(1)}), ` +
        `CPU ${t.cpuMs.median.toFixed(1)} ms`,
    );
  for (const [k, f] of Object.entries(floorMs))
    lines.push(
      `floor ${k}: ${f.median.toFixed(1)} ms median, ${f.best.toFixed(1)} ms best, CPU ${f.cpu.toFixed(1)} ms`,
    );
  lines.push(`IFDD ${gmac.toFixed(2)} GMAC as written (${result.gmacPerClipRun.toFixed(2)} GMAC in the products run)`);
  lines.push(`fraction of the MatMul rate: ${JSON.stringify(result.fraction)}`);
  lines.push(`products' floor over IFDD's time: ${JSON.stringify(result.productShare)}`);
  return lines;
}

async function main(argv: string[]): Promise<void> {
  const option = (name: string, fallback: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  const result = await benchIfddCeiling(Number(option("--rounds", "5")));
  console.log(formatCeiling(result).join("\n"));
  const json = option("--json", "");
  if (json) fs.writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
}

/** Sampled entries of a product's output against float64 dot products. */
function checkProduct(
  p: Product,
  feeds: Record<string, ort.Tensor>,
  weights: Map<string, { shape: number[]; data: Float32Array }>,
  c: ort.Tensor,
): void {
  const a = feeds.a;
  const b = feeds.b ?? { dims: weights.get("w")?.shape ?? [], data: weights.get("w")?.data };
  const [ad, bd] = [a.dims as number[], b.dims as number[]];
  const [av, bv, cv] = [a.data as Float32Array, b.data as Float32Array, c.data as Float32Array];
  const k = ad[ad.length - 1];
  const rows = ad.length > 1 ? ad[ad.length - 2] : 1;
  const cols = bd.length > 1 ? bd[bd.length - 1] : 1;
  const batch = cv.length / (rows * cols);
  const aBatch = av.length / (rows * k);
  const bBatch = bv.length / (k * cols);
  for (let s = 0; s < 16; s++) {
    const bi = (s * 31) % batch;
    const i = (s * 97) % rows;
    const j = (s * 13) % cols;
    const ao = (bi % aBatch) * rows * k;
    const bo = (bi % bBatch) * k * cols;
    let dot = 0;
    for (let t = 0; t < k; t++) dot += av[ao + i * k + t] * bv[bo + t * cols + j];
    if (Math.abs(dot - cv[bi * rows * cols + i * cols + j]) > 1e-3) throw new Error(`${p.key}: wrong product`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await main(process.argv.slice(2));
