// Import of the full-size IFDD checkpoint (150 MB, torch zip) into HostTensors, against its floor: a plain read of
// the same file into memory. Both run interleaved in this process with a warm page cache (the first, untimed run of
// each fills it). Agreement: the import yields every tensor of the official state-dict listing
// (../shared/fixtures/ifdd/state_dict_keys.txt, printed by the official code) with its shape, and the plain read
// returns every byte of the file.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findStateDict, importWeights, openCheckpoint } from "../src/weights/index.js";
import { interleaved, type Spread } from "./measure.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../shared/fixtures/ifdd");
const IFDD = path.join(FIXTURES, "ifdd_dfew_random.pth");
const ROUNDS = 7;

export interface WeightsBenchResult {
  file: string;
  megabytes: number;
  tensors: number;
  importMs: Spread;
  plainReadMs: Spread;
  /** Median import time over median plain-read time (1 would be the floor). */
  ratioToPlainRead: number;
  importMbPerSec: number;
  plainReadMbPerSec: number;
}

function importAll(): Map<string, { shape: readonly number[] }> {
  const ckpt = openCheckpoint(IFDD);
  try {
    const sd = findStateDict(ckpt);
    const declared = [...sd.tensors].map(([key, entry]) => ({ path: key, dtype: entry.dtype, shape: entry.shape }));
    return importWeights(declared, [{ checkpoint: ckpt }]).weights;
  } finally {
    ckpt.close();
  }
}

function plainRead(): number {
  const fd = fs.openSync(IFDD, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(size);
    let total = 0;
    for (let n; total < size && (n = fs.readSync(fd, buf, total, size - total, total)) > 0; ) total += n;
    return total;
  } finally {
    fs.closeSync(fd);
  }
}

/** Official keys and shapes from the fixture's listing: `key<TAB>(d0, d1, ...)<TAB>dtype<TAB>numel`. */
function officialShapes(): Map<string, string> {
  const rows = fs.readFileSync(path.join(FIXTURES, "state_dict_keys.txt"), "utf8").split("\n");
  const shapes = new Map<string, string>();
  for (const row of rows) {
    if (row.startsWith("#") || row.trim() === "") continue;
    const [key, shape] = row.split("\t");
    shapes.set(key, shape.replace(/[(),]/g, " ").trim().split(/\s+/).filter(Boolean).join(","));
  }
  return shapes;
}

function checkAgreement(imported: Map<string, { shape: readonly number[] }>, bytesRead: number): void {
  const official = officialShapes();
  for (const [key, shape] of official) {
    const got = imported.get(key);
    if (!got || got.shape.join(",") !== shape)
      throw new Error(`bench/weights: import disagrees with the official listing at ${key}`);
  }
  if (imported.size !== official.size)
    throw new Error(`bench/weights: imported ${imported.size} tensors, official ${official.size}`);
  if (bytesRead !== fs.statSync(IFDD).size) throw new Error("bench/weights: the plain read missed bytes");
}

export async function benchWeights(): Promise<WeightsBenchResult> {
  if (!fs.existsSync(IFDD)) throw new Error(`bench/weights needs ${IFDD}`);
  checkAgreement(importAll(), plainRead());
  const times = await interleaved(ROUNDS, { import: () => void importAll(), plainRead: () => void plainRead() });
  const megabytes = fs.statSync(IFDD).size / 1e6;
  return {
    file: "../shared/fixtures/ifdd/ifdd_dfew_random.pth",
    megabytes,
    tensors: officialShapes().size,
    importMs: times.import,
    plainReadMs: times.plainRead,
    ratioToPlainRead: times.import.median / times.plainRead.median,
    importMbPerSec: megabytes / (times.import.median / 1000),
    plainReadMbPerSec: megabytes / (times.plainRead.median / 1000),
  };
}
