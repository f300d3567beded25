// Where onnxruntime spends an inference: compiles a `.net` model (IFDD by default) to ONNX, runs it with
// onnxruntime-node's profiler on (2 threads, graph optimisation "all", as bench/ifdd.ts), and prints the kernel time
// per op type and per node pattern (op type + output shape), summed over the timed runs after one warm-up run.
//   npx tsx bench/profile-onnx.ts [--model models/ifdd.net] [--weights FILE] [--input FILE.npy] [--runs 3]
//                                 [--top 25] [--no-optimize] [--json OUT.json]
// The op types are those of the session's optimised graph (fused nodes appear as FusedMatMul, FusedConv, ...).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { compile } from "../src/index.js";
import { IFDD_FIXTURES, IFDD_MODEL, IFDD_WEIGHTS, tensorOf } from "./onnx-inputs.js";

export interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: {
    op_name?: string;
    input_type_shape?: Record<string, number[]>[];
    output_type_shape?: Record<string, number[]>[];
  };
}

export interface ProfileRow {
  key: string;
  ms: number;
  count: number;
  share: number;
}

export interface OnnxProfile {
  totalKernelMs: number;
  runs: number;
  byOpType: ProfileRow[];
  byPattern: ProfileRow[];
  /** Per op and layer path with block numbers merged (`blocks.*.attn.pool_q.pool`): where in the model time goes. */
  byLayer: ProfileRow[];
}

/** `backbone.blocks.3.attn/MatMul_12` -> `backbone.blocks.*.attn`; nodes onnxruntime made up have no path. */
function layerOf(nodeName: string): string {
  const slash = nodeName.indexOf("/");
  return slash < 0 ? "(added by onnxruntime)" : nodeName.slice(0, slash).replace(/\.\d+(?=\.|$)/g, ".*");
}

/** Sums the `Node` kernel events of every run but the first (the warm-up) per op type, op + output shape and layer. */
export function aggregateProfile(events: ProfileEvent[]): OnnxProfile {
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run").sort((a, b) => a.ts - b.ts);
  const timedFrom = runs.length > 1 ? runs[1].ts : 0;
  const kernels = events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time") && e.ts >= timedFrom);
  const byOp = new Map<string, { us: number; count: number }>();
  const byPattern = new Map<string, { us: number; count: number }>();
  const byLayer = new Map<string, { us: number; count: number }>();
  let totalUs = 0;
  for (const e of kernels) {
    const op = e.args?.op_name ?? "?";
    const shape = (e.args?.output_type_shape ?? []).map((o) => `[${Object.values(o)[0]?.join(",") ?? ""}]`).join(" ");
    for (const [table, key] of [
      [byOp, op],
      [byPattern, `${op} -> ${shape}`],
      [byLayer, `${op} in ${layerOf(e.name.replace(/_kernel_time$/, ""))}`],
    ] as const) {
      const row = table.get(key) ?? { us: 0, count: 0 };
      row.us += e.dur;
      row.count++;
      table.set(key, row);
    }
    totalUs += e.dur;
  }
  const timedRuns = Math.max(runs.length - 1, 1);
  const rows = (table: Map<string, { us: number; count: number }>): ProfileRow[] =>
    [...table]
      .map(([key, r]) => ({ key, ms: r.us / 1000 / timedRuns, count: r.count / timedRuns, share: r.us / totalUs }))
      .sort((a, b) => b.ms - a.ms);
  return {
    totalKernelMs: totalUs / 1000 / timedRuns,
    runs: timedRuns,
    byOpType: rows(byOp),
    byPattern: rows(byPattern),
    byLayer: rows(byLayer),
  };
}

export function formatProfile(p: OnnxProfile, top: number): string {
  const table = (title: string, rows: ProfileRow[]) => [
    `| ${title} | ms per run | share | nodes |`,
    "|---|---:|---:|---:|",
    ...rows
      .slice(0, top)
      .map((r) => `| ${r.key} | ${r.ms.toFixed(1)} | ${(100 * r.share).toFixed(1)}% | ${r.count.toFixed(0)} |`),
  ];
  return [
    `kernel time ${p.totalKernelMs.toFixed(0)} ms per run (mean of ${p.runs} runs after a warm-up)`,
    "",
    ...table("op type", p.byOpType),
    "",
    ...table("op -> output shape", p.byPattern),
    "",
    ...table("op in layer", p.byLayer),
  ].join("\n");
}

/** Profiles `runs` inferences (plus one warm-up) of an ONNX model; the profile file is removed afterwards. */
export async function profileOnnx(onnx: Uint8Array, feeds: Record<string, ort.Tensor>, runs: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "netc-profile-"));
  try {
    const session = await ort.InferenceSession.create(onnx, {
      intraOpNumThreads: 2,
      interOpNumThreads: 1,
      graphOptimizationLevel: "all",
      enableProfiling: true,
      profileFilePrefix: path.join(dir, "ort"),
    });
    for (let i = 0; i <= runs; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const file = fs.readdirSync(dir).find((f) => f.endsWith(".json"));
    if (!file) throw new Error("onnxruntime wrote no profile");
    return aggregateProfile(JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as ProfileEvent[]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const option = (name: string, fallback: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  const model = path.resolve(option("--model", IFDD_MODEL));
  const weights = option("--weights", IFDD_WEIGHTS);
  const input = option("--input", path.join(IFDD_FIXTURES, "input.npy"));
  const r = compile(fs.readFileSync(model, "utf8"), {
    file: model,
    weights: weights ? [weights] : [],
    optimize: !argv.includes("--no-optimize"),
  });
  if (!r.onnx || !r.graph) throw new Error(r.diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n"));
  const profile = await profileOnnx(
    r.onnx,
    { [r.graph.inputs[0].name]: tensorOf(input) },
    Number(option("--runs", "3")),
  );
  console.log(`${path.basename(model)}: ${r.graph.nodes.length} IR nodes; load average ${os.loadavg()[0].toFixed(2)}`);
  console.log(formatProfile(profile, Number(option("--top", "25"))));
  const json = option("--json", "");
  if (json) fs.writeFileSync(json, `${JSON.stringify(profile, null, 2)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await main(process.argv.slice(2));
