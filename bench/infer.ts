// netc infer on IFDD (random weights, the official input: 16 frames of 224x224) against the naive loop a user
// writes without it: one `netc run` per clip on a .npy prepared beforehand (its preparation not counted). Then
// netc infer's scaling with --batch and --sessions on this machine, and each process's peak memory (max RSS).
// Every configuration runs as its own process, started the same way (tsx), so start-up counts alike.
// `npm run bench -- infer` writes bench/results/infer.json. Clips: BENCH_INFER_CLIPS (default 4).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { openClip } from "../src/dataset/frames.js";
import { prepareClip } from "../src/dataset/prepare.js";
import { DEFAULT_PREPROCESS } from "../src/dsl/preprocess-spec.js";
import { encodeNpy } from "../src/util/npy.js";
import { uniforms } from "../src/util/random.js";

const CLIPS = Number(process.env.BENCH_INFER_CLIPS ?? 4);
const FRAMES = 16;
const SIZE = 224;
const netc = ["--import", "tsx", "src/cli/bin.ts"];

export interface InferBench {
  clips: number;
  machine: string;
  naive: { seconds: number; clipsPerSecond: number; maxRssMb: number };
  infer: {
    batch: number;
    sessions: number;
    threads: number;
    seconds: number;
    clipsPerSecond: number;
    maxRssMb: number;
  }[];
}

/** Runs `node <args>`; returns its seconds and peak resident memory (bench/report-peak-memory.mjs). */
function timed(args: string[], dir: string): { seconds: number; maxRssMb: number } {
  const rssFile = join(dir, "rss");
  const started = performance.now();
  const run = spawnSync(process.execPath, ["--import", "./bench/report-peak-memory.mjs", ...args], {
    encoding: "utf8",
    env: { ...process.env, CI: "1", NETC_BENCH_RSS_FILE: rssFile },
  });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`node ${args.join(" ")} failed:\n${run.stderr}`);
  return { seconds, maxRssMb: Number(readFileSync(rssFile, "utf8")) / 1024 };
}

function makeClips(dir: string): string[] {
  const random = uniforms(7);
  return Array.from({ length: CLIPS }, (_, c) => {
    const clip = join(dir, "clips", `clip_${c}`);
    mkdirSync(clip, { recursive: true });
    for (let f = 0; f < FRAMES; f++) {
      const png = new PNG({ width: SIZE, height: SIZE });
      for (let i = 0; i < png.data.length; i++) png.data[i] = i % 4 === 3 ? 255 : Math.floor(random() * 256);
      writeFileSync(join(clip, `${f + 1}.png`), PNG.sync.write(png));
    }
    return clip;
  });
}

export async function benchInfer(): Promise<InferBench> {
  const dir = mkdtempSync(join(tmpdir(), "netc-bench-infer-"));
  try {
    const model = join(dir, "ifdd.onnx");
    const compiled = spawnSync(process.execPath, [...netc, "compile", "models/ifdd.net", "-o", model], {
      encoding: "utf8",
    });
    if (compiled.status !== 0) throw new Error(compiled.stderr);
    const clips = makeClips(dir);
    // the naive loop's inputs, prepared as IFDD declares (frames are already 224x224 and in [0, 1])
    const spec = { ...DEFAULT_PREPROCESS, frames: FRAMES, height: SIZE, width: SIZE };
    const npys = [];
    for (const [i, clip] of clips.entries()) {
      const [view] = await prepareClip(await openClip(clip), spec);
      const path = join(dir, `clip_${i}.npy`);
      writeFileSync(path, encodeNpy({ dtype: "f32", shape: [1, 3, FRAMES, SIZE, SIZE], data: view }));
      npys.push(path);
    }
    let naiveSeconds = 0;
    let naiveRss = 0;
    for (const npy of npys) {
      const r = timed([...netc, "run", model, "--input", `video=${npy}`, "--threads", "2"], dir);
      naiveSeconds += r.seconds;
      naiveRss = Math.max(naiveRss, r.maxRssMb);
    }
    const result: InferBench = {
      clips: CLIPS,
      machine: `${cpus()[0]?.model ?? "cpu"}, ${availableParallelism()} cores`,
      naive: { seconds: naiveSeconds, clipsPerSecond: CLIPS / naiveSeconds, maxRssMb: naiveRss },
      infer: [],
    };
    for (const [batch, sessions, threads] of [
      [1, 1, 2],
      [4, 1, 2],
      [1, 2, 1],
      [2, 2, 1],
    ]) {
      const out = join(dir, `results-${batch}-${sessions}.jsonl`);
      const r = timed(
        [
          ...netc,
          "infer",
          model,
          join(dir, "clips"),
          "-o",
          out,
          "--batch",
          String(batch),
          "--sessions",
          String(sessions),
          "--threads",
          String(threads),
        ],
        dir,
      );
      result.infer.push({
        batch,
        sessions,
        threads,
        seconds: r.seconds,
        clipsPerSecond: CLIPS / r.seconds,
        maxRssMb: r.maxRssMb,
      });
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatInfer(r: InferBench): string {
  const lines = [
    `infer, IFDD (random weights) on ${r.clips} clips of 16 PNG frames at 224x224, ${r.machine}:`,
    `  naive loop, one netc run per clip (2 threads; .npy prepared beforehand, not counted): ` +
      `${r.naive.seconds.toFixed(1)} s, ${r.naive.clipsPerSecond.toFixed(2)} clips/s, max RSS ` +
      `${r.naive.maxRssMb.toFixed(0)} MB`,
  ];
  for (const c of r.infer)
    lines.push(
      `  netc infer --batch ${c.batch} --sessions ${c.sessions} --threads ${c.threads}: ${c.seconds.toFixed(1)} ` +
        `s, ${c.clipsPerSecond.toFixed(2)} clips/s (${(c.clipsPerSecond / r.naive.clipsPerSecond).toFixed(2)}x ` +
        `the naive loop), max RSS ${c.maxRssMb.toFixed(0)} MB`,
    );
  return lines.join("\n");
}
