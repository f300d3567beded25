// Makes lazy tensors' values ahead of a writer that takes them one at a time, in order (an ONNX file being written):
// worker threads draw seeded weights (in pieces: each value depends only on its tensor's stream and position) and
// read checkpoint ranges into a shared ring buffer, a window of tensors in flight, while the writer's thread writes.
// The writer's thread waits synchronously (Atomics.wait), so the writers stay synchronous. The bytes are the same
// as each tensor's own `read` gives; whatever the workers cannot make (no recipe, too large, a checkpoint that
// changed or shrank) is made by `read` on the writer's thread, which also reports the usual diagnostics.
import os from "node:os";
import vm from "node:vm";
import { Worker } from "node:worker_threads";
import type { LazyTensor, TensorRecipe } from "./lazy-tensor.js";
import { uniforms } from "./random.js";
import { drawNormals } from "./seeded-normals.js";
import { bytesOf } from "./tensor.js";

export interface ReadAheadOptions {
  /** Worker threads (0: everything on the calling thread). Default: the machine's parallelism, at most 8. */
  threads?: number;
  /** The ring buffer's size: how many bytes may be made ahead of the writer (it grows to hold two of the largest). */
  windowBytes?: number;
}

export interface ReadAhead {
  /** The values of the i-th tensor as bytes: valid until the next call, or close. Ask in order for speed. */
  bytes(i: number): Uint8Array;
  /** Stops the workers (idempotent); the ring is let go. */
  close(): void;
}

const DEFAULT_WINDOW = 32 * 2 ** 20;
/** Larger tensors are made on the writer's thread, so the ring (and the memory) stays bounded. */
const MAX_JOB_BYTES = 256 * 2 ** 20;
/** Values per drawing task: small enough to share one tensor among the workers. */
const CHUNK_VALUES = 1 << 18;
const MAX_THREADS = 8;
/** Room for a failed worker's message (its stack). */
const MESSAGE_BYTES = 4096;
/** How long the writer waits for the first worker to start before calling the pool broken (an internal error). */
const STARTUP_LIMIT_MS = 120_000;

/** A tensor the workers make, at `offset` in the ring. */
interface Job {
  offset: number;
  byteLength: number;
  elementBytes: 4 | 8;
  recipe: TensorRecipe;
}

/** Where the control words live in the shared Int32Array; per-job words follow. */
interface Words {
  next: number;
  allowed: number;
  stop: number;
  failed: number;
  started: number;
  /** Tasks finished, per job. */
  done: number;
  /** Set per job when a worker could not read it (the writer's thread reads it instead). */
  unread: number;
}

interface WorkerData {
  control: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  words: Words;
  jobs: Job[];
  /** Triples: job, first element (bytes, for a file), end. */
  tasks: Int32Array;
  /** The first failure's message, UTF-8, zero-padded (`failed` is 2 once it is there). */
  message: SharedArrayBuffer;
}

interface WorkerLib {
  fs: typeof import("node:fs");
  drawNormals: typeof drawNormals;
  uniforms: typeof uniforms;
  readFileRange: typeof readFileRange;
}

/**
 * Reads a file's byte range into `target` when the file is still the one described (size, modification time) and
 * long enough; false otherwise (the writer's thread then reads it, and reports what is wrong). Runs in a worker.
 */
function readFileRange(
  fs: typeof import("node:fs"),
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

/** A worker's loop: claim the next task, wait until its ring space is free, make it, count it done. */
function aheadWorker(data: WorkerData, lib: WorkerLib): void {
  const control = new Int32Array(data.control);
  const w = data.words;
  Atomics.add(control, w.started, 1);
  try {
    for (;;) {
      const t = Atomics.add(control, w.next, 1);
      if (t * 3 >= data.tasks.length || Atomics.load(control, w.stop)) return;
      for (;;) {
        const allowed = Atomics.load(control, w.allowed);
        if (t < allowed || Atomics.load(control, w.stop)) break;
        Atomics.wait(control, w.allowed, allowed);
      }
      if (Atomics.load(control, w.stop)) return;
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
        lib.drawNormals(out, recipe.stream, recipe.std, from, lib.uniforms);
      } else if (!lib.readFileRange(lib.fs, recipe, new Uint8Array(data.ring, job.offset, job.byteLength)))
        Atomics.store(control, w.unread + j, 1);
      Atomics.add(control, w.done + j, 1);
      Atomics.notify(control, w.done + j);
    }
  } catch (e) {
    if (Atomics.compareExchange(control, w.failed, 0, 1) !== 0) return;
    new TextEncoder().encodeInto(String((e as Error)?.stack ?? e), new Uint8Array(data.message));
    Atomics.store(control, w.failed, 2);
  }
}

/**
 * The workers' program, made from the functions above (so there is one copy of the draw). `__name` is what tsx's
 * keep-names transform calls when netc runs from its sources.
 */
const WORKER_SOURCE = `"use strict";
const __name = (f) => f;
const { workerData } = require("node:worker_threads");
(${aheadWorker.toString()})(workerData, {
  fs: require("node:fs"),
  drawNormals: ${drawNormals.toString()},
  uniforms: ${uniforms.toString()},
  readFileRange: ${readFileRange.toString()},
});
`;

let workerSourceParses: boolean | undefined;

/** Whether the workers' program compiles here (a source transform, such as coverage, may break it): else no pool. */
function workersAvailable(): boolean {
  if (workerSourceParses === undefined) {
    try {
      new vm.Script(WORKER_SOURCE);
      workerSourceParses = true;
    } catch {
      workerSourceParses = false;
    }
  }
  return workerSourceParses;
}

function defaultThreads(): number {
  return Math.min(MAX_THREADS, os.availableParallelism());
}

/** The element size a draw writes (a file range is copied as bytes, whatever its dtype). */
function elementBytes(t: LazyTensor): 4 | 8 | undefined {
  if (t.recipe?.kind === "file") return 4;
  return t.dtype === "f32" ? 4 : t.dtype === "f64" ? 8 : undefined;
}

/** Makes each tensor on the calling thread, as it is asked for. */
function onThisThread(tensors: readonly LazyTensor[]): ReadAhead {
  return { bytes: (i) => bytesOf(tensors[i].read()), close: () => {} };
}

/** A pool making `tensors` ahead of a writer that asks for them in this order. */
export function readAhead(tensors: readonly LazyTensor[], options: ReadAheadOptions = {}): ReadAhead {
  const threads = options.threads ?? defaultThreads();
  const pooled = tensors
    .map((t, index) => ({ t, index, size: elementBytes(t) }))
    .filter(({ t, size }) => t.recipe && size && t.byteLength > 0 && t.byteLength <= MAX_JOB_BYTES);
  if (threads <= 0 || pooled.length === 0 || !workersAvailable()) return onThisThread(tensors);

  const largest = pooled.reduce((n, { t }) => Math.max(n, t.byteLength), 0);
  const ringBytes = Math.max(options.windowBytes ?? DEFAULT_WINDOW, 2 * align8(largest));
  const jobs: Job[] = [];
  const jobOf = new Map<number, number>();
  /** Per job, how many tensors the writer must have let go before the job's ring space is free. */
  const startsAfter: number[] = [];
  let cursor = 0;
  for (const { t, index, size } of pooled) {
    if (cursor + t.byteLength > ringBytes) cursor = 0;
    const job: Job = { offset: cursor, byteLength: t.byteLength, elementBytes: size!, recipe: t.recipe! };
    cursor = align8(cursor + t.byteLength);
    // The ring is filled in order, so the jobs that overlap this one are the latest ones that do.
    let after = 0;
    for (let k = jobs.length - 1; k >= 0; k--)
      if (overlaps(jobs[k], job)) {
        after = pooled[k].index + 1;
        break;
      }
    startsAfter.push(Math.max(after, startsAfter.at(-1) ?? 0));
    jobOf.set(index, jobs.length);
    jobs.push(job);
  }
  const tasks: number[] = [];
  const firstTask: number[] = [];
  const taskCount: number[] = [];
  jobs.forEach((job, j) => {
    firstTask.push(tasks.length / 3);
    const values = job.recipe.kind === "normal" ? job.byteLength / job.elementBytes : 0;
    if (job.recipe.kind === "file") tasks.push(j, 0, job.byteLength);
    for (let from = 0; from < values; from += CHUNK_VALUES) tasks.push(j, from, Math.min(values, from + CHUNK_VALUES));
    taskCount.push(tasks.length / 3 - firstTask[j]);
  });

  const taskTotal = tasks.length / 3;
  const words: Words = { next: 0, allowed: 1, stop: 2, failed: 3, started: 4, done: 5, unread: 5 + jobs.length };
  const control = new Int32Array(new SharedArrayBuffer(4 * (5 + 2 * jobs.length)));
  const ring = new SharedArrayBuffer(ringBytes);
  const message = new SharedArrayBuffer(MESSAGE_BYTES);
  const data: WorkerData = {
    control: control.buffer as SharedArrayBuffer,
    ring,
    words,
    jobs,
    message,
    tasks: Int32Array.from(tasks),
  };
  const workers = Math.min(threads, taskTotal);

  let released = -1;
  /** The first job whose ring space an earlier tensor may still hold. */
  let locked = 0;
  /** The writer let go of every tensor before `index`: free the jobs whose ring space they held. */
  const release = (index: number) => {
    if (index <= released) return;
    released = index;
    while (locked < jobs.length && startsAfter[locked] <= index) locked++;
    Atomics.store(control, words.allowed, locked < jobs.length ? firstTask[locked] : taskTotal);
    Atomics.notify(control, words.allowed);
  };
  release(0);
  for (let i = 0; i < workers; i++) {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: data,
    });
    worker.unref();
  }

  const began = performance.now();
  const waitFor = (j: number) => {
    for (;;) {
      const done = Atomics.load(control, words.done + j);
      if (done >= taskCount[j]) return;
      if (Atomics.load(control, words.failed) === 2) {
        const text = new TextDecoder().decode(new Uint8Array(message).slice()).replace(/\0+$/, "");
        throw new Error(`a thread making weights ahead of the writer failed: ${text}`);
      }
      if (Atomics.load(control, words.started) === 0 && performance.now() - began > STARTUP_LIMIT_MS)
        throw new Error("no thread making weights ahead of the writer started");
      Atomics.wait(control, words.done + j, done, 1000);
    }
  };
  let closed = false;
  return {
    bytes(i) {
      // A tensor asked for again, or out of order, is made here: its ring space may hold another by now.
      if (closed || i < released) return bytesOf(tensors[i].read());
      release(i);
      const j = jobOf.get(i);
      if (j === undefined) return bytesOf(tensors[i].read());
      waitFor(j);
      if (Atomics.load(control, words.unread + j)) return bytesOf(tensors[i].read());
      const job = jobs[j];
      return new Uint8Array(ring, job.offset, job.byteLength);
    },
    close() {
      if (closed) return;
      closed = true;
      Atomics.store(control, words.stop, 1);
      Atomics.store(control, words.allowed, taskTotal);
      Atomics.notify(control, words.allowed);
    },
  };
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

const overlaps = (a: Job, b: Job) => a.offset < b.offset + b.byteLength && b.offset < a.offset + a.byteLength;
