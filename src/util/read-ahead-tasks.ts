// What the read-ahead threads and the writer's thread share (see read-ahead.ts): the layout of the control words and
// the ring, and one task's work: drawing a piece of a seeded tensor (seeded-normals.ts, as the writer's own reads do)
// or reading a checkpoint range into the ring.
import fs from "node:fs";
import { uniforms } from "./random.js";
import { drawNormals } from "./seeded-normals.js";
import type { TensorRecipe } from "./lazy-tensor.js";

/** A tensor the threads make, at `offset` in the ring. */
export interface Job {
  offset: number;
  byteLength: number;
  elementBytes: 4 | 8;
  recipe: TensorRecipe;
}

/** Where the control words live in the shared Int32Array; per-job words follow. */
export interface Words {
  next: number;
  allowed: number;
  stop: number;
  /** A FailState: the first failure's message is in `message` once it is set. */
  failed: number;
  started: number;
  /** Tasks finished, per job. */
  done: number;
  /** Set per job when a thread could not read it (the writer's thread reads it instead). */
  unread: number;
}

export const FailState = {
  none: 0,
  /** A thread is writing its message. */
  writing: 1,
  /** A thread failed while making weights: a bug. */
  whileWorking: 2,
  /** A thread could not load its program (read-ahead-worker-from-source.mjs reports it): the writer goes alone. */
  loading: 3,
} as const;

export interface WorkerData {
  control: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  words: Words;
  jobs: Job[];
  /** Triples: job, first element (bytes, for a file), end. */
  tasks: Int32Array;
  /** The first failure's message, UTF-8, zero-padded. */
  message: SharedArrayBuffer;
}

/**
 * Reads a file's byte range into `target` when the file is still the one described (size, modification time) and
 * long enough; false otherwise (the writer's thread then reads it, and reports what is wrong).
 */
function readFileRange(
  recipe: { path: string; position: number; size: number; mtimeMs: number },
  target: Uint8Array,
): boolean {
  let fd: number;
  try {
    fd = fs.openSync(recipe.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || stat.size !== recipe.size || stat.mtimeMs !== recipe.mtimeMs) return false;
    for (let done = 0; done < target.byteLength; ) {
      const n = fs.readSync(fd, target, done, target.byteLength - done, recipe.position + done);
      if (n === 0) return false;
      done += n;
    }
    return true;
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

/** Makes task `t` into the ring (the writer's thread runs this too, for tasks no thread has claimed yet). */
export function runTask(data: WorkerData, control: Int32Array, t: number): void {
  const w = data.words;
  const j = data.tasks[t * 3];
  const from = data.tasks[t * 3 + 1];
  const end = data.tasks[t * 3 + 2];
  const job = data.jobs[j];
  const recipe = job.recipe;
  if (recipe.kind === "normal") {
    const at = job.offset + from * job.elementBytes;
    const out =
      job.elementBytes === 4
        ? new Float32Array(data.ring, at, end - from)
        : new Float64Array(data.ring, at, end - from);
    drawNormals(out, recipe.stream, recipe.std, from, uniforms);
  } else if (!readFileRange(recipe, new Uint8Array(data.ring, job.offset, job.byteLength)))
    Atomics.store(control, w.unread + j, 1);
  Atomics.add(control, w.done + j, 1);
  Atomics.notify(control, w.done + j);
}

/** Keeps the first failure's message where the writer's thread reads it, then sets `failed` to `state`. */
export function reportFailure(data: WorkerData, state: number, error: unknown): void {
  const control = new Int32Array(data.control);
  if (Atomics.compareExchange(control, data.words.failed, FailState.none, FailState.writing) !== FailState.none) return;
  new TextEncoder().encodeInto(String((error as Error)?.stack ?? error), new Uint8Array(data.message));
  Atomics.store(control, data.words.failed, state);
}
