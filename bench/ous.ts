// Compiling the largest reference model, OUS (two streams through CLIP ViT-L/14, about 1.3 GB of fp32 weights), with
// the installed CLI (`dist/`, built first by bench/run.ts) in fresh processes: wall-clock time, CPU time (all
// threads) and peak resident memory. Two weight sources: random weights from --seed, and a full-size safetensors
// checkpoint of the same seeded values (written once into the bench's scratch folder, so both give the same weights).
// Each is compiled with the default read-ahead threads and with `--threads 0` (all on the writer's thread), whose
// outputs must be byte-identical; random weights also with --external-data. Interleaved round by round with the
// floors: writing the ONNX file's bytes from memory (random weights), reading the checkpoint plainly and writing the
// same bytes (checkpoint), and the peak memory of the same CLI compiling examples/tiny.net (memory). The weights are
// streamed into the file, so the peak should stay near that floor, far below the output's size. On a shared 2-core
// machine the threads' wall-clock gain cannot show: compare CPU time there, wall time on a quiet machine with cores.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bindParamsLazily } from "../src/compiler/ir/bind-params.js";
import { compileToGraph } from "../src/driver.js";
import { writeSafetensors } from "../src/weights/safetensors.js";
import { spread, type Spread } from "./measure.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNS = 3;
const MODEL = "models/ous.net";

/** One way of compiling, over the rounds. */
export interface CompileRuns {
  wallMs: Spread;
  /** User + system time of all the process's threads. */
  cpuMs: Spread;
  peakRssMB: Spread;
}

export interface OusCompileResult {
  /** The read-ahead threads netc starts by default on this machine. */
  defaultThreads: number;
  /** Random weights: default threads, and `--threads 0`. */
  random: CompileRuns;
  randomOneThread: CompileRuns;
  /** Random weights with --external-data (a 1 MB model and a 1.3 GB side file), default threads. */
  external: CompileRuns;
  /** The same weights from a safetensors checkpoint: default threads, and `--threads 0`. */
  checkpoint: CompileRuns;
  checkpointOneThread: CompileRuns;
  onnxMB: number;
  checkpointMB: number;
  /** Writing onnxMB from memory to a file in the same folder: what any compile must at least spend. */
  plainWriteMs: Spread;
  /** Reading the checkpoint into memory, then writing onnxMB: the checkpoint compile's floor. */
  plainReadMs: Spread;
  plainReadWriteMs: Spread;
  /** Peak memory of the CLI compiling examples/tiny.net: node, netc and the front end, no weights to speak of. */
  floorPeakRssMB: Spread;
  ratios: {
    randomToPlainWrite: number;
    checkpointToPlainReadWrite: number;
    /** Default threads over `--threads 0`: wall time and CPU time, per weight source. */
    randomThreadsWall: number;
    randomThreadsCpu: number;
    checkpointThreadsWall: number;
    checkpointThreadsCpu: number;
    /** Peak memory over the ONNX file's size (1: the whole model held once). */
    peakOverOutput: number;
    /** Peak memory above the floor, over the output's size: what holding weights costs (0: nothing). */
    aboveFloorOverOutput: number;
  };
}

interface Run {
  ms: number;
  mb: number;
  cpuMs: number;
}

/** Runs `netc compile <file> -o <out> ...` in a fresh process: wall time, peak RSS and CPU time. */
function compile(file: string, out: string, extra: readonly string[], scratch: string): Run {
  const rssFile = path.join(scratch, "rss");
  const cpuFile = path.join(scratch, "cpu");
  const t = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      "--import",
      "./bench/report-peak-memory.mjs",
      "dist/src/cli/bin.js",
      "compile",
      file,
      "--target",
      "onnx",
      "-o",
      out,
      "--quiet",
      ...extra,
    ],
    {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, NETC_BENCH_RSS_FILE: rssFile, NETC_BENCH_CPU_FILE: cpuFile },
    },
  );
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`bench/ous: netc compile ${file} exited with ${r.status}: ${r.stderr}`);
  return {
    ms,
    mb: Number(fs.readFileSync(rssFile, "utf8")) / 1024,
    cpuMs: Number(fs.readFileSync(cpuFile, "utf8")),
  };
}

/** A full-size checkpoint holding the values `--seed 0` draws, written a tensor at a time. */
function writeSeededCheckpoint(file: string): void {
  const graph = compileToGraph(fs.readFileSync(path.join(ROOT, MODEL), "utf8"), { file: MODEL }).graph;
  if (!graph) throw new Error(`bench/ous: ${MODEL} did not compile`);
  writeSafetensors(file, bindParamsLazily(graph.params, undefined, 0).tensors);
}

/** Whether two files hold the same bytes, compared a window at a time. */
function sameFiles(a: string, b: string): boolean {
  if (fs.statSync(a).size !== fs.statSync(b).size) return false;
  const [fa, fb] = [fs.openSync(a, "r"), fs.openSync(b, "r")];
  const [x, y] = [Buffer.alloc(16 * 2 ** 20), Buffer.alloc(16 * 2 ** 20)];
  try {
    for (;;) {
      const n = fs.readSync(fa, x);
      if (n !== fs.readSync(fb, y) || !x.subarray(0, n).equals(y.subarray(0, n))) return false;
      if (n === 0) return true;
    }
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

/** Reads a file whole, a window at a time, as a plain reader would (the checkpoint's floor). */
function plainRead(file: string): number {
  const fd = fs.openSync(file, "r");
  const window = Buffer.allocUnsafe(16 * 2 ** 20);
  let total = 0;
  try {
    for (let n = fs.readSync(fd, window); n > 0; n = fs.readSync(fd, window)) total += n;
  } finally {
    fs.closeSync(fd);
  }
  return total;
}

const runsOf = (rs: readonly Run[]): CompileRuns => ({
  wallMs: spread(rs.map((r) => r.ms)),
  cpuMs: spread(rs.map((r) => r.cpuMs)),
  peakRssMB: spread(rs.map((r) => r.mb)),
});

export function benchOusCompile(): OusCompileResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "netc-bench-ous-"));
  try {
    const checkpoint = path.join(dir, "ous.safetensors");
    writeSeededCheckpoint(checkpoint);
    const out = (name: string) => path.join(dir, name);
    const runs = {
      random: [] as Run[],
      randomOneThread: [] as Run[],
      external: [] as Run[],
      checkpoint: [] as Run[],
      checkpointOneThread: [] as Run[],
    };
    const floor: number[] = [];
    const writes: number[] = [];
    const reads: number[] = [];
    const readWrites: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      runs.random.push(compile(MODEL, out("ous.onnx"), [], dir));
      runs.randomOneThread.push(compile(MODEL, out("ous-1.onnx"), ["--threads", "0"], dir));
      if (!sameFiles(out("ous.onnx"), out("ous-1.onnx")))
        throw new Error("bench/ous: the threads changed the random-weight model's bytes");
      runs.external.push(compile(MODEL, out("ous-split.onnx"), ["--external-data"], dir));
      // Both layouts hold the same tensors: the side file's bytes are the single file's initializers.
      const split = fs.statSync(out("ous-split.onnx")).size + fs.statSync(out("ous-split.onnx.data")).size;
      if (split < fs.statSync(out("ous.onnx")).size)
        throw new Error("bench/ous: the external-data model holds fewer bytes than the single file");
      const weights = ["--weights", checkpoint];
      runs.checkpoint.push(compile(MODEL, out("ous-ckpt.onnx"), weights, dir));
      runs.checkpointOneThread.push(compile(MODEL, out("ous-ckpt-1.onnx"), [...weights, "--threads", "0"], dir));
      if (!sameFiles(out("ous-ckpt.onnx"), out("ous-ckpt-1.onnx")))
        throw new Error("bench/ous: the threads changed the checkpoint model's bytes");
      floor.push(compile("examples/tiny.net", out("tiny.onnx"), [], dir).mb);
      // The floors, interleaved with the compiles: the same bytes written from memory; the checkpoint read plainly.
      const bytes = fs.readFileSync(out("ous.onnx"));
      const copy = out("plain-write.bin");
      const w = performance.now();
      fs.writeFileSync(copy, bytes);
      writes.push(performance.now() - w);
      fs.rmSync(copy);
      const r = performance.now();
      plainRead(checkpoint);
      reads.push(performance.now() - r);
      readWrites.push(reads.at(-1)! + writes.at(-1)!);
    }
    const onnxMB = fs.statSync(out("ous.onnx")).size / 2 ** 20;
    const result = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, runsOf(v)])) as Record<
      keyof typeof runs,
      CompileRuns
    >;
    const plainWriteMs = spread(writes);
    const plainReadWriteMs = spread(readWrites);
    const floorPeakRssMB = spread(floor);
    const median = (s: Spread) => s.median;
    return {
      defaultThreads: Math.min(8, os.availableParallelism()),
      ...result,
      onnxMB,
      checkpointMB: fs.statSync(checkpoint).size / 2 ** 20,
      plainWriteMs,
      plainReadMs: spread(reads),
      plainReadWriteMs,
      floorPeakRssMB,
      ratios: {
        randomToPlainWrite: median(result.random.wallMs) / median(plainWriteMs),
        checkpointToPlainReadWrite: median(result.checkpoint.wallMs) / median(plainReadWriteMs),
        randomThreadsWall: median(result.random.wallMs) / median(result.randomOneThread.wallMs),
        randomThreadsCpu: median(result.random.cpuMs) / median(result.randomOneThread.cpuMs),
        checkpointThreadsWall: median(result.checkpoint.wallMs) / median(result.checkpointOneThread.wallMs),
        checkpointThreadsCpu: median(result.checkpoint.cpuMs) / median(result.checkpointOneThread.cpuMs),
        peakOverOutput: median(result.random.peakRssMB) / onnxMB,
        aboveFloorOverOutput: (median(result.random.peakRssMB) - median(floorPeakRssMB)) / onnxMB,
      },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
