// Compiling the largest reference model, OUS (two streams through CLIP ViT-L/14, about 1.4 GB of fp32 weights, random
// weights from --seed), with the installed CLI (`dist/`, built first by bench/run.ts) in a fresh process: wall-clock
// time and peak resident memory. The floors, measured in the same run: writing the same number of bytes as the ONNX
// file to disk from memory (time), and the size of the weights themselves (memory).
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
  onnxMB: number;
  /** Writing onnxMB from memory to a file in the same folder: what any compile must at least spend. */
  plainWriteMs: Spread;
  ratioToPlainWrite: number;
  /** Peak memory over the ONNX file's size (1: the whole graph held once). */
  peakOverOutput: number;
}

export function benchOusCompile(): OusCompileResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "netc-bench-ous-"));
  try {
    const out = path.join(dir, "ous.onnx");
    const rssFile = path.join(dir, "rss");
    const compileTimes: number[] = [];
    const peaks: number[] = [];
    const writes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const r = spawnSync(
        process.execPath,
        [
          "--import",
          "./bench/report-peak-memory.mjs",
          "dist/src/cli/bin.js",
          "compile",
          "models/ous.net",
          "--target",
          "onnx",
          "-o",
          out,
          "--quiet",
        ],
        { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NETC_BENCH_RSS_FILE: rssFile } },
      );
      compileTimes.push(performance.now() - t);
      if (r.status !== 0) throw new Error(`bench/ous: netc compile exited with ${r.status}: ${r.stderr}`);
      peaks.push(Number(fs.readFileSync(rssFile, "utf8")) / 1024);
      // The floor, interleaved with the compiles: the same bytes written from memory.
      const bytes = fs.readFileSync(out);
      const copy = path.join(dir, "plain-write.bin");
      const w = performance.now();
      fs.writeFileSync(copy, bytes);
      writes.push(performance.now() - w);
      fs.rmSync(copy);
    }
    const onnxMB = fs.statSync(out).size / 2 ** 20;
    const compileMs = spread(compileTimes);
    const peakRssMB = spread(peaks);
    const plainWriteMs = spread(writes);
    return {
      compileMs,
      peakRssMB,
      onnxMB,
      plainWriteMs,
      ratioToPlainWrite: compileMs.median / plainWriteMs.median,
      peakOverOutput: peakRssMB.median / onnxMB,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
