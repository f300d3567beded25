// Runs fuzz cases in worker children (test/fuzz/worker.ts) and checks what every case must satisfy:
//   exit 0, 1 or 2; no internal error or stack trace; nothing outside the case's scratch folder `work` changed;
//   its inputs unchanged; nothing left behind when it failed (and no temporary file ever); an answer within the
//   time limit; the worker's memory within its limit.
// Layout of one case: <root>/case-N/{work/, sibling/keep.txt}; netc runs with work/ as its working folder.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeSyntheticDataset } from "../../tools/make-synthetic-dataset.js";
import { type Ctx, type FuzzCase, ROOT, Rng, type Templates } from "./cases.js";

export interface Limits {
  /** Per case, in ms. */
  timeMs: number;
  /** The worker's V8 heap, in MiB (--max-old-space-size). */
  heapMb: number;
  /** The worker's resident memory after a case, in bytes. */
  rssBytes: number;
}

export const DEFAULT_LIMITS: Limits = { timeMs: 30_000, heapMb: 1024, rssBytes: 2.5 * 2 ** 30 };

interface Reply {
  code: number;
  err: string;
  rss: number;
}

/** One worker child at a time; a new one after a timeout or a crash. */
export class WorkerPool {
  private child?: ChildProcess;
  private pending?: { id: number; child: ChildProcess; resolve: (r: Reply | { crashed: string }) => void };
  private nextId = 0;

  constructor(private readonly limits: Limits) {}

  private start(): ChildProcess {
    const child = spawn(
      process.execPath,
      [
        `--max-old-space-size=${this.limits.heapMb}`,
        "--import",
        "tsx",
        fileURLToPath(new URL("worker.ts", import.meta.url)),
      ],
      {
        cwd: ROOT,
        stdio: ["ignore", "ignore", "pipe", "ipc"],
      },
    );
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr = (stderr + String(d)).slice(-4000)));
    child.on("message", (reply: Reply & { id: number }) => {
      if (this.pending?.id === reply.id && this.pending.child === child) this.pending.resolve(reply);
    });
    child.on("exit", (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.pending?.child === child)
        this.pending.resolve({ crashed: `the worker died (exit ${code}, signal ${signal}): ${stderr.slice(-1500)}` });
    });
    return child;
  }

  async run(cwd: string, args: string[]): Promise<Reply | { crashed: string } | { timedOut: true }> {
    this.child ??= this.start();
    const child = this.child;
    const id = this.nextId++;
    let timer: NodeJS.Timeout | undefined;
    const answer = new Promise<Reply | { crashed: string } | { timedOut: true }>((resolve) => {
      this.pending = { id, child, resolve };
      timer = setTimeout(() => {
        this.kill();
        resolve({ timedOut: true });
      }, this.limits.timeMs);
    });
    child.send({ id, cwd, args });
    try {
      return await answer;
    } finally {
      clearTimeout(timer);
      this.pending = undefined;
    }
  }

  kill(): void {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) child.kill("SIGKILL");
  }

  close(): void {
    this.kill();
  }
}

type Snapshot = Map<string, string>;

/** Every entry under `dir`: its kind and, for files, size and content hash (special files are never opened). */
export function snapshot(dir: string): Snapshot {
  const out: Snapshot = new Map();
  const walk = (path: string, rel: string) => {
    const st = lstatSync(path);
    if (st.isDirectory()) {
      out.set(rel, "dir");
      for (const e of readdirSync(path)) walk(join(path, e), rel ? `${rel}/${e}` : e);
    } else if (st.isFile())
      out.set(rel, `file ${st.size} ${createHash("sha1").update(readFileSync(path)).digest("hex")}`);
    else out.set(rel, st.isSymbolicLink() ? "link" : "special");
  };
  walk(dir, "");
  return out;
}

const isJson = (line: string) => {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
};

const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

/** The problems with one case's run; empty when it passed. */
export function judge(
  c: FuzzCase,
  result: Reply | { crashed: string } | { timedOut: true },
  before: Snapshot,
  after: Snapshot,
  limits: Limits,
  work: string,
): string[] {
  if ("timedOut" in result) return [`no answer within ${limits.timeMs} ms (a hang)`];
  if ("crashed" in result) return [result.crashed];
  const problems: string[] = [];
  if (![0, 1, 2].includes(result.code)) problems.push(`exit ${result.code}`);
  if (result.err.includes("internal error")) problems.push("an internal error");
  if (STACK_FRAME.test(result.err)) problems.push("a stack trace");
  if (result.rss > limits.rssBytes)
    problems.push(`the worker's memory reached ${(result.rss / 2 ** 20).toFixed(0)} MiB`);
  for (const [path, was] of before) {
    const now = after.get(path);
    const inWork = path === "work" || path.startsWith("work/");
    if (c.replaces?.test(path)) continue;
    // Outside work/ nothing may change; inside it, no input file may change or vanish.
    if (!inWork && now !== was)
      problems.push(`${path} outside the scratch folder changed (${was} -> ${now ?? "gone"})`);
    if (inWork && was !== "dir" && now !== was) problems.push(`the input ${path} changed (${was} -> ${now ?? "gone"})`);
    if (inWork && was === "dir" && now === undefined) problems.push(`the folder ${path} was removed`);
  }
  for (const path of after.keys()) {
    if (before.has(path)) continue;
    if (/\.tmp(\/|$)/.test(path)) problems.push(`a temporary file was left behind: ${path}`);
    else if (!path.startsWith("work/") && !c.mayAdd?.test(path))
      problems.push(`${path} appeared outside the scratch folder`);
    else if (result.code !== 0 && c.keepsLog?.test(path)) {
      const torn = readFileSync(join(work, "..", path), "utf8")
        .split("\n")
        .filter((line) => line !== "" && !isJson(line));
      if (torn.length) problems.push(`${path} holds a line that is not a whole JSON record: ${torn[0].slice(0, 200)}`);
    } else if (result.code !== 0) problems.push(`${path} was left behind by a failed command`);
  }
  const extra = c.check?.({ code: result.code, err: result.err, work });
  if (extra) problems.push(extra);
  if (problems.length) problems.push(`stderr: ${result.err.slice(0, 600)}`);
  return problems;
}

export interface CaseOutcome {
  name: string;
  args: string[];
  problems: string[];
  ms: number;
}

/** Runs one case in a fresh folder under `root`; removes the folder afterwards unless it failed and `keepFailed`. */
export async function runCase(
  pool: WorkerPool,
  c: FuzzCase,
  index: number,
  root: string,
  templates: Templates,
  limits: Limits,
  keepFailed = false,
): Promise<CaseOutcome> {
  const caseRoot = join(root, `case-${index}`);
  const work = join(caseRoot, "work");
  mkdirSync(work, { recursive: true });
  mkdirSync(join(caseRoot, "sibling"));
  writeFileSync(join(caseRoot, "sibling", "keep.txt"), "not netc's\n");
  const ctx: Ctx = { work, templates, rnd: new Rng(index) };
  const args = c.setup(ctx);
  const before = snapshot(caseRoot);
  const started = performance.now();
  const result = await pool.run(work, args);
  const ms = performance.now() - started;
  const problems = judge(c, result, before, snapshot(caseRoot), limits, work);
  if (!problems.length || !keepFailed) rmSync(caseRoot, { recursive: true, force: true });
  return { name: c.name, args: args.map((a) => (a.length > 80 ? `${a.slice(0, 77)}...` : a)), problems, ms };
}

/** The compiled tiny model and bundle the cases copy, made once (by the worker, so with the code under test). */
export async function makeTemplates(pool: WorkerPool, root: string): Promise<Templates> {
  const dir = join(root, "templates");
  mkdirSync(dir, { recursive: true });
  const src = join(ROOT, "test/diagnostics/commands/files/tiny.net");
  const onnx = join(dir, "tiny.onnx");
  const bundle = join(dir, "bundle");
  const videoOnnx = join(dir, "tiny-video.onnx");
  for (const args of [
    ["compile", src, "--set", "B=1", "-o", onnx],
    ["compile", src, "--set", "B=1", "--target", "wgsl", "-o", bundle],
    ["compile", join(ROOT, "examples/tiny-video.net"), "-o", videoOnnx],
  ]) {
    const r = await pool.run(dir, args);
    if (!("code" in r) || r.code !== 0) throw new Error(`cannot make the fuzz templates: ${JSON.stringify(r)}`);
  }
  const dataset = join(dir, "dataset");
  makeSyntheticDataset(dataset, { clips: 3, frames: 8, width: 16, height: 16, folds: 1, seed: 0 });
  return { onnx, bundle, videoOnnx, dataset };
}
