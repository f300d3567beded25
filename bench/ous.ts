// Compiling the largest reference model, OUS (two streams through CLIP ViT-L/14, about 1.3 GB of fp32 weights, random
// weights from --seed), with the installed CLI (`dist/`, built first by bench/run.ts) in fresh processes: wall-clock
// time and peak resident memory, as one ONNX file and with --external-data (model + side file). Interleaved round by
// round with the floors: writing the same number of bytes as the ONNX file to disk from memory (time), and the peak
// memory of the same CLI compiling examples/tiny.net (what the process holds before any weight: memory). The weights
// are streamed into the file, so the peak should stay near that floor, far below the output's size.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { spread, type Spread } from "./measure.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNS = 3;

export interface OusCompileResult {
  compileMs: Spread;
  peakRssMB: Spread;
  /** The same compile with --external-data (a 1 MB model and a 1.3 GB side file). */
  externalCompileMs: Spread;
  externalPeakRssMB: Spread;
  onnxMB: number;
  /** Writing onnxMB from memory to a file in the same folder: what any compile must at least spend. */
  plainWriteMs: Spread;
  ratioToPlainWrite: number;
  /** Peak memory of the CLI compiling examples/tiny.net: node, netc and the front end, no weights to speak of. */
  floorPeakRssMB: Spread;
  /** Peak memory over the ONNX file's size (1: the whole model held once). */
  peakOverOutput: number;
  /** Peak memory above the floor, over the output's size: what holding weights costs (0: nothing). */
  aboveFloorOverOutput: number;
}

/** Runs `netc compile <file> -o <out> ...` in a fresh process: wall time (ms) and peak RSS (MB). */
function compile(file: string, out: string, extra: readonly string[], rssFile: string): { ms: number; mb: number } {
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
    { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NETC_BENCH_RSS_FILE: rssFile } },
  );
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`bench/ous: netc compile ${file} exited with ${r.status}: ${r.stderr}`);
  return { ms, mb: Number(fs.readFileSync(rssFile, "utf8")) / 1024 };
}

export function benchOusCompile(): OusCompileResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "netc-bench-ous-"));
  try {
    const out = path.join(dir, "ous.onnx");
    const split = path.join(dir, "ous-split.onnx");
    const rssFile = path.join(dir, "rss");
    const single = { ms: [] as number[], mb: [] as number[] };
    const external = { ms: [] as number[], mb: [] as number[] };
    const floor: number[] = [];
    const writes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const a = compile("models/ous.net", out, [], rssFile);
      single.ms.push(a.ms);
      single.mb.push(a.mb);
      const b = compile("models/ous.net", split, ["--external-data"], rssFile);
      external.ms.push(b.ms);
      external.mb.push(b.mb);
      // Both layouts hold the same tensors: the side file's bytes are the single file's initializers.
      if (fs.statSync(split).size + fs.statSync(`${split}.data`).size < fs.statSync(out).size)
        throw new Error("bench/ous: the external-data model holds fewer bytes than the single file");
      floor.push(compile("examples/tiny.net", path.join(dir, "tiny.onnx"), [], rssFile).mb);
      // The floor, interleaved with the compiles: the same bytes written from memory.
      const bytes = fs.readFileSync(out);
      const copy = path.join(dir, "plain-write.bin");
      const w = performance.now();
      fs.writeFileSync(copy, bytes);
      writes.push(performance.now() - w);
      fs.rmSync(copy);
    }
    const onnxMB = fs.statSync(out).size / 2 ** 20;
    const compileMs = spread(single.ms);
    const peakRssMB = spread(single.mb);
    const plainWriteMs = spread(writes);
    const floorPeakRssMB = spread(floor);
    return {
      compileMs,
      peakRssMB,
      externalCompileMs: spread(external.ms),
      externalPeakRssMB: spread(external.mb),
      onnxMB,
      plainWriteMs,
      ratioToPlainWrite: compileMs.median / plainWriteMs.median,
      floorPeakRssMB,
      peakOverOutput: peakRssMB.median / onnxMB,
      aboveFloorOverOutput: (peakRssMB.median - floorPeakRssMB.median) / onnxMB,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
