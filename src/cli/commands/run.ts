// `netc run <model.onnx|file.net> --input name=file.npy ... [-o outdir]`: runs with onnxruntime and writes .npy
// outputs.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { isAbsolute, join, relative } from "node:path";
import { type OnnxDevice, runOnnx } from "../../backends/onnx/index.js";
import { kernelClassOf } from "../../backends/wgsl/kernel-class.js";
import { emit } from "../../pipeline.js";
import { WgslCodes } from "../../diagnostics/wgsl-codes.js";
import { type KernelTiming, WgslRuntimeError } from "../../runtime/model.js";
import { runBundleDirWith } from "../../runtime/node.js";
import { CliCodes, makeDiagnostic } from "../../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError, SourceMap } from "../../diagnostics/diagnostics.js";
import { encodeNpy, readNpyFile } from "../../util/npy.js";
import { checkRegularFile, InputFileError } from "../../util/input-file.js";
import { checkFileSetPlace, writeFileSet } from "../../util/output.js";
import type { HostTensor } from "../../util/tensor.js";
import { report, usage } from "../io.js";
import { progressBar } from "../progress.js";
import { compileWithWeights, onnxruntimeOpsOn, tapsWanted } from "./compile.js";
import { parseWeightSpec } from "../../weights/model-weights.js";

export interface RunOptions {
  input: string[];
  output?: string;
  set: string[];
  weights: string[];
  override?: string[];
  threads: number;
  debugOutputs: boolean;
  /** `--tap`: intermediates of a .net model to write too (each value a comma-separated list). */
  tap: string[];
  profile: boolean;
  device: OnnxDevice;
  verbose?: boolean;
  quiet?: boolean;
}

function readInputs(specs: readonly string[], sources: SourceMap): Map<string, HostTensor> {
  const inputs = new Map<string, HostTensor>();
  const diagnostics: Diagnostic[] = [];
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    if (eq <= 0) usage(`--input expects name=file.npy, got '${spec}'`);
    const name = spec.slice(0, eq);
    const read = readNpyFile(spec.slice(eq + 1));
    if (read.ok) inputs.set(name, read.tensor);
    else diagnostics.push(read.diagnostic);
  }
  report(diagnostics, sources);
  return inputs;
}

const isBundleDir = (path: string) => existsSync(join(path, "manifest.json"));

/** Output names may hold `/` (taps inside layers); files get `.` instead. */
const fileNameOf = (name: string) => `${name.replace(/[/\\]/g, ".")}.npy`;

/** More intra-op threads than cores only slows a run down (and 10^6 of them never start): cap, with a note. */
function cappedThreads(threads: number, sources: SourceMap): number {
  const cores = availableParallelism();
  if (threads <= cores) return threads;
  report(
    [
      makeDiagnostic(
        CliCodes.ThreadsCapped,
        `--threads ${threads} is more than this machine's cores; running with one thread per core`,
      ),
    ],
    sources,
  );
  return cores;
}

export async function runCommand(model: string, opts: RunOptions): Promise<void> {
  let sources = new SourceMap();
  let modelInput: string | Uint8Array | undefined;
  const inputFiles = [
    model,
    ...opts.input.map((spec) => spec.slice(spec.indexOf("=") + 1)),
    ...opts.weights.map((w) => parseWeightSpec(w).path),
    ...(opts.override ?? []),
  ];
  if (model.endsWith(".net")) {
    const onnxruntimeOps = onnxruntimeOpsOn(opts.device);
    const prepared = compileWithWeights(model, {
      ...opts,
      allowMissing: false,
      allowUnexpected: false,
      onnxruntimeOps,
    });
    inputFiles.push(...prepared.inputs);
    sources = prepared.front.sources;
    const emitted = emit(prepared.graph, prepared.weights, {
      debugOutputs: tapsWanted(opts),
      file: model,
      onnxruntimeOps,
    });
    report(emitted.diagnostics, sources);
    modelInput = emitted.onnx!;
    const names = new Set(prepared.graph.inputs.map((i) => i.name));
    for (const spec of opts.input) {
      const name = spec.slice(0, Math.max(0, spec.indexOf("=")));
      if (name && !names.has(name))
        report(
          [
            makeDiagnostic(CliCodes.BadInputBinding, `the model has no input '${name}'`, undefined, {
              hint: `inputs: ${[...names].join(", ")}`,
            }),
          ],
          sources,
        );
    }
  } else if (opts.set.length || opts.weights.length)
    usage("--set and --weights apply to .net models; a compiled model already has its weights");
  else if (opts.tap.length)
    usage("--tap applies to .net models; compile with --tap to keep intermediates in a compiled model");
  const bundle = isBundleDir(model);
  if (bundle && opts.device !== "cpu")
    usage("--device chooses onnxruntime's execution provider; a WGSL bundle runs on the WebGPU adapter");
  if (opts.profile && !bundle)
    usage(
      "--profile times the kernels of a WGSL bundle (netc compile --target wgsl -o <dir>); for ONNX, " +
        "onnxruntime has its own profiler",
    );
  const threads = cappedThreads(opts.threads, sources);
  if (opts.output !== undefined) {
    try {
      checkFileSetPlace(opts.output, inputFiles, "the outputs");
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
      return report(e.diagnostics, sources);
    }
  }
  if (!bundle && !modelInput) {
    try {
      // onnxruntime opens the file itself (and its external data beside it): check it is a regular file first.
      checkRegularFile(model, Number.MAX_SAFE_INTEGER);
      modelInput = model;
    } catch (e) {
      if (!(e instanceof InputFileError)) throw e;
      return report([e.diagnostic], sources);
    }
  }
  const inputs = readInputs(opts.input, sources);
  const started = performance.now();
  let kernels: KernelTiming[] | undefined;
  let outputs: Map<string, HostTensor>;
  if (bundle) {
    let r;
    const progress = progressBar(`running ${model}`);
    try {
      r = await runBundleDirWith(model, Object.fromEntries(inputs), { profiling: opts.profile, progress });
    } catch (e) {
      if (!(e instanceof WgslRuntimeError)) throw e;
      progress.done();
      const code = Object.values(WgslCodes).find((c) => c.code === e.code) ?? WgslCodes.RuntimeFailed;
      return report([makeDiagnostic(code, e.message)], sources);
    } finally {
      progress.done();
    }
    outputs = new Map(Object.entries(r.outputs));
    kernels = r.kernels;
  } else
    outputs = await runOnnx(modelInput!, inputs, {
      threads,
      device: opts.device,
      onFallback: (note) => process.stderr.write(`note: --device auto: ${note}\n`),
    });
  const ms = performance.now() - started;
  if (opts.output !== undefined) {
    const files = [...outputs].map(([name, t]) => ({ name: fileNameOf(name), bytes: encodeNpy(t) }));
    try {
      writeFileSet(opts.output, files, inputFiles, "the outputs");
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
      return report(e.diagnostics, sources);
    }
  }
  for (const [name, t] of outputs) {
    const head = Array.from(t.data.slice(0, 6) as ArrayLike<number | bigint>, (x) =>
      typeof x === "bigint" ? String(x) : x.toPrecision(5),
    );
    process.stdout.write(
      `${name}: ${t.dtype}[${t.shape.join(", ")}] ${head.join(" ")}${t.data.length > 6 ? " ..." : ""}\n`,
    );
  }
  if (kernels) process.stdout.write(profileText(kernels));
  process.stderr.write(
    `ran in ${ms.toFixed(1)} ms (including ${bundle ? "device and pipeline" : "session"} creation)\n`,
  );
}

const SLOWEST_SHOWN = 15;

/**
 * The slowest kernels with their fused ops and `.net` origin, then the time, share and count per kernel class
 * (conv, matmul, attention, ...) and per anchor op.
 */
export function profileText(kernels: readonly KernelTiming[]): string {
  const total = kernels.reduce((s, k) => s + k.ms, 0);
  // A tiny model can run within the timer's resolution: no time to share out, so no shares.
  const pct = (ms: number) => (total > 0 ? `${((100 * ms) / total).toFixed(1).padStart(5)}%` : "     -");
  const lines = [`GPU time ${total.toFixed(2)} ms in ${kernels.length} kernels; the slowest:`];
  for (const k of [...kernels].sort((a, b) => b.ms - a.ms).slice(0, SLOWEST_SHOWN)) {
    const at = k.source
      ? `${isAbsolute(k.source.file) ? relative(process.cwd(), k.source.file) : k.source.file}:${k.source.line}:` +
        `${k.source.col}`
      : "";
    lines.push(
      `  ${k.ms.toFixed(3).padStart(9)} ms ${pct(k.ms)}  ${k.kernel}  ${k.ops.join("+")}  ` +
        `${at}${k.scope ? ` (${k.scope})` : ""}`,
    );
  }
  const summary = (title: string, keyOf: (k: KernelTiming) => string) => {
    const byKey = new Map<string, { ms: number; count: number }>();
    for (const k of kernels) {
      const sum = byKey.get(keyOf(k)) ?? { ms: 0, count: 0 };
      byKey.set(keyOf(k), { ms: sum.ms + k.ms, count: sum.count + 1 });
    }
    lines.push(title);
    for (const [key, { ms, count }] of [...byKey].sort((a, b) => b[1].ms - a[1].ms))
      lines.push(`  ${ms.toFixed(3).padStart(9)} ms ${pct(ms)}  ${key} (${count})`);
  };
  summary("by kernel class:", (k) => kernelClassOf(k.ops[0]));
  summary("by anchor op:", (k) => k.ops[0]);
  return `${lines.join("\n")}\n`;
}
