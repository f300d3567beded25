// `netc compile <file.net> --target onnx -o out.onnx [--weights ...] [--set ...]`.
import path from "node:path";
import type { OnnxDevice } from "../../backends/onnx/index.js";
import { DEFAULT_MAX_BATCH } from "../../backends/wgsl/index.js";
import type { Graph } from "../../compiler/ir/ir.js";
import { hasErrors, SourceMap } from "../../diagnostics/diagnostics.js";
import { WeightCodes } from "../../diagnostics/weight-codes.js";
import { emitToDisk, prepare, type Prepared } from "../../pipeline.js";
import { renderReport } from "../../weights/report.js";
import { parseSets, readSource, report } from "../io.js";
import { type Progress, progressBar } from "../progress.js";

export interface CompileOptions {
  target: "onnx" | "wgsl";
  precision: "f32" | "f16";
  output: string;
  set: string[];
  weights: string[];
  override?: string[];
  opset: number;
  /** The largest batch a WGSL bundle with a symbolic batch axis runs. */
  maxBatch?: number;
  seed: number;
  debugOutputs: boolean;
  /** `--tap`: intermediates to add as outputs (each value a comma-separated list). */
  tap: string[];
  /** `--deploy`: weights stored in kernel layout (see EmitOnnxOptions.kernelLayoutWeights). */
  deploy?: boolean;
  /** `--onnxruntime-ops`: onnxruntime's contrib ops where faster (see EmitOnnxOptions.onnxruntimeOps). */
  onnxruntimeOps?: boolean;
  /** WGSL: bytes per weight shard (`--shard-size`; default 4 MiB). */
  shardSize?: number;
  /** WGSL: also write the model as ONNX (`model.onnx`) for the runtime's fallback; `--no-fallback` is false. */
  fallback?: boolean;
  allowMissing: boolean;
  allowUnexpected: boolean;
  /** ONNX: weights as external data in a side file; `true` names it `<output>.data`. */
  externalData?: string | true;
  /** ONNX: every weight inside the model file. */
  singleFile?: boolean;
  /** ONNX: threads making the weights ahead of the writer (`--threads`). */
  threads?: number;
  /** Progress on stderr even when it is not a terminal. */
  progress?: boolean;
  /** Read each checkpoint tensor only when the output is written (see WeightOptions.streamWeights). */
  streamWeights?: boolean;
  /** The weight report: every entry, or none (default: counts and the first lines of each list). */
  verbose?: boolean;
  quiet?: boolean;
}

/**
 * Whether a `.net` model that netc runs in its own onnxruntime (run, infer, eval) is compiled with onnxruntime's
 * contrib ops: on the CPU, where they are checked; not on CUDA or `auto`, where they are not.
 */
export const onnxruntimeOpsOn = (device: OnnxDevice): boolean => device === "cpu";

/**
 * Front end plus weights (the driver's `prepare`): shared by compile, run and weights import. Exits on errors.
 * Progress goes to `progress` (left open for the caller's next steps), else to a line of its own.
 */
export function compileWithWeights(
  file: string,
  opts: Pick<
    CompileOptions,
    "set" | "weights" | "override" | "allowMissing" | "allowUnexpected" | "verbose" | "quiet"
  > &
    Partial<Pick<CompileOptions, "tap" | "debugOutputs" | "streamWeights" | "target" | "onnxruntimeOps">>,
  progress?: Progress,
): Prepared & { graph: Graph } {
  const own = progress ?? progressBar(`compiling ${file}`);
  try {
    return frontAndWeights(file, opts, own);
  } finally {
    if (!progress) own.done();
  }
}

function frontAndWeights(
  file: string,
  opts: Pick<
    CompileOptions,
    "set" | "weights" | "override" | "allowMissing" | "allowUnexpected" | "verbose" | "quiet"
  > &
    Partial<Pick<CompileOptions, "tap" | "debugOutputs" | "streamWeights" | "target" | "onnxruntimeOps">>,
  progress: Progress,
): Prepared & { graph: Graph } {
  progress.phase(`compiling ${file}`);
  const text = readSource(file, new SourceMap());
  const options = {
    file,
    target: opts.target,
    onnxruntimeOps: opts.onnxruntimeOps,
    overrides: parseSets(opts.set),
    taps: opts.tap,
    keepFileTaps: opts.debugOutputs === true,
    weights: opts.weights.length ? opts.weights : undefined,
    weightOverrides: opts.override,
    allowMissing: opts.allowMissing,
    allowUnexpected: opts.allowUnexpected,
    streamWeights: opts.streamWeights,
  };
  const prepared = prepare(text, options, {
    onFrontEnd: (diagnostics, sources) => {
      progress.clear();
      report(
        diagnostics.filter((d) => hasErrors([d]) || d.severity === "warning"),
        sources,
      );
    },
    onLoadingWeights: () => progress.phase("loading weights"),
    onProgress: progress.update,
  });
  if (!options.weights) return withGraph(prepared);
  progress.clear();
  const verbosity = opts.quiet ? "quiet" : opts.verbose ? "verbose" : "summary";
  const summary = prepared.weightReport ? renderReport(prepared.weightReport, { verbosity, strictness: opts }) : "";
  if (summary) process.stderr.write(`${summary}\n`);
  // The printed report lists the weights the forward never reads; NET6025 (for library callers) would repeat them.
  const shown = prepared.weightDiagnostics.filter((d) =>
    verbosity === "quiet" ? d.severity !== "note" : !(summary && d.code === WeightCodes.UnusedWeightLoaded.code),
  );
  report(shown, prepared.front.sources);
  return withGraph(prepared);
}

/** Every path without a graph reported an error, and report() exits on errors. */
function withGraph(prepared: Prepared): Prepared & { graph: Graph } {
  if (!prepared.graph) throw new Error("the driver returned no graph without an error");
  return prepared as Prepared & { graph: Graph };
}

export function compileCommand(file: string, opts: CompileOptions): void {
  const progress = progressBar(`compiling ${file}`, { force: opts.progress });
  try {
    emit(file, opts, progress);
  } finally {
    progress.done();
  }
}

/** Taps become outputs under --debug-outputs (every `tap`) or --tap (the named ones). */
export const tapsWanted = (opts: { debugOutputs: boolean; tap?: string[] }): boolean =>
  opts.debugOutputs || (opts.tap?.length ?? 0) > 0;

function emit(file: string, opts: CompileOptions, progress: Progress): void {
  // ONNX weights are streamed from their checkpoints into the file; a bundle's kernels need them all at once.
  const prepared = compileWithWeights(file, { ...opts, streamWeights: opts.target === "onnx" }, progress);
  progress.phase(opts.target === "wgsl" ? "generating WGSL kernels" : "writing ONNX");
  const emitted = {
    ...opts,
    debugOutputs: tapsWanted(opts),
    file,
    maxBatch: opts.maxBatch ?? DEFAULT_MAX_BATCH,
    // The default largest batch gives way to one the adapter's limits allow; one the user chose does not.
    fitMaxBatch: opts.maxBatch === undefined,
    shardBytes: opts.shardSize,
    externalData: opts.externalData === true ? `${path.basename(opts.output)}.data` : opts.externalData,
    onWriteProgress: (done: number, total: number) =>
      progress.update(done, total, `${megabytes(done)} of ${megabytes(total)} MB`),
    readAhead: { threads: opts.threads },
  };
  const written = emitToDisk(prepared, opts.output, emitted);
  progress.clear();
  report(written.diagnostics, prepared.front.sources);
  const randomWeights = prepared.weights ? "" : ` (random weights, seed ${opts.seed})`;
  const batch = written.batch;
  const batches = batch ? `, batch ${batch.symbol} from 1 to ${batch.max}` : "";
  const sideFile = typeof emitted.externalData === "string" ? ` and ${emitted.externalData}` : "";
  process.stderr.write(
    opts.target === "wgsl"
      ? `wrote ${opts.output}/ (${written.kernels} kernels${batches}, ${written.shards} weight shards)` +
          `${randomWeights}\n`
      : `wrote ${opts.output}${sideFile}${randomWeights}\n`,
  );
}

const megabytes = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
