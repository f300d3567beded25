// What every benchmark shares: runs of two or more sides interleaved round by round (so a change in the machine's
// load falls on all of them), medians with their spread, and a JSON result file that names the machine and its load.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function spread(runs: readonly number[]): Spread {
  if (runs.length === 0) throw new Error("spread of no runs");
  const sorted = [...runs].sort((a, b) => a - b);
  return {
    median: sorted[Math.floor(sorted.length / 2)],
    min: sorted[0],
    max: sorted[sorted.length - 1],
    runs: [...runs],
  };
}

/** `12.3 ms (11.9-13.0)`: a median and its range, in the unit given. */
export function formatSpread(s: Spread, unit = "ms", digits = 1): string {
  const u = unit ? ` ${unit}` : "";
  return `${s.median.toFixed(digits)}${u} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;
}

/**
 * Times each side once per round for `rounds` rounds, after one untimed warm-up run of each. The order of the sides
 * alternates between rounds, so neither always runs right after the other. A side returns its own time in
 * milliseconds when it must exclude set-up work; otherwise the call is timed whole.
 */
export async function interleaved<K extends string>(
  rounds: number,
  sides: Record<K, () => unknown>,
): Promise<Record<K, Spread>> {
  const names = Object.keys(sides) as K[];
  const times = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (const name of names) await sides[name]();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const start = performance.now();
      const reported = await sides[name]();
      times[name].push(typeof reported === "number" ? reported : performance.now() - start);
    }
  }
  return Object.fromEntries(names.map((n) => [n, spread(times[n])])) as Record<K, Spread>;
}

export interface MachineNote {
  cpus: number;
  cpuModel: string;
  /**
   * The widest vector instructions the CPU reports (Linux /proc/cpuinfo; "unknown" elsewhere). onnxruntime picks its
   * matmul kernels by them, so a MatMul rate is only comparable between hosts with the same ISA: a VM of the same
   * model name has run on hosts with and without AVX-512 (docs/benchmarks.md, session 13).
   */
  vectorIsa: string;
  memoryGiB: number;
  node: string;
  /** 1-minute load average when the benchmark started and ended: above the core count, timings are upper bounds. */
  loadAverage: { start: number; end: number };
  date: string;
}

/** Call at the start of a benchmark; `finish` gives the note with the load at the end. */
export function machineNote(): { finish(): MachineNote } {
  const start = os.loadavg()[0];
  return {
    finish: () => ({
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      vectorIsa: vectorIsa(),
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      loadAverage: { start: Number(start.toFixed(2)), end: Number(os.loadavg()[0].toFixed(2)) },
      date: new Date().toISOString(),
    }),
  };
}

const VECTOR_FLAGS = [
  "avx512f",
  "avx512_bf16",
  "avx512_vnni",
  "avx_vnni",
  "amx_tile",
  "avx2",
  "fma",
  "avx",
  "neon",
  "asimd",
];

function vectorIsa(): string {
  let info: string;
  try {
    info = fs.readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return "unknown";
  }
  const flags = new Set(/^(?:flags|Features)\s*:(.*)$/m.exec(info)?.[1].trim().split(/\s+/) ?? []);
  const present = VECTOR_FLAGS.filter((flag) => flags.has(flag));
  return present.length > 0 ? present.join(" ") : "unknown";
}

export const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "results");

/** Writes bench/results/<name>.json (pretty, stable key order as given) and returns its path relative to the repo. */
export function writeResult(name: string, result: unknown): string {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return path.relative(path.resolve(RESULTS_DIR, "../.."), file);
}

/** Largest absolute difference between two equally long arrays (NaN counts as infinitely far). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return worst;
}

/** Runs `run` once; its wall-clock time in milliseconds. */
export async function timeOnce(run: () => unknown): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/**
 * How many back-to-back runs of `short` last about as long as one run of `long` (the medians of three warm runs of
 * each): the length of a floor's span, so that a floor and the model it is set against average the machine over the
 * same time (a short run can land in a burst of speed that a long one cannot last through).
 */
export async function spanLength(long: () => unknown, short: () => unknown): Promise<number> {
  const warm = async (run: () => unknown) => spread([await timeOnce(run), await timeOnce(run), await timeOnce(run)]);
  return Math.max(1, Math.round((await warm(long)).median / (await warm(short)).median));
}

/** Runs `run` `count` times back to back; the time of each run in milliseconds. */
export async function runSpan(run: () => unknown, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) times.push(await timeOnce(run));
  return times;
}
