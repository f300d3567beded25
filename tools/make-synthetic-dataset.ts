// A small synthetic DFER dataset for the dataset tools' tests and docs: clips as folders of PNG frames, each
// class a colour with a square moving across the frame, plus the manifests netc eval reads.
//   npx tsx tools/make-synthetic-dataset.ts <out-dir> [--clips 28] [--frames 12] [--size 40x48] [--folds 2] [--seed 0]
// Writes <out>/clips/clip_NNN/frame_NNN.png, <out>/labels.csv (path,label with class names) and DFEW-style fold
// lists <out>/set_K/test.csv (video_name,label with labels counted from 1; clip folders under <out>/clips).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { uniforms } from "../src/util/random.js";

export const SYNTHETIC_LABELS = ["happy", "sad", "neutral", "angry", "surprise", "disgust", "fear"];

/** Each class's base colour (RGB 0..255). */
export const SYNTHETIC_COLOURS: [number, number, number][] = [
  [230, 200, 40],
  [40, 70, 200],
  [128, 128, 128],
  [210, 40, 40],
  [240, 140, 220],
  [60, 160, 60],
  [120, 40, 160],
];

export interface SyntheticOptions {
  clips: number;
  frames: number;
  width: number;
  height: number;
  folds: number;
  seed: number;
}

export function makeSyntheticDataset(
  out: string,
  opts: SyntheticOptions,
): { clip: string; label: number; fold: number }[] {
  const random = uniforms(opts.seed);
  const rows: { clip: string; label: number; fold: number }[] = [];
  for (let i = 0; i < opts.clips; i++) {
    const label = i % SYNTHETIC_LABELS.length;
    const clip = `clip_${String(i).padStart(3, "0")}`;
    const dir = join(out, "clips", clip);
    mkdirSync(dir, { recursive: true });
    const frames = opts.frames + Math.floor(random() * 5); // clips differ in length, as real ones do
    const size = Math.max(4, Math.floor(Math.min(opts.width, opts.height) / 3));
    for (let f = 0; f < frames; f++) {
      const png = new PNG({ width: opts.width, height: opts.height });
      const x0 = Math.floor(((opts.width - size) * f) / Math.max(1, frames - 1));
      const y0 = Math.floor((opts.height - size) / 2);
      for (let y = 0; y < opts.height; y++)
        for (let x = 0; x < opts.width; x++) {
          const inSquare = x >= x0 && x < x0 + size && y >= y0 && y < y0 + size;
          for (let c = 0; c < 3; c++) {
            const base = inSquare ? 255 - SYNTHETIC_COLOURS[label][c] : SYNTHETIC_COLOURS[label][c];
            png.data[4 * (y * opts.width + x) + c] = Math.max(
              0,
              Math.min(255, Math.round(base + (random() - 0.5) * 40)),
            );
          }
          png.data[4 * (y * opts.width + x) + 3] = 255;
        }
      writeFileSync(join(dir, `frame_${String(f + 1).padStart(3, "0")}.png`), PNG.sync.write(png));
    }
    rows.push({ clip, label, fold: (i % opts.folds) + 1 });
  }
  writeFileSync(
    join(out, "labels.csv"),
    `${["path,label", ...rows.map((r) => `clips/${r.clip},${SYNTHETIC_LABELS[r.label]}`)].join("\n")}\n`,
  );
  for (let k = 1; k <= opts.folds; k++) {
    mkdirSync(join(out, `set_${k}`), { recursive: true });
    const fold = rows.filter((r) => r.fold === k);
    writeFileSync(
      join(out, `set_${k}`, "test.csv"),
      `${["video_name,label", ...fold.map((r) => `${r.clip},${r.label + 1}`)].join("\n")}\n`,
    );
  }
  return rows;
}

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const out = args[0];
  if (!out || out.startsWith("--")) {
    process.stderr.write(
      "usage: tsx tools/make-synthetic-dataset.ts <out-dir> [--clips 28] [--frames 12] [--size 40x48] [--folds " +
        "2] [--seed 0]\n",
    );
    process.exit(2);
  }
  const [width, height] = option(args, "--size", "40x48").split("x").map(Number);
  const rows = makeSyntheticDataset(out, {
    clips: Number(option(args, "--clips", "28")),
    frames: Number(option(args, "--frames", "12")),
    width,
    height,
    folds: Number(option(args, "--folds", "2")),
    seed: Number(option(args, "--seed", "0")),
  });
  process.stdout.write(`wrote ${rows.length} clips to ${out}\n`);
}
