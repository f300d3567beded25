// The fuzz cases: every finding of issue 14 as a fixed regression case, and seeded random cases (mutated `.net`
// sources, bad .npy / safetensors / checkpoints / bundle manifests, special files, risky output paths and flags).
// A case writes its inputs into its own scratch folder `work` and returns netc's arguments, run there.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { extname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { DataLocation, DataType, encodeModel, valueInfo } from "../../src/backends/onnx/proto.js";
import { uniforms } from "../../src/util/random.js";
import { command, commandNames, randomFlags } from "./flags.js";

/** An .npy header of an empty array whose other axis overflows every integer type. */
const HUGE_EMPTY_HEADER = "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 100000000000000000000), }";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
const FILES = join(ROOT, "test/diagnostics/commands/files");

/**
 * Ready-made inputs the harness builds once per run (compiled tiny models, a bundle, a dataset), outside every
 * case.
 */
export interface Templates {
  /** tiny.onnx, compiled from test/diagnostics/commands/files/tiny.net. */
  onnx: string;
  /** A WGSL bundle folder of the same model with B=1. */
  bundle: string;
  /** examples/tiny-video.net compiled to ONNX (random weights; its `preprocess { }` in the metadata). */
  videoOnnx: string;
  /** A synthetic dataset for it: clips/clip_NNN/frame_NNN.png, labels.csv (path,label), set_1/test.csv (DFEW style). */
  dataset: string;
}

export interface Ctx {
  work: string;
  templates: Templates;
  rnd: Rng;
}

export interface FuzzCase {
  name: string;
  /** Writes the inputs into ctx.work; returns netc's arguments (run with ctx.work as the working folder). */
  setup(ctx: Ctx): string[];
  /** Existing paths under work/ that the command may replace (its own earlier output), e.g. /^work\/b\//. */
  replaces?: RegExp;
  /** New paths outside work/ that the command may add (files written into an -o folder the case names there). */
  mayAdd?: RegExp;
  /** A resumable results log a failed command may leave (infer/eval record each clip as it ends); every line of it
   * must be a whole JSON record. */
  keepsLog?: RegExp;
  /** Extra checks on what netc printed and left; returns a problem or undefined. */
  check?(r: { code: number; err: string; work: string }): string | undefined;
}

export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = uniforms(seed);
  }
  float(): number {
    return this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// ---- input builders ----

export const put = (work: string, name: string, data: string | Uint8Array): string => {
  mkdirSync(join(work, name, ".."), { recursive: true });
  writeFileSync(join(work, name), data);
  return name;
};

export const fifo = (work: string, name: string): string => {
  execFileSync("mkfifo", [join(work, name)]);
  return name;
};

/** An ONNX model y = Identity(w) whose initializer w (f32[4]) is external data at `location`. */
export const onnxWithExternal = (work: string, location: string): string =>
  put(
    work,
    "m.onnx",
    encodeModel({
      irVersion: 8,
      opsetImport: [{ domain: "", version: 17 }],
      graph: {
        name: "g",
        node: [{ opType: "Identity", input: ["w"], output: ["y"] }],
        initializer: [
          {
            name: "w",
            dataType: DataType.FLOAT,
            dims: [4],
            dataLocation: DataLocation.EXTERNAL,
            externalData: [{ key: "location", value: location }],
          },
        ],
        output: [valueInfo("y", "f32", [4])],
      },
    }),
  );

export const tiny = (work: string, name = "tiny.net"): string => put(work, name, readFileSync(join(FILES, "tiny.net")));

export function npy(header: string, data: Uint8Array = new Uint8Array(0), version = 1): Uint8Array {
  const head = new TextEncoder().encode(header);
  const prefix = version === 1 ? 10 : 12;
  const out = new Uint8Array(prefix + head.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, head.length, true);
  else view.setUint32(8, head.length, true);
  out.set(head, prefix);
  out.set(data, prefix + head.length);
  return out;
}

export const goodNpy = () => npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4), }", new Uint8Array(16));

export function safetensors(header: unknown, data: Uint8Array = new Uint8Array(0), rawHeader?: string): Uint8Array {
  const head = new TextEncoder().encode(rawHeader ?? JSON.stringify(header));
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

/** Copies the template bundle to `name` and applies `edit` to its manifest (a parsed copy). */
export function bundle(
  ctx: Ctx,
  name: string,
  edit?: (m: Record<string, unknown>) => unknown,
  rawManifest?: string,
): string {
  cpSync(ctx.templates.bundle, join(ctx.work, name), { recursive: true });
  const path = join(ctx.work, name, "manifest.json");
  if (rawManifest !== undefined) writeFileSync(path, rawManifest);
  else if (edit) {
    const m = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    const replaced = edit(m);
    writeFileSync(path, JSON.stringify(replaced === undefined ? m : replaced));
  }
  return name;
}

const runBundle = (ctx: Ctx, name: string) => ["run", name, "-i", `x=${put(ctx.work, "x.npy", goodNpy())}`];

/** A sentinel folder beside the case's inputs that no command may touch. */
const keep = (work: string, name: string) => {
  put(work, `${name}/keep.txt`, "not netc's\n");
  return name;
};

// ---- the findings of issue 14, one case each ----

type M = Record<string, unknown> & {
  kernels: Record<string, unknown>[];
  buffers: Record<string, unknown>[];
  inputs: Record<string, unknown>[];
  outputs: Record<string, unknown>[];
};
const shardsOf = (m: M) => (m.weights as { shards: { file: string }[] }).shards;
const manifestCase = (name: string, edit: (m: M) => unknown): FuzzCase => ({
  name: `bundle manifest: ${name}`,
  setup: (ctx) => runBundle(ctx, bundle(ctx, "b", edit as never)),
});
/** The template bundle's first weight shard (a content-named file). */
const firstShard = (ctx: Ctx, b: string): string =>
  join(
    ctx.work,
    b,
    (
      JSON.parse(readFileSync(join(ctx.work, b, "manifest.json"), "utf8")) as M & {
        weights: { shards: { file: string }[] };
      }
    ).weights.shards[0].file,
  );
/** A bundle whose first weight shard is replaced by `bytes` (made from the good shard's). */
const shardCase = (name: string, bytes: (good: Uint8Array) => Uint8Array, code = "NET7051"): FuzzCase => ({
  name: `bundle weights: ${name}`,
  setup: (ctx) => {
    const b = bundle(ctx, "b");
    const shard = firstShard(ctx, b);
    writeFileSync(shard, bytes(readFileSync(shard)));
    return runBundle(ctx, b);
  },
  check: (r) =>
    r.code === 1 && r.err.includes(`error ${code}`) ? undefined : `a damaged shard must be refused with ${code}`,
});

const notContains = (text: string) => (r: { err: string }) =>
  r.err.includes(text) ? `the output leaks ${JSON.stringify(text)}` : undefined;

export const REGRESSIONS: FuzzCase[] = [
  // 1. data loss
  {
    name: "compile --target wgsl -o . keeps the working folder",
    setup: ({ work }) => ["compile", "--target", "wgsl", "--set", "B=1", tiny(work), "-o", "."],
  },
  {
    name: "compile --target wgsl -o '' keeps the working folder",
    setup: ({ work }) => ["compile", "--target", "wgsl", "--set", "B=1", tiny(work), "-o", ""],
  },
  {
    name: "compile --target wgsl -o a folder that is not a bundle",
    setup: ({ work }) => ["compile", "--target", "wgsl", "--set", "B=1", tiny(work), "-o", keep(work, "mine")],
  },
  {
    name: "compile --target wgsl -o .. keeps the parent",
    setup: ({ work }) => ["compile", "--target", "wgsl", "--set", "B=1", tiny(work), "-o", ".."],
  },
  {
    name: "compile --target wgsl -o ../sibling keeps a sibling folder",
    setup: ({ work }) => ["compile", "--target", "wgsl", "--set", "B=1", tiny(work), "-o", "../sibling"],
  },
  {
    name: "compile a.net -o a.net keeps the source",
    setup: ({ work }) => ["compile", tiny(work, "a.net"), "-o", "a.net"],
  },
  {
    name: "compile -o equal to --weights keeps the checkpoint",
    setup: ({ work }) => [
      "compile",
      tiny(work),
      "--weights",
      put(work, "w.pth", readFileSync(join(FILES, "tiny.pth"))),
      "-o",
      "w.pth",
    ],
  },
  {
    name: "weights import -o equal to the checkpoint",
    setup: ({ work }) => [
      "weights",
      "import",
      put(work, "w.pth", readFileSync(join(FILES, "tiny.pth"))),
      "--model",
      tiny(work),
      "-o",
      "w.pth",
    ],
  },
  {
    name: "compile --target wgsl -o a bundle holding the source",
    setup: (ctx) => [
      "compile",
      "--target",
      "wgsl",
      "--set",
      "B=1",
      tiny(ctx.work, `${bundle(ctx, "b")}/tiny.net`),
      "-o",
      "b",
    ],
  },
  {
    name: "compile --target wgsl replaces its own bundle",
    replaces: /^work\/b\//,
    setup: (ctx) => ["compile", "--target", "wgsl", "--set", "B=1", tiny(ctx.work), "-o", bundle(ctx, "b")],
    check: (r) => (r.code === 0 ? undefined : `exit ${r.code}: ${r.err}`),
  },
  { name: "graph -o the source", setup: ({ work }) => ["graph", tiny(work), "-o", "tiny.net", "--format", "dot"] },
  // 6. hangs and 3. unbounded reads: special files
  { name: "check a FIFO", setup: ({ work }) => ["check", fifo(work, "p.net")] },
  { name: "weights inspect a FIFO", setup: ({ work }) => ["weights", "inspect", fifo(work, "p.pth")] },
  {
    name: "compile --weights a FIFO",
    setup: ({ work }) => ["compile", tiny(work), "--weights", fifo(work, "p.pth"), "-o", "o.onnx"],
  },
  {
    name: "run --input a FIFO",
    setup: ({ work }) => ["run", tiny(work), "--set", "B=1", "-i", `x=${fifo(work, "p.npy")}`],
  },
  { name: "check /dev/zero", setup: () => ["check", "/dev/zero"] },
  { name: "weights inspect /dev/zero", setup: () => ["weights", "inspect", "/dev/zero"] },
  { name: "run --input /dev/zero", setup: ({ work }) => ["run", tiny(work), "--set", "B=1", "-i", "x=/dev/zero"] },
  { name: "compile -o /proc/x", setup: ({ work }) => ["compile", tiny(work), "-o", "/proc/x"] },
  {
    name: "compile --target wgsl -o /proc/x",
    setup: ({ work }) => ["compile", "--target", "wgsl", "--set", "B=1", tiny(work), "-o", "/proc/x"],
  },
  {
    name: "run -o .. writes nothing above the working folder",
    setup: ({ work }) => ["run", tiny(work), "--set", "B=1", "-i", `x=${put(work, "x.npy", goodNpy())}`, "-o", ".."],
  },
  { name: "inspect a folder as ONNX", setup: ({ work }) => ["inspect", keep(work, "d.onnx")] },
  // 7. leaks
  {
    name: "import /proc/self/environ",
    setup: ({ work }) => ["check", put(work, "a.net", 'import "/proc/self/environ"\n')],
    check: notContains("PATH="),
  },
  {
    name: "import /etc/passwd",
    setup: ({ work }) => ["check", put(work, "a.net", 'import "/etc/passwd"\n')],
    check: notContains("root:"),
  },
  { name: "check /proc/self/environ", setup: () => ["check", "/proc/self/environ"], check: notContains("PATH=") },
  {
    name: "check a binary file",
    setup: ({ work }) => ["check", put(work, "a.net", new Uint8Array([0x6d, 0x6f, 0, 1, 2, 0xff, 0xfe]))],
  },
  // 3. bundles not contained
  manifestCase("shard ../../ name", (m) => void (shardsOf(m)[0].file = "../../../../etc/passwd")),
  manifestCase("shard /proc/self/environ", (m) => void (shardsOf(m)[0].file = "/proc/self/environ")),
  manifestCase("shader /dev/zero", (m) => void ((m.shaders as { file: string }).file = "/dev/zero")),
  manifestCase("shard URL", (m) => void (shardsOf(m)[0].file = "file:///etc/passwd")),
  manifestCase(
    "200 buffers of 128 MiB",
    (m) => void (m.buffers = Array.from({ length: 200 }, () => ({ size: 128 * 2 ** 20 }))),
  ),
  {
    name: "bundle shader is a FIFO",
    setup: (ctx) => {
      const b = bundle(ctx, "b");
      const m = JSON.parse(readFileSync(join(ctx.work, b, "manifest.json"), "utf8")) as M;
      fifo(ctx.work, `${b}/p.wgsl`);
      (m.shaders as { file: string }).file = "p.wgsl";
      writeFileSync(join(ctx.work, b, "manifest.json"), JSON.stringify(m));
      return runBundle(ctx, b);
    },
  },
  {
    name: "bundle weight shard links to /dev/zero",
    setup: (ctx) => {
      const b = bundle(ctx, "b");
      execFileSync("ln", ["-sf", "/dev/zero", firstShard(ctx, b)]);
      return runBundle(ctx, b);
    },
  },
  // 4. malformed manifests and weights headers (were exit 70)
  { name: "bundle manifest: not JSON", setup: (ctx) => runBundle(ctx, bundle(ctx, "b", undefined, "{ not json")) },
  manifestCase("null", () => null),
  manifestCase("an array", () => []),
  manifestCase("kernels null", (m) => void (m.kernels = null as never)),
  manifestCase("a null kernel", (m) => void (m.kernels = [null as never])),
  manifestCase("a null buffer", (m) => void (m.buffers[0] = null as never)),
  manifestCase("a null input", (m) => void (m.inputs[0] = null as never)),
  manifestCase("negative buffer size", (m) => void (m.buffers[0].size = -4)),
  manifestCase("string buffer size", (m) => void (m.buffers[0].size = "48")),
  manifestCase("buffer size 1e20", (m) => void (m.buffers[0].size = 1e20)),
  manifestCase(
    "binding buffer out of range",
    (m) => void ((m.kernels[0].bindings as Record<string, unknown>[])[0].buffer = 99),
  ),
  manifestCase(
    "chunk buffer out of range",
    (m) => void ((m.outputs[0].chunks as Record<string, unknown>[])[0].buffer = -1),
  ),
  manifestCase("huge output shape", (m) => void (m.outputs[0].shape = [1e6, 1e6])),
  manifestCase("output shape of strings", (m) => void (m.outputs[0].shape = ["a"])),
  manifestCase("requiredLimits null", (m) => void (m.requiredLimits = null)),
  manifestCase("requiredLimits string", (m) => void (m.requiredLimits = { maxBufferSize: "big" })),
  manifestCase("requiredFeatures a string", (m) => void (m.requiredFeatures = "shader-f16")),
  manifestCase("missing kernels", (m) => void delete (m as Record<string, unknown>).kernels),
  manifestCase("missing weights", (m) => void delete m.weights),
  manifestCase("missing outputs", (m) => void delete (m as Record<string, unknown>).outputs),
  manifestCase("workgroups 1e9", (m) => void (m.kernels[0].workgroups = [1e9, 1, 1])),
  manifestCase("workgroups of two", (m) => void (m.kernels[0].workgroups = [1, 1])),
  manifestCase("an output named __proto__ twice", (m) => void (m.outputs = [m.outputs[0], m.outputs[0]])),
  shardCase("a flipped byte", (good) => good.map((v, i) => (i === 0 ? v ^ 1 : v))),
  shardCase("cut short", (good) => good.subarray(0, good.length - 4)),
  shardCase("4 bytes too many", (good) => Uint8Array.from([...good, 0, 0, 0, 0]), "NET7012"),
  shardCase("empty", () => new Uint8Array(0)),
  manifestCase(
    "a shard that is not a multiple of 4",
    (m) => void ((m.weights as { shardBytes: number }).shardBytes = 6),
  ),
  manifestCase(
    "a tensor past the shards",
    (m) => void ((m.weights as { tensors: { offset: number }[] }).tensors[0].offset = 1 << 30),
  ),
  manifestCase(
    "a shard outside the folder",
    (m) => void ((m.weights as { shards: { file: string }[] }).shards[0].file = "../../etc/passwd"),
  ),
  manifestCase(
    "a shader range past its file",
    (m) => void ((m.shaders as { sources: { bytes: number }[] }).sources[0].bytes = 1e9),
  ),
  // 5, 6. recursion and work bounds that are this helper's
  {
    name: ".npy header with 5,000 (",
    setup: ({ work }) => [
      "run",
      tiny(work),
      "--set",
      "B=1",
      "-i",
      `x=${put(work, "x.npy", npy(`{'descr': '<f4', 'fortran_order': False, 'shape': ${"(".repeat(5000)}, }`))}`,
    ],
  },
  {
    name: "--set with a deep value",
    setup: ({ work }) => ["check", tiny(work), "--set", `B=${"(".repeat(5000)}1${")".repeat(5000)}`],
  },
  {
    name: "--set __proto__=5",
    setup: ({ work }) => ["check", tiny(work), "--set", "__proto__=5"],
    check: (r) =>
      r.code === 1 && r.err.includes("__proto__")
        ? undefined
        : "--set __proto__ must be reported as an unknown parameter",
  },
  {
    name: "--threads 10000",
    setup: ({ work }) => [
      "run",
      tiny(work),
      "--set",
      "B=1",
      "--threads",
      "10000",
      "-i",
      `x=${put(work, "x.npy", goodNpy())}`,
    ],
  },
  {
    name: "--threads 1000000",
    setup: ({ work }) => [
      "run",
      tiny(work),
      "--set",
      "B=1",
      "--threads",
      "1000000",
      "-i",
      `x=${put(work, "x.npy", goodNpy())}`,
    ],
  },
  {
    name: "a block that declares a layer of its own type",
    setup: ({ work }) => [
      "check",
      put(
        work,
        "a.net",
        "block Loop(d: int)(x: f32[1, d]) -> f32[1, d] {\n  layer inner = Loop(d)\n  return x\n}\nmodel M()(x: " +
          "f32[1, 4]) -> f32[1, 4] {\n  layer l = Loop(4)\n  return l(x)\n}\n",
      ),
    ],
    check: (r) => (r.err.includes("NET3012") ? undefined : "expected the recursion diagnostic NET3012"),
  },
  {
    name: "did you mean: two 150k-character names",
    setup: ({ work }) => [
      "check",
      put(
        work,
        "a.net",
        `model M()(x: f32[1, 4]) -> f32[1, 4] {\n  let ${"a".repeat(150_000)} = x\n  return ` +
          `${"a".repeat(149_999)}b\n}\n`,
      ),
    ],
  },
  {
    name: "did you mean: 10k unknown names",
    setup: ({ work }) => [
      "check",
      put(
        work,
        "a.net",
        `model M()(x: f32[1, 4]) -> f32[1, 4] ` +
          `{\n${Array.from({ length: 10_000 }, (_, i) => `  let v${i} = x + unknown_${i}\n`).join("")}  return x\n}\n`,
      ),
    ],
  },
  // 8. smaller
  {
    name: "run -o an existing file",
    setup: ({ work }) => [
      "run",
      tiny(work),
      "--set",
      "B=1",
      "-i",
      `x=${put(work, "x.npy", goodNpy())}`,
      "-o",
      put(work, "out.txt", "mine\n"),
    ],
  },
  {
    name: "run -o file/child",
    setup: ({ work }) => [
      "run",
      tiny(work),
      "--set",
      "B=1",
      "-i",
      `x=${put(work, "x.npy", goodNpy())}`,
      "-o",
      `${put(work, "out.txt", "mine\n")}/child`,
    ],
  },
  {
    name: "run -o over its own input",
    setup: ({ work }) => [
      "run",
      tiny(work),
      "--set",
      "B=1",
      "-i",
      `x=${put(work, "output_0.npy", goodNpy())}`,
      "-o",
      ".",
    ],
  },
  {
    name: "an ONNX input of shape (0, 10^20)",
    setup: (ctx) => [
      "run",
      relative(ctx.work, ctx.templates.onnx),
      "-i",
      `x=${put(ctx.work, "x.npy", npy(HUGE_EMPTY_HEADER))}`,
    ],
  },
  {
    name: "5,000 nested ( in a .net",
    setup: ({ work }) => [
      "check",
      put(
        work,
        "a.net",
        `model M()(x: f32[1, 4]) -> f32[1, 4] {\n  return ${"(".repeat(5000)}x${")".repeat(5000)}\n}\n`,
      ),
    ],
  },
  {
    name: "5,000 nested [ in a .net",
    setup: ({ work }) => [
      "check",
      put(
        work,
        "a.net",
        `model M()(x: f32[1, 4]) -> f32[1, 4] {\n  let l = ${"[".repeat(5000)}1${"]".repeat(5000)}\n  return x\n}\n`,
      ),
    ],
  },
  {
    name: "5,000 unary - in fmt",
    setup: ({ work }) => [
      "fmt",
      "--check",
      put(work, "a.net", `model M()(x: f32[1, 4]) -> f32[1, 4] {\n  return ${"- ".repeat(5000)}x\n}\n`),
    ],
  },
  {
    name: "many syntax errors",
    setup: ({ work }) => [
      "check",
      put(work, "a.net", `model M()(x: f32[1, 4]) -> f32[1, 4] {\n${"  ) ) ) )\n".repeat(32_000)}}\n`),
    ],
  },
  {
    name: "a UTF-8 BOM",
    setup: ({ work }) => ["check", put(work, "a.net", `\ufeff${readFileSync(join(FILES, "tiny.net"), "utf8")}`)],
    check: (r) => (r.code === 0 ? undefined : `a BOM must be accepted (exit ${r.code})`),
  },
  {
    name: "200k tensors in a safetensors file",
    setup: ({ work }) => [
      "compile",
      tiny(work),
      "-o",
      "o.onnx",
      "--weights",
      put(
        work,
        "w.safetensors",
        safetensors(
          Object.fromEntries(
            Array.from({ length: 200_000 }, (_, i) => [`t${i}`, { dtype: "F32", shape: [0], data_offsets: [0, 0] }]),
          ),
        ),
      ),
    ],
  },
  {
    name: "safetensors dtype constructor (weights reader)",
    setup: ({ work }) => [
      "weights",
      "inspect",
      put(
        work,
        "w.safetensors",
        safetensors({ w: { dtype: "constructor", shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      ),
    ],
    check: (r) =>
      r.code === 1 && /NET6009.*"constructor"/.test(r.err)
        ? undefined
        : "dtype 'constructor' must be refused (NET6009)",
  },
  ...["/etc/passwd", "../../../../../../../../etc/passwd", "/proc/self/environ", "/dev/zero", "pipe"].map(
    (location): FuzzCase => ({
      name: `ONNX external data at ${location}`,
      setup: ({ work }) => {
        if (location === "pipe") fifo(work, "pipe");
        return ["run", onnxWithExternal(work, location)];
      },
      check: (r) =>
        r.code === 1 && r.err.includes("NET5006")
          ? undefined
          : "external data outside the model's folder must be refused (NET5006)",
    }),
  ),
  {
    name: "a checkpoint sharing one storage 2^22 times",
    setup: ({ work }) => [
      "weights",
      "inspect",
      put(work, "w.pth", readFileSync(join(ROOT, "test/fixtures/weights/budget_fanout.pth"))),
    ],
    check: (r) => (r.code === 1 && /NET6017/.test(r.err) ? undefined : "the fan-out budget (NET6017) must stop it"),
  },
  // Found by the dataset cases (session 5): frames, results files and Triton configurations were opened without
  // the regular-file check, so a FIFO under their names blocked netc forever.
  {
    name: "infer: a FIFO among a clip's frames",
    keepsLog: /^work\/r\.jsonl$/,
    setup: (ctx) => {
      cpSync(ctx.templates.dataset, join(ctx.work, "data"), { recursive: true });
      const frame = "data/clips/clip_000/frame_002.png";
      rmSync(join(ctx.work, frame));
      fifo(ctx.work, frame);
      return [
        "infer",
        put(ctx.work, "video.onnx", readFileSync(ctx.templates.videoOnnx)),
        "data/labels.csv",
        "-o",
        "r.jsonl",
      ];
    },
    check: (r) => (/NET8030.*FIFO/.test(r.err) ? undefined : "the clip with a FIFO frame must be a warning (NET8030)"),
  },
  {
    name: "infer -o a FIFO",
    setup: (ctx) => {
      cpSync(ctx.templates.dataset, join(ctx.work, "data"), { recursive: true });
      return [
        "infer",
        put(ctx.work, "video.onnx", readFileSync(ctx.templates.videoOnnx)),
        "data/labels.csv",
        "-o",
        fifo(ctx.work, "r.jsonl"),
      ];
    },
  },
  // Long names: the temporary sibling once added ~25 bytes to a name of up to 255, and a name over 255 reached a
  // rename unchecked (exit 70).
  {
    name: "compile -o a 245-character file name",
    setup: ({ work }) => ["compile", tiny(work), "-o", `${"x".repeat(240)}.onnx`],
    check: (r) => (r.code === 0 ? undefined : `a 245-character name is a valid file name: exit ${r.code}`),
  },
  {
    name: "compile --target wgsl -o a 300-character folder name",
    setup: ({ work }) => ["compile", "--target", "wgsl", "--set", "B=1", tiny(work), "-o", "y".repeat(300)],
    check: (r) => (/NET8004/.test(r.err) ? undefined : "a name over 255 bytes must be NET8004"),
  },
  {
    name: "export triton --name of 300 characters",
    setup: ({ work }) => {
      mkdirSync(join(work, "repo"));
      return ["export", "triton", tiny(work), "-o", "repo", "--name", "w".repeat(300)];
    },
    check: (r) => (r.code === 2 ? undefined : `a name over 255 characters is a usage error, got exit ${r.code}`),
  },
  {
    name: "export triton over a model folder whose config.pbtxt is a FIFO",
    setup: ({ work }) => {
      mkdirSync(join(work, "repo/video"), { recursive: true });
      fifo(work, "repo/video/config.pbtxt");
      return ["export", "triton", tiny(work, "video.net"), "-o", "repo"];
    },
  },
];

// ---- seeded random cases ----

/** The .net files the mutators start from: models, the standard library, examples and test cases. */
export function seedSources(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? e.name === "node_modules"
          ? []
          : walk(join(dir, e.name))
        : e.name.endsWith(".net")
          ? [join(dir, e.name)]
          : [],
    );
  return ["models", "stdlib", "examples", "test"].flatMap((d) => walk(join(ROOT, d))).sort();
}

const TOKENS = [
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ",",
  "=",
  "->",
  ":",
  "layer",
  "param",
  "block",
  "model",
  "return",
  "for",
  "in",
  "0..",
  "if",
  "-",
  "*",
  "@",
  ".T",
  "f32[",
  "B",
  '"',
  "/*",
  "//",
  "\n",
  'import "std/nn.net"',
  "1e999",
  "9".repeat(30),
  "\u00e9",
  "preprocess {",
  "frames = 8",
  'labels = ["a", "b"]',
  '"b c t -> (b t) c"',
  "rearrange(",
  "\ufeff",
  "\0",
];

/** A few random edits: deletions, duplications, insertions of tokens, swaps and nestings. */
export function mutateSource(text: string, rnd: Rng): string {
  let s = text;
  const edits = 1 + rnd.int(4);
  for (let e = 0; e < edits; e++) {
    const at = rnd.int(s.length + 1);
    const len = rnd.int(Math.min(200, s.length - at) + 1);
    switch (rnd.int(6)) {
      case 0:
        s = s.slice(0, at) + s.slice(at + len);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at, at + len).repeat(1 + rnd.int(3)) + s.slice(at);
        break;
      case 2:
        s = s.slice(0, at) + rnd.pick(TOKENS) + s.slice(at);
        break;
      case 3: {
        const other = rnd.int(s.length + 1);
        s = s.slice(0, at) + s.slice(other, other + len) + s.slice(at);
        break;
      }
      case 4: {
        const depth = 1 + rnd.int(60);
        s = s.slice(0, at) + "(".repeat(depth) + s.slice(at, at + len) + ")".repeat(depth) + s.slice(at + len);
        break;
      }
      default:
        s = s.slice(0, at) + String(rnd.pick([0, -1, 1e9, 2 ** 53, 3.5, 1e-300])) + s.slice(at + len);
    }
  }
  return s;
}

const WILD_VALUES: unknown[] = [
  null,
  -1,
  0,
  1e20,
  "x",
  "../x",
  "/etc/passwd",
  [],
  {},
  true,
  2 ** 31,
  4.5,
  "__proto__",
  [1e9, 1e9],
  { size: -1 },
];

/** Sets one random field somewhere in a JSON value to a wild value (or deletes it). */
function mutateJson(value: unknown, rnd: Rng): unknown {
  if (value === null || typeof value !== "object" || rnd.chance(0.15)) return rnd.pick(WILD_VALUES);
  const keys = Object.keys(value);
  if (keys.length === 0) return rnd.pick(WILD_VALUES);
  const key = rnd.pick(keys);
  const copy: Record<string, unknown> = Array.isArray(value)
    ? ([...value] as never)
    : { ...(value as Record<string, unknown>) };
  if (rnd.chance(0.1) && !Array.isArray(value)) delete copy[key];
  else copy[key] = mutateJson((value as Record<string, unknown>)[key], rnd);
  return copy;
}

function flipBytes(bytes: Uint8Array, rnd: Rng): Uint8Array {
  const out = bytes.slice(0, rnd.chance(0.3) ? rnd.int(bytes.length + 1) : bytes.length);
  for (let i = 1 + rnd.int(8); i > 0 && out.length; i--) out[rnd.int(out.length)] = rnd.int(256);
  return out;
}

const OUTPUT_PATHS = [
  ".",
  "",
  "..",
  "../sibling",
  "./",
  "sub/..",
  "existing.txt",
  "existing.txt/child",
  "mine",
  "tiny.net",
  "x.npy",
  "/proc/x",
  "/dev/null",
  "deep/missing/out",
  "out",
  "-",
];

/** A copy of the template dataset in work/data with one thing broken; returns the manifest infer/eval will read. */
function brokenDataset(ctx: Ctx): string {
  const { work, rnd } = ctx;
  cpSync(ctx.templates.dataset, join(work, "data"), { recursive: true });
  const clips = readdirSync(join(work, "data/clips")).sort();
  const clip = join("data/clips", rnd.pick(clips));
  const frames = readdirSync(join(work, clip)).sort();
  const frame = join(clip, rnd.pick(frames));
  const manifest = rnd.pick(["data/labels.csv", "data/set_1/test.csv", "data/labels.json"]);
  if (manifest === "data/labels.json") {
    const rows = readFileSync(join(work, "data/labels.csv"), "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => {
        const [path, label] = line.split(",");
        return { path, label };
      });
    put(work, manifest, JSON.stringify(rnd.chance(0.7) ? mutateJson(rows, rnd) : rows));
  }
  switch (rnd.int(7)) {
    case 0: // a frame's bytes damaged
      writeFileSync(join(work, frame), flipBytes(readFileSync(join(work, frame)), rnd));
      break;
    case 1: // a frame cut short or emptied
      writeFileSync(join(work, frame), readFileSync(join(work, frame)).subarray(0, rnd.int(60)));
      break;
    case 2: // a frame that is a folder, a FIFO, or a JPEG's name on PNG bytes
      {
        const png = readFileSync(join(work, frame));
        rmSync(join(work, frame));
        const replacement = rnd.pick(["folder", "fifo", "jpg"]);
        if (replacement === "folder") mkdirSync(join(work, frame));
        else if (replacement === "fifo") fifo(work, frame);
        else put(work, frame.replace(/\.png$/, ".jpg"), png);
        break;
      }
    case 3: // a clip with no frames, or a clip folder that is a file
      rmSync(join(work, clip), { recursive: true });
      if (rnd.chance(0.5)) mkdirSync(join(work, clip));
      else put(work, clip, "not a clip\n");
      break;
    case 4: // the manifest's text edited
      if (manifest !== "data/labels.json")
        writeFileSync(join(work, manifest), mutateSource(readFileSync(join(work, manifest), "utf8"), rnd));
      break;
    case 5: // rows naming clips outside the dataset, absurd labels, odd columns
      if (manifest !== "data/labels.json")
        writeFileSync(
          join(work, manifest),
          `${readFileSync(join(work, manifest), "utf8")}${rnd.pick([
            "../../../etc,1\n",
            "/proc/self,happy\n",
            "clips/clip_000,99999999999999999999\n",
            "clips/clip_000,-1\n",
            "clips/clip_000,__proto__\n",
            "clips/clip_000\n",
            ",,,,\n",
            `"clips/clip_000,1\n`,
            "clips/clip_000,1,extra,columns\n",
          ])}`,
        );
      break;
    default: // a video file that is not a video
      put(work, "data/clips/clip_999.mp4", flipBytes(new Uint8Array(64), rnd));
      writeFileSync(join(work, "data/labels.csv"), `path,label\nclips/clip_999.mp4,happy\n`);
  }
  return manifest;
}

/** A file for a command's positional argument, by the name the CLI gives the argument (`<model>`, `<clips...>`). */
function argumentFile(name: string, ctx: Ctx): string {
  const { work, rnd } = ctx;
  switch (name) {
    case "file":
    case "files":
      return tiny(work);
    case "model":
      return rnd.pick([
        () => tiny(work),
        () => put(work, "tiny.onnx", readFileSync(ctx.templates.onnx)),
        () => put(work, "video.onnx", readFileSync(ctx.templates.videoOnnx)),
      ])();
    case "clips":
      cpSync(ctx.templates.dataset, join(work, "data"), { recursive: true });
      return "data/labels.csv";
    case "checkpoint":
    case "checkpoints":
      return put(work, "w.pth", readFileSync(join(FILES, "tiny.pth")));
    default:
      throw new Error(`the fuzzer has no file for a command's <${name}>: add one to argumentFile`);
  }
}

/**
 * A command of the CLI with its arguments, its required options and up to three random flags, all read from its
 * definition. `lsp` is left out: it serves its client until stdin closes.
 */
function anyCommandCase(name: string, rnd: Rng): FuzzCase {
  const words = rnd.pick(commandNames().filter((c) => c !== "lsp"));
  return {
    name: `${name}: netc ${words} with random flags`,
    // infer's results log, resumable (a failed run may leave the clips it finished)
    keepsLog: words === "infer" ? /^work\/out$/ : undefined,
    setup: (ctx) => {
      const cmd = command(words);
      const files = [tiny(ctx.work), put(ctx.work, "x.npy", goodNpy())];
      const positional = cmd.registeredArguments.map((a) => argumentFile(a.name(), ctx));
      files.push(...positional);
      // A required option is given a good value: a new output, or the case's file of the extension it names.
      const required = cmd.options
        .filter((o) => o.mandatory)
        .flatMap((o) => [
          o.long!,
          o.long === "--output" ? "out" : (files.find((f) => o.flags.includes(extname(f))) ?? ""),
        ]);
      const flags = randomFlags(rnd, words, { except: required, paths: files, most: 3 });
      return [...words.split(" "), ...positional, ...required, ...flags];
    },
  };
}

/** One random case: `index` picks the kind, the seed everything else. */
export function randomCase(seed: number, sources: readonly string[]): FuzzCase {
  const rnd = new Rng(seed);
  const kind = rnd.int(11);
  const base = { name: `random #${seed}` };
  switch (kind) {
    case 0:
    case 1: {
      const source = rnd.pick(sources);
      return {
        name: `${base.name}: mutated ${relative(ROOT, source)}`,
        setup: ({ work }) => {
          const file = put(work, "m.net", mutateSource(readFileSync(source, "utf8"), rnd));
          return rnd.pick([
            ["check", file],
            ["check", file, "--format", "json"],
            ["fmt", "--check", file],
            ["inspect", file],
            ["graph", file],
            ["check", file, "--set", "B=2"],
          ]);
        },
      };
    }
    case 2:
      return {
        name: `${base.name}: bad .npy`,
        setup: ({ work }) => {
          const header = rnd.chance(0.5)
            ? mutateSource("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4), }", rnd)
            : "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4), }";
          const bytes = rnd.chance(0.5)
            ? flipBytes(npy(header, new Uint8Array(16), rnd.pick([1, 2, 3])), rnd)
            : npy(header, new Uint8Array(rnd.int(40)));
          return ["run", tiny(work), "--set", "B=1", "-i", `x=${put(work, "x.npy", bytes)}`];
        },
      };
    case 3:
      return {
        name: `${base.name}: bad safetensors`,
        setup: ({ work }) => {
          const header = mutateJson(
            {
              "fc.weight": { dtype: "F32", shape: [3, 4], data_offsets: [0, 48] },
              "fc.bias": { dtype: "F32", shape: [3], data_offsets: [48, 60] },
            },
            rnd,
          );
          const file = put(
            work,
            "w.safetensors",
            rnd.chance(0.3)
              ? flipBytes(safetensors(header, new Uint8Array(60)), rnd)
              : safetensors(header, new Uint8Array(60)),
          );
          return rnd.chance(0.5)
            ? ["weights", "inspect", file]
            : ["compile", tiny(work), "--weights", file, "-o", "out.onnx"];
        },
      };
    case 4:
      return {
        name: `${base.name}: bad bundle`,
        setup: (ctx) => {
          const b = bundle(ctx, "b", (m) => mutateJson(m, rnd));
          if (rnd.chance(0.3)) {
            const m = JSON.parse(readFileSync(join(ctx.work, b, "manifest.json"), "utf8"));
            const path = join(ctx.work, b, String(m?.weights?.shards?.[0]?.file ?? "missing"));
            if (existsSync(path)) writeFileSync(path, flipBytes(readFileSync(path), rnd));
          }
          return runBundle(ctx, b);
        },
      };
    case 5:
      return {
        name: `${base.name}: bad checkpoint`,
        setup: ({ work }) => {
          const file = put(work, "w.pth", flipBytes(readFileSync(join(FILES, "tiny.pth")), rnd));
          return rnd.chance(0.5)
            ? ["weights", "inspect", file]
            : ["compile", tiny(work), "--weights", file, "-o", "out.onnx"];
        },
      };
    case 6: {
      const command = rnd.int(5);
      const out = rnd.pick(OUTPUT_PATHS);
      return {
        name: `${base.name}: output path`,
        // An existing file that is not an input may be replaced by a file output, as with any compiler's -o.
        replaces: command === 2 ? /^work\/existing\.txt$/ : /^work\/(existing\.txt|x\.npy)$/,
        // `run -o ../sibling` adds its .npy files to that existing folder, as asked; it replaces nothing there.
        mayAdd: command === 2 ? /^sibling\/output_0\.npy$/ : undefined,
        setup: (ctx) => {
          const { work } = ctx;
          put(work, "existing.txt", "mine\n");
          keep(work, "mine");
          keep(work, "sub");
          const src = tiny(work);
          const x = put(work, "x.npy", goodNpy());
          return [
            ["compile", src, "-o", out],
            ["compile", "--target", "wgsl", "--set", "B=1", src, "-o", out],
            ["run", src, "--set", "B=1", "-i", `x=${x}`, "-o", out],
            ["graph", src, "--format", "dot", "-o", out],
            ["weights", "import", put(work, "w.pth", readFileSync(join(FILES, "tiny.pth"))), "--model", src, "-o", out],
          ][command];
        },
      };
    }
    case 8:
      return {
        name: `${base.name}: bad dataset`,
        keepsLog: /^work\/r\.jsonl$/,
        setup: (ctx) => {
          const manifest = brokenDataset(ctx);
          const model = put(ctx.work, "video.onnx", readFileSync(ctx.templates.videoOnnx));
          const command = rnd.chance(0.5) ? "eval" : "infer";
          const flags = rnd.chance(0.5)
            ? []
            : randomFlags(rnd, command, {
                except: ["--output", "--clips", "--json", "--svg"],
                paths: ["data", "data/clips", "data/labels.csv"],
              });
          // The DFEW-style fold names clip folders relative to the clips' folder.
          if (manifest === "data/set_1/test.csv" && !flags.includes("--root")) flags.push("--root", "data/clips");
          if (command === "eval")
            return [
              "eval",
              model,
              "--clips",
              manifest,
              "-o",
              "r.jsonl",
              "--json",
              "m.json",
              "--svg",
              "m.svg",
              ...flags,
            ];
          return ["infer", model, manifest, "-o", "r.jsonl", ...flags];
        },
      };
    case 9: {
      const out = rnd.pick(["repo", "repo/sub", "existing.txt", ".", "..", "/dev/null", "data.onnx"]);
      return {
        name: `${base.name}: export triton`,
        replaces: /^work\/existing\.txt$/,
        // `-o ..` names the case's own folder as the repository: the model's folder is added there, as asked.
        mayAdd: out === ".." ? /^(video|ok|con|all|x+)(\/|$)/ : undefined,
        setup: ({ work }) => {
          put(work, "existing.txt", "mine\n");
          keep(work, "repo/other_model");
          const source = readFileSync(join(ROOT, "examples/tiny-video.net"), "utf8");
          const file = put(work, "video.net", rnd.chance(0.6) ? mutateSource(source, rnd) : source);
          const extra = rnd.chance(0.2) ? [] : randomFlags(rnd, "export triton", { except: ["--output"] });
          return ["export", "triton", file, "-o", out, ...extra];
        },
      };
    }
    case 10:
      return anyCommandCase(base.name, rnd);
    default:
      return {
        name: `${base.name}: special files and flags`,
        setup: ({ work }) => {
          const special = rnd.pick([
            "/dev/zero",
            "/dev/null",
            "/proc/self/environ",
            "/proc/self/status",
            ".",
            "missing",
            "FIFO",
          ]);
          const path = special === "FIFO" ? fifo(work, "p") : special;
          const src = tiny(work);
          return rnd.pick([
            ["check", path],
            ["fmt", "--check", path],
            ["weights", "inspect", path],
            ["inspect", path],
            ["run", path],
            ["compile", src, "--weights", path, "-o", "o.onnx"],
            ["run", src, "--set", "B=1", "-i", `x=${path}`],
            [
              "run",
              src,
              "--set",
              `B=${rnd.pick(["0", "-1", "1e9", "x", "(", "__proto__", "[1]", "1".repeat(5000)])}`,
              "-i",
              `x=${put(work, "x.npy", goodNpy())}`,
              ...randomFlags(rnd, "run", { except: ["--output", "--set", "--input"] }),
            ],
            [
              "check",
              src,
              "--set",
              `${rnd.pick(["__proto__", "constructor", "B", "toString"])}=${rnd.pick(["1", "5", "()"])}`,
            ],
          ]);
        },
      };
  }
}
