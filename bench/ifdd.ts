// IFDD through the ONNX target on onnxruntime-node (2 threads). Its inference rate is measured against the floor of
// this machine: a plain 2048^3 MatMul in the same session options, run right before and right after every IFDD run
// (this VM's speed drifts by up to 3x within a second, so only adjacent runs compare), each time as a span of
// back-to-back runs about as long as one IFDD run, so that both sides average the machine over the same length of
// time (a single 40 ms MatMul can land in a burst that a 300 ms run cannot); the result is the median
// over rounds of the fraction of the MatMul's MAC rate that IFDD reaches (multiply-accumulates per clip from netc's
// graph statistics of the model as written: the speed rewrites that add multiply-adds, such as attention-bias
// folding, do not count theirs). Further peers: the same model with each speed rewrite left out (its gain, measured in
// the same rounds), and with netc's IR passes off, to show what they buy.
// Agreement: every IFDD graph gives the official logits (../shared/fixtures/ifdd/logits.npy) within 1e-4, and the
// MatMul's output matches sampled dot products computed here.
import fs from "node:fs";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { compile } from "../src/index.js";
import { SPEED_REWRITES } from "../src/compiler/ir/passes/index.js";
import { graphStats } from "../src/compiler/ir/stats.js";
import { interleaved, maxAbsDiff, runSpan, type Spread, spanLength, spread } from "./measure.js";
import { IFDD_FIXTURES as FIXTURES, IFDD_MODEL as MODEL, QUIET_SESSION as SESSION, tensorOf } from "./onnx-inputs.js";

const ROUNDS = Number(process.env.NETC_BENCH_ROUNDS ?? 7);
/** The side that runs IFDD's full graph among the others, not between MatMuls. */
const AMONG = "ifdd among the sides";
/** The side that runs IFDD compiled with onnxruntime's contrib ops (`--onnxruntime-ops`), between MatMuls too. */
const ORT_OPS = "ifdd --onnxruntime-ops";
const MATMUL_N = 2048;
const MATRIX = `f32[${MATMUL_N}, ${MATMUL_N}]`;
const MATMUL_SOURCE = `model MatMulFloor()(a: ${MATRIX}, b: ${MATRIX}) -> (c: ${MATRIX}) {
  return a @ b
}
`;

export interface IfddBenchResult {
  compileMs: Spread;
  nodes: number;
  gmacPerClip: number;
  sessionMs: number;
  inferenceMs: Spread;
  /** CPU time of the process (all threads) per run of each side, interleaved with the wall-clock times. */
  cpuMs: Record<string, Spread>;
  /** The fraction in CPU time, per round as the wall-clock one: IFDD's MACs per CPU second over the MatMul's. */
  fractionOfMatmulRateCpu: Spread;
  unoptimizedInferenceMs: Spread;
  unoptimizedNodes: number;
  /**
   * Each speed rewrite: the inference time with every pass but it, and its gain: the median over rounds of that
   * time over the full pipeline's run among the sides in the same round (wall and CPU), since the machine's speed
   * drifts between rounds.
   */
  rewrites: { pass: string; withoutMs: Spread; nodesWithout: number; gain: number; gainCpu: number }[];
  /** IFDD's graph run as one side among the others (not between MatMuls): what the rewrites' gains compare with. */
  amongSidesMs: Spread;
  /** The median over rounds of IFDD's time between the MatMuls over its time among the sides. */
  bracketCost: number;
  /** How many MatMuls run back to back in each span of the floor: about one IFDD run's time, fixed after warm-up. */
  matmulsPerSpan: number;
  /** The MatMul's time per run in each span around an IFDD run (two spans per round). */
  matmulMs: Spread;
  /** Every single MatMul run of those spans: its fastest is the machine's briefest burst. */
  matmulSingleRunMs: Spread;
  matmulGmacPerSec: number;
  ifddGmacPerSec: number;
  /**
   * Per round, IFDD's MAC rate over the mean rate of the MatMul spans run just before and after it; the median is the
   * headline (the issue's goal is 0.8). A ratio of the two sides' overall medians would pair runs from different
   * machine states.
   */
  fractionOfMatmulRate: Spread;
  /**
   * IFDD's fastest run against the MatMul's fastest span of the whole bench: each side in the best state the
   * machine held for one IFDD run's time (this VM's MatMul swings between about 40 and 340 ms).
   */
  fractionAtBest: number;
  /**
   * IFDD's fastest run against the fastest single MatMul run: a bound that pairs a 300 ms run with a 40 ms burst,
   * kept for comparison with the figures before spans (session 11 and earlier).
   */
  fractionAtBurst: number;
  /**
   * IFDD compiled with `--onnxruntime-ops` (attention as com.microsoft MultiHeadAttention), measured as the standard
   * graph is: between two MatMuls, its fraction per round; its gain is the median over rounds of the standard graph's
   * time over its own (both between MatMuls).
   */
  onnxruntimeOps: { inferenceMs: Spread; fractionOfMatmulRate: Spread; fractionAtBest: number; gain: number };
  /** Per graph: `optimized`, `unoptimized`, `onnxruntime ops` and `without <pass>`. */
  maxAbsDiffFromOfficial: Record<string, number>;
}

function compiled(
  source: string,
  file: string,
  options: { weights?: string[]; optimize?: boolean; skipPasses?: readonly string[]; onnxruntimeOps?: boolean } = {},
) {
  const r = compile(source, { file, ...options });
  if (!r.onnx || !r.graph) throw new Error(r.diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n"));
  return { onnx: r.onnx, graph: r.graph };
}

function randomMatrix(seed: number): Float32Array {
  const m = new Float32Array(MATMUL_N * MATMUL_N);
  let s = seed >>> 0;
  for (let i = 0; i < m.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    m[i] = s / 2 ** 32 - 0.5;
  }
  return m;
}

/** Checks 32 entries of c = a @ b against dot products in float64. */
function checkMatmul(a: Float32Array, b: Float32Array, c: Float32Array): void {
  for (let k = 0; k < 32; k++) {
    const i = (k * 997) % MATMUL_N;
    const j = (k * 1499 + 7) % MATMUL_N;
    let dot = 0;
    for (let t = 0; t < MATMUL_N; t++) dot += a[i * MATMUL_N + t] * b[t * MATMUL_N + j];
    if (Math.abs(dot - c[i * MATMUL_N + j]) > 1e-3)
      throw new Error(`bench/ifdd: the MatMul floor computed c[${i},${j}] wrong`);
  }
}

export async function benchIfdd(): Promise<IfddBenchResult> {
  const source = fs.readFileSync(MODEL, "utf8");
  const weights = [path.join(FIXTURES, "ifdd_dfew_random.pth")];
  compile(source, { file: MODEL, weights }); // warm the JIT
  const compileTimes: number[] = [];
  let ifdd = compiled(source, MODEL, { weights });
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    ifdd = compiled(source, MODEL, { weights });
    compileTimes.push(performance.now() - t);
  }
  const plain = compiled(source, MODEL, { weights, optimize: false });
  const contrib = compiled(source, MODEL, { weights, onnxruntimeOps: true });
  const without = SPEED_REWRITES.map((pass) => ({ pass, ...compiled(source, MODEL, { weights, skipPasses: [pass] }) }));
  const asWritten = compiled(source, MODEL, { weights, skipPasses: SPEED_REWRITES });
  const floor = compiled(MATMUL_SOURCE, "bench/matmul-floor.net");

  const video = { video: tensorOf(path.join(FIXTURES, "input.npy")) };
  const a = randomMatrix(1);
  const b = randomMatrix(2);
  const matmulFeeds = {
    a: new ort.Tensor("float32", a, [MATMUL_N, MATMUL_N]),
    b: new ort.Tensor("float32", b, [MATMUL_N, MATMUL_N]),
  };
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(ifdd.onnx, SESSION);
  const sessionMs = performance.now() - t0;
  const plainSession = await ort.InferenceSession.create(plain.onnx, SESSION);
  const contribSession = await ort.InferenceSession.create(contrib.onnx, SESSION);
  const floorSession = await ort.InferenceSession.create(floor.onnx, SESSION);
  const withoutSessions = await Promise.all(without.map((w) => ort.InferenceSession.create(w.onnx, SESSION)));

  const official = tensorOf(path.join(FIXTURES, "logits.npy")).data as Float32Array;
  const logitsOf = async (s: ort.InferenceSession) => (await s.run(video))[s.outputNames[0]].data as Float32Array;
  const diffs: Record<string, number> = {
    optimized: maxAbsDiff(await logitsOf(session), official),
    unoptimized: maxAbsDiff(await logitsOf(plainSession), official),
    "onnxruntime ops": maxAbsDiff(await logitsOf(contribSession), official),
  };
  for (const [i, w] of without.entries())
    diffs[`without ${w.pass}`] = maxAbsDiff(await logitsOf(withoutSessions[i]), official);
  if (!Object.values(diffs).every((d) => d <= 1e-4))
    throw new Error(`bench/ifdd: logits off the official: ${JSON.stringify(diffs)}`);
  checkMatmul(a, b, (await floorSession.run(matmulFeeds)).c.data as Float32Array);

  // IFDD's graph also runs as one side among the others, not between MatMuls: the rewrites' gains compare runs in
  // the same position in the round (the bracketed run has read 5-13% slower than the graphs beside it).
  const sides: Record<string, () => Promise<unknown>> = {
    ifdd: () => session.run(video),
    [AMONG]: () => session.run(video),
    unoptimized: () => plainSession.run(video),
    [ORT_OPS]: () => contribSession.run(video),
    ...Object.fromEntries(without.map((w, i) => [`without ${w.pass}`, () => withoutSessions[i].run(video)])),
  };
  const cpu: Record<string, number[]> = Object.fromEntries([...Object.keys(sides), "matmul"].map((k) => [k, []]));
  const wall: { matmul: number[] } = { matmul: [] };
  const timed = async (name: string, run: () => Promise<unknown>) => {
    const [c0, t0] = [process.cpuUsage(), performance.now()];
    await run();
    const used = process.cpuUsage(c0);
    cpu[name].push((used.user + used.system) / 1000);
    return performance.now() - t0;
  };
  // The IFDD sides bracket their run with the floor's, so that each round yields a fraction from adjacent runs.
  const bracketedSides = ["ifdd", ORT_OPS];
  const paired = Object.fromEntries(bracketedSides.map((k) => [k, { wall: [] as number[], cpu: [] as number[] }]));
  const gmacPerClip = graphStats(asWritten.graph).macs / 1e9;
  const matmulGmac = graphStats(floor.graph).macs / 1e9;
  const runFloor = () => floorSession.run(matmulFeeds);
  const matmulsPerSpan = await spanLength(() => session.run(video), runFloor);
  const singleRuns: number[] = [];
  /** Runs the MatMul `matmulsPerSpan` times back to back; its time (and CPU time) per run. */
  const floorSpan = async () => {
    const ms = await timed("matmul", async () => singleRuns.push(...(await runSpan(runFloor, matmulsPerSpan))));
    cpu.matmul.push((cpu.matmul.pop() as number) / matmulsPerSpan);
    return ms / matmulsPerSpan;
  };
  const bracketed = (side: string) => async () => {
    const before = await floorSpan();
    const ms = await timed(side, sides[side]);
    const after = await floorSpan();
    wall.matmul.push(before, after);
    const [cpuBefore, cpuIfdd, cpuAfter] = [cpu.matmul.at(-2), cpu[side].at(-1), cpu.matmul.at(-1)] as number[];
    const fraction = (ifddMs: number, matmulMs: number) => gmacPerClip / ifddMs / (matmulGmac / matmulMs);
    paired[side].wall.push(fraction(ms, (before + after) / 2));
    paired[side].cpu.push(fraction(cpuIfdd, (cpuBefore + cpuAfter) / 2));
    return ms;
  };
  const times: Record<string, Spread> = await interleaved<string>(ROUNDS, {
    ...Object.fromEntries(Object.keys(sides).map((k) => [k, () => timed(k, sides[k])])),
    ...Object.fromEntries(bracketedSides.map((k) => [k, bracketed(k)])),
  });
  // The first run of each side (and the MatMul spans of the bracketed sides' warm-up runs) are the warm-up.
  const warmMatmuls = 2 * bracketedSides.length;
  const cpuMs = Object.fromEntries(
    Object.entries(cpu).map(([k, runs]) => [k, spread(runs.slice(k === "matmul" ? warmMatmuls : 1))]),
  );
  const sessions = [session, plainSession, contribSession, floorSession, ...withoutSessions];
  await Promise.all(sessions.map((s) => s.release()));

  const matmulMs = spread(wall.matmul.slice(warmMatmuls));
  const matmulSingleRunMs = spread(singleRuns.slice(warmMatmuls * matmulsPerSpan));
  /** The median over rounds of side a's time over side b's in the same round. */
  const perRound = (a: number[], b: number[]) => spread(a.map((t, i) => t / b[i])).median;
  const fractionOfMatmulRate = spread(paired.ifdd.wall.slice(1));
  const ifddGmacPerSec = gmacPerClip / (times.ifdd.median / 1000);
  const matmulGmacPerSec = matmulGmac / (matmulMs.median / 1000);
  return {
    compileMs: spread(compileTimes),
    nodes: ifdd.graph.nodes.length,
    gmacPerClip,
    sessionMs,
    inferenceMs: times.ifdd,
    cpuMs,
    fractionOfMatmulRateCpu: spread(paired.ifdd.cpu.slice(1)),
    unoptimizedInferenceMs: times.unoptimized,
    unoptimizedNodes: plain.graph.nodes.length,
    rewrites: without.map((w) => ({
      pass: w.pass,
      withoutMs: times[`without ${w.pass}`],
      nodesWithout: w.graph.nodes.length,
      gain: perRound(times[`without ${w.pass}`].runs, times[AMONG].runs),
      gainCpu: perRound(cpuMs[`without ${w.pass}`].runs, cpuMs[AMONG].runs),
    })),
    amongSidesMs: times[AMONG],
    bracketCost: perRound(times.ifdd.runs, times[AMONG].runs),
    matmulsPerSpan,
    matmulMs,
    matmulSingleRunMs,
    matmulGmacPerSec,
    ifddGmacPerSec,
    fractionOfMatmulRate,
    fractionAtBest: gmacPerClip / times.ifdd.min / (matmulGmac / matmulMs.min),
    fractionAtBurst: gmacPerClip / times.ifdd.min / (matmulGmac / matmulSingleRunMs.min),
    onnxruntimeOps: {
      inferenceMs: times[ORT_OPS],
      fractionOfMatmulRate: spread(paired[ORT_OPS].wall.slice(1)),
      fractionAtBest: gmacPerClip / times[ORT_OPS].min / (matmulGmac / matmulMs.min),
      gain: perRound(times.ifdd.runs, times[ORT_OPS].runs),
    },
    maxAbsDiffFromOfficial: diffs,
  };
}
