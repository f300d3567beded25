// Import throughput of the full-size IFDD checkpoint (150 MB) into HostTensors, with a warm page cache:
// open, find the state dict, plan the mapping and read every tensor. Goal: under 1 s.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findStateDict, importWeights, openCheckpoint } from "../src/weights/index.js";

const IFDD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../shared/fixtures/ifdd/ifdd_dfew_random.pth");
const RUNS = 3;

export interface WeightsBenchResult {
  name: string;
  mbPerSec: number;
  seconds: number;
}

function importOnce(): number {
  const start = performance.now();
  const ckpt = openCheckpoint(IFDD);
  try {
    const sd = findStateDict(ckpt);
    const declared = [...sd.tensors].map(([key, entry]) => ({ path: key, dtype: entry.dtype, shape: entry.shape }));
    importWeights(declared, [{ checkpoint: ckpt }]);
  } finally {
    ckpt.close();
  }
  return (performance.now() - start) / 1000;
}

/** Median of three imports after one warm-up run (which fills the page cache and warms the JIT). */
export async function benchWeights(): Promise<WeightsBenchResult> {
  if (!fs.existsSync(IFDD)) throw new Error(`benchWeights needs ${IFDD}`);
  importOnce();
  const times = Array.from({ length: RUNS }, importOnce).sort((a, b) => a - b);
  const seconds = times[Math.floor(RUNS / 2)];
  return { name: "weights: import IFDD checkpoint", mbPerSec: fs.statSync(IFDD).size / 1e6 / seconds, seconds };
}
