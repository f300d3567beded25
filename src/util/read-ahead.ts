// Makes lazy tensors' values ahead of a writer that takes them one at a time, in order (an ONNX file being written):
// worker threads (read-ahead-worker.ts) draw seeded weights (in pieces: each value depends only on its tensor's
// stream and position) and read checkpoint ranges into a shared ring buffer, a window of tensors in flight, while the
// writer's thread writes. The writer's thread waits synchronously (Atomics.wait), so the writers stay synchronous;
// rather than wait for a piece no thread has taken yet, it makes the piece itself, so it never depends on a thread
// starting. The bytes are the same as each tensor's own `read` gives; whatever the threads cannot make (no recipe,
// too large, a checkpoint that changed or shrank) is made by `read` on the writer's thread, which also reports the
// usual diagnostics.
import { existsSync } from "node:fs";
import os from "node:os";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { LazyTensor } from "./lazy-tensor.js";
import { FailState, type Job, runTask, type WorkerData, type Words } from "./read-ahead-tasks.js";
import { bytesOf } from "./tensor.js";

export interface ReadAheadOptions {
  /** Worker threads (0: everything on the calling thread). Default: the machine's parallelism, at most 8. */
  threads?: number;
  /** The ring buffer's size: how many bytes may be made ahead of the writer (it grows to hold two of the largest). */
  windowBytes?: number;
}

/** What the threads did, for the caller to tell. */
export interface ReadAheadReport {
  /** Threads started for this writer, and how many of them had begun by now. */
  threads: number;
  started: number;
  /** Pieces (drawing tasks, file ranges) made by the threads and by the writer's thread. */
  byThreads: number;
  byWriter: number;
  /** Why the threads made nothing (could not start, could not load their program), when known. */
  unavailable?: string;
}

export interface ReadAhead {
  /** The values of the i-th tensor as bytes: valid until the next call, or close. Ask in order for speed. */
  bytes(i: number): Uint8Array;
  /** Stops the workers (idempotent); the ring is let go. */
  close(): void;
  report(): ReadAheadReport;
}

const DEFAULT_WINDOW = 32 * 2 ** 20;
/** Larger tensors are made on the writer's thread, so the ring (and the memory) stays bounded. */
const MAX_JOB_BYTES = 256 * 2 ** 20;
/** Values per drawing task: small enough to share one tensor among the workers. */
const CHUNK_VALUES = 1 << 18;
const MAX_THREADS = 8;
/** Room for a failed worker's message (its stack). */
const MESSAGE_BYTES = 4096;
/**
 * A write this long with no thread begun means they failed in a way they could not report (a loader that died):
 * said so at close. Threads begin in milliseconds, from the sources (tsx) in about a second.
 */
const SILENT_START_LIMIT_MS = 10_000;
/**
 * A piece takes milliseconds: the job the writer waits for making no progress this long while threads hold its
 * tasks means a thread died in the middle of one (out of memory, say); the writer then makes every weight itself.
 */
const STALLED_THREAD_LIMIT_MS = 10_000;

/**
 * The threads' program beside this module: the compiled read-ahead-worker.js, or from the TypeScript sources the
 * bootstrap that loads read-ahead-worker.ts through tsx. A reason instead when it is not there (a bundle that
 * inlined this module, a CommonJS bundle without import.meta.url).
 */
function workerProgram(): URL | string {
  let url: URL;
  try {
    const fromSource = import.meta.url.endsWith(".ts");
    url = new URL(fromSource ? "./read-ahead-worker-from-source.mjs" : "./read-ahead-worker.js", import.meta.url);
  } catch {
    return "the read-ahead threads' program cannot be found: this module has no file URL (bundled as CommonJS?)";
  }
  if (url.protocol === "file:" && existsSync(fileURLToPath(url))) return url;
  const here = basename(new URL(import.meta.url).pathname);
  return `the read-ahead threads' program ${basename(url.pathname)} is not beside ${here}`;
}

/** The worker's environment: the parent's, less NODE_OPTIONS, whose loaders (--import, --require) are not ours. */
function workerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
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
function onThisThread(tensors: readonly LazyTensor[], unavailable?: string): ReadAhead {
  return {
    bytes: (i) => bytesOf(tensors[i].read()),
    close: () => {},
    report: () => ({ threads: 0, started: 0, byThreads: 0, byWriter: 0, unavailable }),
  };
}

/** A pool making `tensors` ahead of a writer that asks for them in this order. */
export function readAhead(tensors: readonly LazyTensor[], options: ReadAheadOptions = {}): ReadAhead {
  const threads = options.threads ?? defaultThreads();
  const pooled = tensors
    .map((t, index) => ({ t, index, size: elementBytes(t) }))
    .filter(({ t, size }) => t.recipe && size && t.byteLength > 0 && t.byteLength <= MAX_JOB_BYTES);
  if (threads <= 0 || pooled.length === 0) return onThisThread(tensors);
  const program = workerProgram();
  if (typeof program === "string") return onThisThread(tensors, program);

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
  const began = performance.now();
  for (let i = 0; i < workers; i++) {
    // No execArgv and no NODE_OPTIONS: the program needs no flag, and a parent's loader is not for it.
    const worker = new Worker(program, { workerData: data, execArgv: [], env: workerEnv() });
    worker.unref();
  }

  const messageText = () => new TextDecoder().decode(new Uint8Array(message).slice()).replace(/\0+$/, "");
  let byWriter = 0;
  /** Makes the next unclaimed task on this thread if it is one of the first `end` (whose ring space is free). */
  const claimBefore = (end: number): boolean => {
    const t = Atomics.load(control, words.next);
    if (t >= end || Atomics.compareExchange(control, words.next, t, t + 1) !== t) return false;
    runTask(data, control, t);
    byWriter++;
    return true;
  };
  /** Why the writer stopped waiting for the threads and made the rest itself. */
  let stalled: string | undefined;
  /**
   * Job `j` and every job before it are made (earlier ones may share its ring space, even if never asked for);
   * false when a thread stalled in the middle of a piece (the pool is then closed).
   */
  let readyThrough = -1;
  const waitFor = (j: number): boolean => {
    const end = firstTask[j] + taskCount[j];
    for (; readyThrough < j; readyThrough++) {
      const k = readyThrough + 1;
      let progressAt = performance.now();
      let lastDone = -1;
      for (;;) {
        const done = Atomics.load(control, words.done + k);
        if (done >= taskCount[k]) break;
        if (Atomics.load(control, words.failed) === FailState.whileWorking)
          throw new Error(`a thread making weights ahead of the writer failed: ${messageText()}`);
        if (claimBefore(end)) continue;
        if (done !== lastDone) [lastDone, progressAt] = [done, performance.now()];
        else if (performance.now() - progressAt >= STALLED_THREAD_LIMIT_MS) {
          stalled = `a read-ahead thread stopped in the middle of a piece (no progress in ${
            STALLED_THREAD_LIMIT_MS / 1000
          } s)`;
          pool.close();
          return false;
        }
        Atomics.wait(control, words.done + k, done, 1000);
      }
    }
    return true;
  };
  let closed = false;
  let closedAfterMs = 0;
  const pool: ReadAhead = {
    bytes(i) {
      // A tensor asked for again, or out of order, is made here: its ring space may hold another by now.
      if (closed || i < released) return bytesOf(tensors[i].read());
      release(i);
      const j = jobOf.get(i);
      if (j === undefined || !waitFor(j)) return bytesOf(tensors[i].read());
      if (Atomics.load(control, words.unread + j)) return bytesOf(tensors[i].read());
      const job = jobs[j];
      return new Uint8Array(ring, job.offset, job.byteLength);
    },
    close() {
      if (closed) return;
      closed = true;
      closedAfterMs = performance.now() - began;
      Atomics.store(control, words.stop, 1);
      Atomics.store(control, words.allowed, taskTotal);
      Atomics.notify(control, words.allowed);
    },
    report() {
      const started = Atomics.load(control, words.started);
      let made = 0;
      for (let j = 0; j < jobs.length; j++) made += Atomics.load(control, words.done + j);
      const failed = Atomics.load(control, words.failed);
      const elapsed = closed ? closedAfterMs : performance.now() - began;
      const unavailable = stalled
        ? stalled
        : failed === FailState.loading
          ? `the read-ahead threads could not load their program: ${withoutFolders(messageText().split("\n")[0])}`
          : started === 0 && elapsed >= SILENT_START_LIMIT_MS
            ? `no read-ahead thread had begun after ${(elapsed / 1000).toFixed(0)} s of writing`
            : undefined;
      return { threads: workers, started, byThreads: made - byWriter, byWriter, unavailable };
    },
  };
  return pool;
}

/** A message with each path cut to its file's name (no machine's folders in a diagnostic). */
const withoutFolders = (text: string) =>
  text.replace(/(?<=^|[\s'"(])(?:file:\/\/)?(?:\/[^\s'"/]+)+\/(?=[^\s'"/]+)/g, "");

const align8 = (n: number) => Math.ceil(n / 8) * 8;

const overlaps = (a: Job, b: Job) => a.offset < b.offset + b.byteLength && b.offset < a.offset + a.byteLength;
