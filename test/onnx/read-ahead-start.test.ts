// How the read-ahead threads start in each way netc runs: from the TypeScript sources under vitest and under the tsx
// CLI (through read-ahead-worker-from-source.mjs, with no loader of the parent's or of the working folder's), and,
// when their program is missing (a bundle of the writer without it) or cannot load, the writer's thread making the
// same bytes alone with warning NET8013. The built package's threads: tools/package-check.sh.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { compileFile } from "../../src/index.js";
import { readAhead } from "../../src/util/read-ahead.js";
import { drawnTensors, sameBytes, until, untilThreadsMade } from "./read-ahead/helpers.js";

const ROOT = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "netc-read-ahead-start-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MODEL = `import "std/nn.net"

model Two()(x: f32[B, 512]) -> (y: f32[B, 512]) {
  layer a = Linear(512, 512)
  layer b = Linear(512, 512)
  return b(a(x))
}
`;

/**
 * readAhead from a copy of src/util in `<dir>/<name>/util`, outside the repository (so its bootstrap finds no tsx),
 * with the threads' bootstrap replaced by `bootstrap` when given.
 */
async function readAheadFromCopy(name: string, bootstrap?: string): Promise<typeof readAhead> {
  const util = join(dir, name, "util");
  cpSync(join(ROOT, "src", "util"), util, { recursive: true });
  if (bootstrap !== undefined) writeFileSync(join(util, "read-ahead-worker-from-source.mjs"), bootstrap);
  return ((await import(join(util, "read-ahead.ts"))) as typeof import("../../src/util/read-ahead.js")).readAhead;
}

describe("read-ahead threads from the sources", () => {
  it("load their program under vitest and make weights, the same bytes as each tensor's read", async () => {
    const tensors = drawnTensors(12, 300_000);
    const ahead = readAhead(tensors, { threads: 2, windowBytes: 1 });
    try {
      await untilThreadsMade(ahead);
      expect(ahead.report()).toMatchObject({ threads: 2, unavailable: undefined });
      expect(ahead.report().byThreads).toBeGreaterThan(0);
      expect(sameBytes(ahead, tensors)).toBe(true);
    } finally {
      ahead.close();
    }
  });

  it("load under the tsx CLI, ignoring a tsx in the working folder and NODE_OPTIONS' loader", () => {
    // A decoy tsx where `--import tsx` would find it: it kills any worker thread that loads it.
    const cwd = join(dir, "decoy");
    mkdirSync(join(cwd, "node_modules", "tsx"), { recursive: true });
    writeFileSync(
      join(cwd, "node_modules", "tsx", "package.json"),
      JSON.stringify({ name: "tsx", type: "module", exports: { ".": "./loader.mjs" } }),
    );
    writeFileSync(
      join(cwd, "node_modules", "tsx", "loader.mjs"),
      'import { isMainThread } from "node:worker_threads";\nif (!isMainThread) throw new Error("decoy loader");\n',
    );
    const out = execFileSync(
      process.execPath,
      [join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), join(ROOT, "test", "onnx", "read-ahead", "probe.ts")],
      { cwd, env: { ...process.env, NODE_OPTIONS: "--import tsx" }, encoding: "utf8" },
    );
    const report = JSON.parse(out.trim().split("\n").at(-1)!);
    expect(report).toMatchObject({ threads: 2, started: 2, same: true });
    expect(report.unavailable).toBeUndefined();
    expect(report.byThreads).toBeGreaterThan(0);
  });

  it("that cannot load their program (no tsx beside it): the writer's thread makes the bytes, says why", async () => {
    // The util folder alone, outside the repository: its bootstrap finds no tsx to load read-ahead-worker.ts with.
    const loneReadAhead = await readAheadFromCopy("lone");
    const tensors = drawnTensors(6, 300_000);
    const ahead = loneReadAhead(tensors, { threads: 2, windowBytes: 1 });
    try {
      await until(ahead, (r) => !!r.unavailable);
      expect(ahead.report().unavailable).toMatch(
        /^the read-ahead threads could not load their program: Error: Cannot find module 'tsx\/cjs\/api'/,
      );
      expect(sameBytes(ahead, tensors)).toBe(true);
      expect(ahead.report()).toMatchObject({ started: 0, byThreads: 0, byWriter: 6 * 2 });
    } finally {
      ahead.close();
    }
  });
  it("that die before they begin, without a word: after 10 s the report says none began", async () => {
    const silentReadAhead = await readAheadFromCopy("silent", "process.exit(0);\n");
    const tensors = drawnTensors(2, 300_000);
    const ahead = silentReadAhead(tensors, { threads: 2, windowBytes: 1 });
    try {
      expect(sameBytes(ahead, tensors)).toBe(true);
      expect(ahead.report().unavailable).toBeUndefined(); // too early to tell a thread that died from a slow one
      await until(ahead, (r) => !!r.unavailable, 20_000);
      expect(ahead.report()).toMatchObject({ started: 0, byThreads: 0, byWriter: 4 });
      expect(ahead.report().unavailable).toMatch(/^no read-ahead thread had begun after 1\d s of writing$/);
    } finally {
      ahead.close();
    }
  });
  it("one that dies in the middle of a piece: after 10 s with no progress the writer makes the rest", async () => {
    // A thread that claims the first task and stops without making it (as one killed for memory would). It claims
    // before it counts itself started, so once the report says started the task is the thread's, not the writer's.
    const dyingReadAhead = await readAheadFromCopy(
      "dying",
      [
        'import { workerData } from "node:worker_threads";',
        "const control = new Int32Array(workerData.control);",
        "Atomics.add(control, workerData.words.next, 1);",
        "Atomics.add(control, workerData.words.started, 1);",
        "",
      ].join("\n"),
    );
    const tensors = drawnTensors(2, 300_000);
    const ahead = dyingReadAhead(tensors, { threads: 1, windowBytes: 1 });
    try {
      // Else the writer may make every piece before the thread starts (a busy machine), and nothing stalls.
      await until(ahead, (r) => r.started === 1, 20_000);
      expect(ahead.report().started).toBe(1);
      const begun = performance.now();
      expect(sameBytes(ahead, tensors)).toBe(true);
      expect(performance.now() - begun).toBeGreaterThanOrEqual(9_900);
      expect(ahead.report()).toMatchObject({ started: 1, byThreads: 0 });
      expect(ahead.report().unavailable).toBe(
        "a read-ahead thread stopped in the middle of a piece (no progress in 10 s)",
      );
    } finally {
      ahead.close();
    }
  }, 45_000);
});

describe("a bundle of the writer", () => {
  it("with the threads' program bundled as an entry of its own beside it: the threads run", async () => {
    const app = join(dir, "with-worker");
    await build({
      entryPoints: {
        probe: join(ROOT, "test", "onnx", "read-ahead", "probe.ts"),
        "read-ahead-worker": join(ROOT, "src", "util", "read-ahead-worker.ts"),
      },
      outdir: app,
      bundle: true,
      platform: "node",
      format: "esm",
      logLevel: "error",
    });
    writeFileSync(join(app, "package.json"), JSON.stringify({ type: "module" }));
    const report = JSON.parse(execFileSync(process.execPath, [join(app, "probe.js")], { encoding: "utf8" }));
    expect(report).toMatchObject({ threads: 2, started: 2, same: true });
    expect(report.byThreads).toBeGreaterThan(0);
  });

  it("without the threads' program: the same model from the writer's thread, and NET8013 saying why", async () => {
    const model = join(dir, "two.net");
    writeFileSync(model, MODEL);
    const entry = join(dir, "entry.ts");
    writeFileSync(
      entry,
      `import { compileFile } from ${JSON.stringify(join(ROOT, "src", "index.ts"))};
const r = compileFile(process.argv[2], process.argv[3], { readAhead: { threads: 2 } });
console.log(JSON.stringify(r.diagnostics.map((d) => ({ code: d.code, message: d.message }))));
`,
    );
    const bundle = join(dir, "app", "bundle.mjs");
    await build({
      entryPoints: [entry],
      outfile: bundle,
      bundle: true,
      platform: "node",
      format: "esm",
      // CommonJS dependencies bundled into ESM call require: give them one.
      banner: {
        js:
          'import { createRequire as netcTestRequire } from "node:module";\n' +
          "const require = netcTestRequire(import.meta.url);",
      },
      external: ["onnxruntime-node", "onnxruntime-web", "webgpu", "pngjs", "jpeg-js"],
      logLevel: "error",
    });
    // The standard library beside the bundle, where netc looks for it (util/package-folder.ts). No package.json:
    // the version the model records is a constant in the bundle (util/version.ts).
    cpSync(join(ROOT, "stdlib"), join(dir, "app", "stdlib"), { recursive: true });
    const run = spawnSync(process.execPath, [bundle, model, join(dir, "bundled.onnx")], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    const diagnostics = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
    expect(diagnostics).toEqual([
      {
        code: "NET8013",
        message:
          "the read-ahead threads' program read-ahead-worker.js is not beside bundle.mjs: the weights were made on " +
          "the writer's thread",
      },
    ]);
    const alone = compileFile(model, join(dir, "alone.onnx"), { readAhead: { threads: 0 } });
    expect(alone.diagnostics).toEqual([]);
    expect(readFileSync(join(dir, "bundled.onnx")).equals(readFileSync(join(dir, "alone.onnx")))).toBe(true);
  });
});
