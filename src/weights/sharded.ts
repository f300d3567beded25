// Sharded checkpoints as Hugging Face writes them: `model.safetensors.index.json` or `pytorch_model.bin.index.json`,
// {"metadata": {...}, "weight_map": {key: shard file}}, beside the shards. Read as one state dict, once the index
// is validated: shards confined to the index's folder, every key in its shard, no key in two shards.
import fs from "node:fs";
import path from "node:path";
import {
  Checkpoint,
  findStateDict,
  type CheckpointFormat,
  type CheckpointNode,
  type TensorSource,
} from "./checkpoint.js";
import { WeightCodes, weightError } from "../diagnostics/weight-codes.js";
import { BinaryFile } from "./file.js";
import { READ_BUDGETS, type TensorEntry } from "./layout.js";

/** An index is far smaller than this; larger is not an index. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

export function isShardIndex(file: string): boolean {
  return file.endsWith(".index.json");
}

export function openSharded(indexPath: string, openShard: (path: string) => Checkpoint): Checkpoint {
  const bad = (detail: string): never => {
    throw weightError(WeightCodes.BadShardIndex, `${indexPath}: ${detail}`);
  };
  const { weightMap, metadata } = readIndex(indexPath, bad);
  const folder = path.dirname(indexPath);
  const realFolder = realpath(folder, indexPath);

  // Each shard once, in the order the index first names it.
  const keysOf = new Map<string, string[]>();
  for (const [key, shard] of weightMap) {
    if (typeof shard !== "string" || shard === "") bad(`the shard of '${key}' is not a file name`);
    const keys = keysOf.get(shard as string);
    if (keys) keys.push(key);
    else keysOf.set(shard as string, [key]);
  }
  if (keysOf.size === 0) bad("the weight_map is empty");
  if (keysOf.size > READ_BUDGETS.shards) {
    throw weightError(
      WeightCodes.OverBudget,
      `${indexPath}: the index names more than ${READ_BUDGETS.shards.toLocaleString("en-US")} shard files`,
    );
  }

  const shards: Checkpoint[] = [];
  const shardOf = new Map<TensorEntry, Checkpoint>();
  const entries: { key: string; node: CheckpointNode }[] = [];
  try {
    const holder = new Map<string, string>();
    for (const [shard, keys] of keysOf) {
      const ckpt = openShard(confined(folder, realFolder, shard, bad));
      shards.push(ckpt);
      const { tensors } = findStateDict(ckpt);
      for (const key of tensors.keys()) {
        const other = holder.get(key);
        if (other !== undefined) bad(`tensor '${key}' is in shard '${other}' and in shard '${shard}'`);
        holder.set(key, shard);
      }
      for (const key of keys) {
        const entry = tensors.get(key);
        if (!entry) bad(`the index puts tensor '${key}' in shard '${shard}', which does not hold it`);
        shardOf.set(entry as TensorEntry, ckpt);
        entries.push({ key, node: { kind: "tensor", tensor: entry as TensorEntry } });
      }
    }
    for (const [key, shard] of holder) {
      if (weightMap.get(key) !== shard)
        bad(`shard '${shard}' holds tensor '${key}', which the index does not list there`);
    }
  } catch (e) {
    for (const s of shards) s.close();
    throw e;
  }
  const format: CheckpointFormat = shards.every((s) => s.format === "safetensors")
    ? "sharded-safetensors"
    : "sharded-torch";
  const source: TensorSource = {
    size: shards.reduce((n, s) => n + s.fileSize, 0),
    read: (entry) => (shardOf.get(entry) ?? bad(`tensor '${entry.key}' is in no shard`)).readTensor(entry),
    recipe: (entry) => shardOf.get(entry)?.recipe(entry),
    close: () => shards.forEach((s) => s.close()),
  };
  const listed = [...keysOf].map(([name, keys], i) => ({ name, tensors: keys.length, size: shards[i].fileSize }));
  return new Checkpoint(indexPath, format, { kind: "dict", entries }, source, metadata, listed);
}

interface ShardIndex {
  weightMap: Map<string, unknown>;
  metadata: Map<string, string>;
}

function readIndex(indexPath: string, bad: (detail: string) => never): ShardIndex {
  const file = BinaryFile.open(indexPath);
  let text: string;
  try {
    if (file.size > MAX_INDEX_BYTES) bad(`the index is ${file.size} bytes (at most ${MAX_INDEX_BYTES})`);
    text = new TextDecoder("utf-8", { fatal: false }).decode(file.read(0, file.size, "the shard index"));
  } finally {
    file.close();
  }
  let index: unknown;
  try {
    index = JSON.parse(text);
  } catch {
    return bad("the index is not valid JSON");
  }
  if (!isRecord(index) || !isRecord(index.weight_map)) return bad('the index has no "weight_map" object');
  const names = Object.keys(index.weight_map);
  if (names.length > READ_BUDGETS.tensors) {
    throw weightError(
      WeightCodes.OverBudget,
      `${indexPath}: the index lists more than ${READ_BUDGETS.tensors.toLocaleString("en-US")} tensors`,
    );
  }
  // A Map, so that a key such as "__proto__" is just a key.
  const weightMap = new Map<string, unknown>(names.map((k) => [k, (index.weight_map as Record<string, unknown>)[k]]));
  const metadata = new Map<string, string>();
  if (isRecord(index.metadata)) {
    for (const [k, v] of Object.entries(index.metadata)) metadata.set(k, typeof v === "string" ? v : JSON.stringify(v));
  }
  return { weightMap, metadata };
}

/** The shard's path, refused unless it lies inside the index's folder (as written and after following links). */
function confined(folder: string, realFolder: string, shard: string, bad: (detail: string) => never): string {
  const resolved = path.resolve(folder, shard);
  const inside = (root: string, p: string) => p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
  if (path.isAbsolute(shard) || !inside(path.resolve(folder), resolved))
    bad(`shard '${shard}' lies outside the index's folder`);
  if (fs.existsSync(resolved) && !inside(realFolder, realpath(resolved, resolved)))
    bad(`shard '${shard}' links outside the index's folder`);
  return path.join(folder, shard);
}

function realpath(p: string, what: string): string {
  try {
    return fs.realpathSync(p);
  } catch (e) {
    throw weightError(WeightCodes.ReadFailed, `cannot open ${what}: ${(e as Error).message}`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
