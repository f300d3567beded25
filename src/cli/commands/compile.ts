// `netc compile <file.net> --target onnx -o out.onnx [--weights ...] [--set ...]`.
import { writeOnnx } from "../../backends/onnx/index.js";
import { DEFAULT_MAX_BATCH, emitWgslBundle, runtimeBatchSymbol } from "../../backends/wgsl/index.js";
import { compileToGraph, type FrontendResult } from "../../compiler/compile.js";
import { CheckCodes } from "../../compiler/codes.js";
import { hasErrors, SourceMap } from "../../compiler/diagnostics.js";
import { displayPath, sourceFilePath } from "../../dsl/2-analyze/load.js";
import type { HostTensor } from "../../util/tensor.js";
import { loadModelWeights, parseWeightSpec } from "../../weights/model-weights.js";
import { WeightCodes } from "../../weights/codes.js";
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
  allowMissing: boolean;
  allowUnexpected: boolean;
  /** The weight report: every entry, or none (default: counts and the first lines of each list). */
  verbose?: boolean;
  quiet?: boolean;
}

/** Every file a compile reads (the sources it loaded, checkpoints, overrides): no output may be written over one. */
export function inputsOf(front: FrontendResult, opts: Pick<CompileOptions, "weights" | "override">): string[] {
  // Files by their path on disk (the standard library's are named `std/...` in spans), so no output replaces one.
  return [...(front.program?.files.map((f) => sourceFilePath(f.file)) ?? []), ...opts.weights.map((w) => parseWeightSpec(w).path), ...(opts.override ?? [])];
}

/**
 * Front end plus weights: shared by compile, run and weights import. Exits on errors. Progress goes to `progress`
 * (left open for the caller's next steps), else to a line of its own.
 */
export function compileWithWeights(
  file: string,
  opts: Pick<CompileOptions, "set" | "weights" | "override" | "allowMissing" | "allowUnexpected" | "verbose" | "quiet"> & Partial<Pick<CompileOptions, "tap" | "debugOutputs">>,
  progress?: Progress,
): { front: FrontendResult & { graph: NonNullable<FrontendResult["graph"]> }; weights?: Map<string, HostTensor>; inputs: string[] } {
  const own = progress ?? progressBar(`compiling ${file}`);
  try {
    return frontAndWeights(file, opts, own);
  } finally {
    if (!progress) own.done();
  }
}

function frontAndWeights(
  file: string,
  opts: Pick<CompileOptions, "set" | "weights" | "override" | "allowMissing" | "allowUnexpected" | "verbose" | "quiet"> & Partial<Pick<CompileOptions, "tap" | "debugOutputs">>,
  progress: Progress,
): { front: FrontendResult & { graph: NonNullable<FrontendResult["graph"]> }; weights?: Map<string, HostTensor>; inputs: string[] } {
  progress.phase(`compiling ${file}`);
  const text = readSource(file, new SourceMap());
  const front = compileToGraph(text, { file, overrides: parseSets(opts.set), taps: opts.tap, keepFileTaps: opts.debugOutputs === true });
  // With a checkpoint, the weight report accounts for the weights the forward never reads (NET6025, NET6020).
  const withWeights = opts.weights.length > 0;
  progress.clear();
  report(front.diagnostics.filter((d) => (hasErrors([d]) || d.severity === "warning") && !(withWeights && d.code === CheckCodes.UnusedParameter.code)), front.sources);
  if (!front.graph) throw new Error("compileToGraph returned no graph without an error");
  const inputs = [file, ...inputsOf(front, opts)];
  if (opts.weights.length === 0) return { front: front as never, inputs };
  progress.phase("loading weights");
  const loaded = loadModelWeights(front.graph, opts.weights.map(parseWeightSpec), front.weightRules, {
    allowMissing: opts.allowMissing,
    allowUnexpected: opts.allowUnexpected,
    overrides: opts.override,
    onProgress: progress.update,
  });
  progress.clear();
  const verbosity = opts.quiet ? "quiet" : opts.verbose ? "verbose" : "summary";
  const summary = loaded.report ? renderReport(loaded.report, { verbosity, strictness: opts }) : "";
  if (summary) process.stderr.write(summary + "\n");
  // The printed report lists the weights the forward never reads; NET6025 (for library callers) would repeat them.
  const shown = loaded.diagnostics.filter((d) => (verbosity === "quiet" ? d.severity !== "note" : !(summary && d.code === WeightCodes.UnusedWeightLoaded.code)));
  report(shown, front.sources);
  return { front: front as never, weights: loaded.weights, inputs };
}

export function compileCommand(file: string, opts: CompileOptions): void {
  const progress = progressBar(`compiling ${file}`);
  try {
    emit(file, opts, progress);
  } finally {
    progress.done();
  }
}

/** Taps become outputs under --debug-outputs (every `tap`) or --tap (the named ones). */
export const tapsWanted = (opts: { debugOutputs: boolean; tap?: string[] }): boolean => opts.debugOutputs || (opts.tap?.length ?? 0) > 0;

function emit(file: string, opts: CompileOptions, progress: Progress): void {
  const { front, weights, inputs } = compileWithWeights(file, opts, progress);
  progress.phase(opts.target === "wgsl" ? "generating WGSL kernels" : "writing ONNX");
  if (opts.target === "wgsl") {
    const symbol = runtimeBatchSymbol(front.graph);
    const max = opts.maxBatch ?? DEFAULT_MAX_BATCH;
    // The same source with the batch bound: each batch size's graph is the static model of that batch.
    const graphOf = (b: number) => {
      const bound = compileToGraph(readSource(file, new SourceMap()), { file, overrides: { ...parseSets(opts.set), [symbol!]: String(b) }, taps: opts.tap, keepFileTaps: opts.debugOutputs === true });
      if (!bound.graph) throw new Error(`the model does not compile with ${symbol}=${b}, though it does with ${symbol} symbolic`);
      return bound.graph;
    };
    const batch = symbol ? { symbol, max, graphOf } : undefined;
    const bundle = emitWgslBundle(front.graph, { weights, seed: opts.seed, debugOutputs: tapsWanted(opts), precision: opts.precision, outDir: opts.output, source: displayPath(file), inputs, batch });
    progress.clear();
    report(bundle.diagnostics, front.sources);
    const batches = symbol ? `, batch ${symbol} from 1 to ${max}` : "";
    process.stderr.write(`wrote ${opts.output}/ (${bundle.program!.manifest.kernels.length} kernels${batches})${weights ? "" : ` (random weights, seed ${opts.seed})`}\n`);
    return;
  }
  const diagnostics = writeOnnx(opts.output, front.graph, {
    opset: opts.opset,
    weights,
    seed: opts.seed,
    debugOutputs: tapsWanted(opts),
    source: displayPath(file),
    inputs,
    kernelLayoutWeights: opts.deploy,
  });
  progress.clear();
  report(diagnostics, front.sources);
  process.stderr.write(`wrote ${opts.output}${weights ? "" : ` (random weights, seed ${opts.seed})`}\n`);
}
