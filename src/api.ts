// The library API, covering what the command line does: compile to ONNX or to a WGSL bundle (in memory or to disk),
// import checkpoints, run a model (ONNX on onnxruntime-node, a bundle on the webgpu package) and inspect one.
// Bad input never throws from compile/importWeights/inspect: problems come back as diagnostics. `run` throws a
// DiagnosticError (the same diagnostics `netc run` prints).
import { existsSync } from "node:fs";
import { type OnnxDevice, runOnnx } from "./backends/onnx/index.js";
import { type OnnxSummary, summarizeOnnx } from "./backends/onnx/summary.js";
import type { Graph } from "./compiler/ir/ir.js";
import { makeDiagnostic, OnnxCodes } from "./diagnostics/codes.js";
import { InputFileError, readSourceFile } from "./util/input-file.js";
import { type Diagnostic, DiagnosticError, SourceMap } from "./diagnostics/diagnostics.js";
import { compileToGraph, type FrontendOptions, type FrontendResult } from "./driver.js";
import {
  type BackendOptions,
  emit,
  emitToDisk,
  type GraphSummary,
  prepare,
  type Prepared,
  summarizeGraph,
  type WeightOptions,
} from "./pipeline.js";
import type { WgslBundle } from "./runtime/manifest.js";
import type { HostTensor } from "./util/tensor.js";
import { readAll } from "./util/lazy-tensor.js";
import { displayPath } from "./util/source-paths.js";
import type { WeightReport } from "./weights/mapping.js";
import { IMPORTED_FOR_MODEL } from "./weights/model-weights.js";
import { writeSafetensors } from "./weights/safetensors.js";

export type { WeightOptions } from "./pipeline.js";

/** `target` "onnx" (default): `onnx` holds the model's bytes; "wgsl": `bundle` holds a WebGPU bundle. */
export interface CompileOptions extends FrontendOptions, WeightOptions, Omit<BackendOptions, "file"> {}

export interface CompileResult {
  /** The serialized ONNX model (target "onnx"); absent when there are errors. */
  onnx?: Uint8Array;
  /** The WebGPU bundle (target "wgsl"), ready for `run` or `WgslModel.create`; absent when there are errors. */
  bundle?: WgslBundle;
  graph?: Graph;
  weightReport?: WeightReport;
  diagnostics: Diagnostic[];
  /** Source texts, for renderDiagnostics. */
  sources: SourceMap;
}

/** The driver's front end and weights, as a CompileResult (the graph only when neither reported an error). */
function prepareResult(
  source: string,
  options: FrontendOptions & WeightOptions,
): { result: CompileResult; prepared: Prepared } {
  const prepared = prepare(source, options);
  return {
    result: {
      diagnostics: prepared.diagnostics,
      sources: prepared.front.sources,
      graph: prepared.front.graph,
      weightReport: prepared.weightReport,
    },
    prepared,
  };
}

/** `taps` named: those become outputs, with the file's own `tap`s only under `debugOutputs`. */
function withTaps<T extends CompileOptions>(options: T): T {
  if (!options.taps?.length) return options;
  return { ...options, keepFileTaps: options.debugOutputs === true, debugOutputs: true };
}

/** Compiles `.net` source text to an ONNX model or a WGSL bundle, in memory. */
export function compile(source: string, options: CompileOptions = {}): CompileResult {
  options = withTaps(options);
  const { result, prepared } = prepareResult(source, options);
  if (!prepared.graph) return result;
  const emitted = emit(prepared.graph, prepared.weights, options);
  result.diagnostics.push(...emitted.diagnostics);
  if (emitted.bundle) result.bundle = emitted.bundle;
  if (emitted.onnx) result.onnx = emitted.onnx;
  return result;
}

function readSource(file: string): { text?: string; diagnostics: Diagnostic[] } {
  try {
    return { text: readSourceFile(file), diagnostics: [] };
  } catch (e) {
    if (e instanceof InputFileError) return { diagnostics: [e.diagnostic] };
    throw e;
  }
}

/**
 * Compiles the `.net` file `file` and writes the result to `output`, as `netc compile` does: an ONNX file (weights
 * over 2 GiB go to a side file) or a bundle folder (replaced whole). Nothing is written when there are errors.
 */
export function compileFile(file: string, output: string, options: Omit<CompileOptions, "file"> = {}): CompileResult {
  options = withTaps(options);
  const read = readSource(file);
  if (read.text === undefined) return { diagnostics: read.diagnostics, sources: new SourceMap() };
  // ONNX weights go from their checkpoints straight into the file; a bundle's kernels need them all at once.
  const { result, prepared } = prepareResult(read.text, { ...options, file, streamWeights: options.target !== "wgsl" });
  if (!prepared.graph) return result;
  result.diagnostics.push(
    ...emitToDisk({ ...prepared, graph: prepared.graph }, output, { ...options, file }).diagnostics,
  );
  return result;
}

export interface ImportWeightsResult {
  /** The model's weights by parameter path; absent when there are errors. */
  weights?: Map<string, HostTensor>;
  report?: WeightReport;
  diagnostics: Diagnostic[];
  sources: SourceMap;
}

/**
 * Maps checkpoints (`[name=]path`) onto the weights of the model in `source`, as `netc weights import`; with
 * `output`, also writes them as one safetensors file that `--weights` and `compile` take directly.
 */
export function importWeights(
  source: string,
  checkpoints: readonly string[],
  options: FrontendOptions & Omit<WeightOptions, "weights"> & { output?: string } = {},
): ImportWeightsResult {
  const { result, prepared } = prepareResult(source, { ...options, weights: checkpoints });
  const out: ImportWeightsResult = {
    report: result.weightReport,
    diagnostics: result.diagnostics,
    sources: result.sources,
  };
  const weights = prepared.weights;
  if (!prepared.graph || !weights) return out;
  out.weights = readAll(weights); // loaded, not streamed: already in memory
  if (options.output !== undefined) {
    const metadata = new Map([
      [IMPORTED_FOR_MODEL, options.file === undefined ? "" : displayPath(options.file)],
      ["netc.checkpoint", checkpoints.join(" ")],
    ]);
    try {
      writeSafetensors(options.output, out.weights, { metadata });
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
      out.diagnostics.push(...e.diagnostics);
      delete out.weights;
    }
  }
  return out;
}

export interface RunOptions {
  /** For ONNX: intra-op threads (default: onnxruntime's choice). */
  threads?: number;
  /** For ONNX: "cpu" (default), "cuda", or "auto" (CUDA where available, else the CPU). */
  device?: OnnxDevice;
  /** For ONNX with device "auto": told, in one line, when the CPU runs the model instead of CUDA. */
  onFallback?: (note: string) => void;
  /**
   * For bundles: the GPU run's time limit in milliseconds (NET7013 beyond it); default NETC_GPU_TIMEOUT_MS or two
   * minutes.
   */
  timeoutMs?: number;
}

/**
 * An ONNX model (file path or bytes), a WGSL bundle folder, or a bundle in memory (`compile(..., { target: "wgsl" })`).
 */
export type RunnableModel = string | Uint8Array | WgslBundle;

/**
 * Runs a model once on named input tensors and returns every output by name: ONNX on onnxruntime-node, bundles on
 * the webgpu package (Dawn). Both runtimes are optional packages; a missing one is a NET8007 DiagnosticError.
 */
export async function run(
  model: RunnableModel,
  inputs: Readonly<Record<string, HostTensor>>,
  options: RunOptions = {},
): Promise<Record<string, HostTensor>> {
  const isBundle = typeof model === "object" && !(model instanceof Uint8Array);
  if (isBundle || (typeof model === "string" && existsSync(`${model}/manifest.json`))) {
    const node = await import("./runtime/node.js");
    const { WgslModel } = await import("./runtime/model.js");
    const bundle = isBundle ? model : node.readBundleDir(model as string);
    const gpu = await node.createNodeDevice(bundle.manifest);
    try {
      const compiled = await WgslModel.create(gpu.device, bundle);
      try {
        return await compiled.run(inputs, { timeoutMs: options.timeoutMs ?? node.gpuTimeLimitMs() });
      } finally {
        compiled.destroy();
      }
    } finally {
      gpu.release();
    }
  }
  return Object.fromEntries(await runOnnx(model as string | Uint8Array, inputs, options));
}

export interface InspectResult extends Partial<Omit<GraphSummary, "diagnostics">> {
  inputs: string[];
  outputs: string[];
  symbols: string[];
  diagnostics: Diagnostic[];
  sources: SourceMap;
}

/** What `netc inspect --json` prints for `.net` source: IR statistics, the ONNX graph's summary, the WGSL kernels. */
export function inspect(source: string, options: FrontendOptions = {}): InspectResult {
  const front: FrontendResult = compileToGraph(source, options);
  const out: InspectResult = {
    inputs: [],
    outputs: [],
    symbols: [],
    diagnostics: front.diagnostics,
    sources: front.sources,
  };
  if (!front.graph) return out;
  const { diagnostics, ...summary } = summarizeGraph(front.graph);
  out.diagnostics.push(...diagnostics);
  return Object.assign(out, summary);
}

/** What `netc inspect` says about a serialized ONNX model; a malformed one is a NET5004 diagnostic. */
export function inspectOnnx(bytes: Uint8Array): { summary?: OnnxSummary; diagnostics: Diagnostic[] } {
  try {
    return { summary: summarizeOnnx(bytes), diagnostics: [] };
  } catch (e) {
    return {
      diagnostics: [makeDiagnostic(OnnxCodes.RuntimeFailed, `cannot read the model as ONNX: ${(e as Error).message}`)],
    };
  }
}
