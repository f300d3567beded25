// The library API, covering what the command line does: compile to ONNX or to a WGSL bundle (in memory or to disk),
// import checkpoints, run a model (ONNX on onnxruntime-node, a bundle on the webgpu package) and inspect one.
// Bad input never throws from compile/importWeights/inspect: problems come back as diagnostics. `run` throws a
// DiagnosticError (the same diagnostics `netc run` prints).
import { existsSync, readFileSync } from "node:fs";
import { emitOnnx, type OnnxDevice, runOnnx, writeOnnx } from "./backends/onnx/index.js";
import { type OnnxSummary, summarizeOnnx } from "./backends/onnx/summary.js";
import { bundleOf, compileWgsl, emitWgslBundle, wgslKernelStats, type WgslKernelStats } from "./backends/wgsl/index.js";
import { compileToGraph, type FrontendOptions, type FrontendResult } from "./compiler/compile.js";
import { CheckCodes, CliCodes, makeDiagnostic, OnnxCodes } from "./compiler/codes.js";
import { type Diagnostic, DiagnosticError, hasErrors, SourceMap } from "./compiler/diagnostics.js";
import { displayPath, sourceFilePath } from "./dsl/2-analyze/load.js";
import { shapeToString } from "./compiler/ir/dim.js";
import type { Graph } from "./compiler/ir/ir.js";
import { type GraphStats, graphStats } from "./compiler/ir/stats.js";
import type { WgslBundle } from "./runtime/manifest.js";
import type { HostTensor } from "./util/tensor.js";
import type { WeightReport } from "./weights/mapping.js";
import { IMPORTED_FOR_MODEL, loadModelWeights, parseWeightSpec } from "./weights/model-weights.js";
import { writeSafetensors } from "./weights/safetensors.js";

export interface WeightOptions {
  /** Checkpoint files (`[name=]path`, as `--weights`) to load onto the model's weights, or the weights themselves. */
  weights?: readonly string[] | ReadonlyMap<string, HostTensor>;
  /** State dicts whose tensors replace loaded weights of the same name, applied after `weights`. */
  weightOverrides?: readonly string[];
  /** Relax the strict weight report. */
  allowMissing?: boolean;
  allowUnexpected?: boolean;
}

export interface CompileOptions extends FrontendOptions, WeightOptions {
  /** "onnx" (default): `onnx` holds the model's bytes; "wgsl": `bundle` holds a WebGPU bundle. */
  target?: "onnx" | "wgsl";
  /** ONNX opset, 17 (default) to 23; newer opsets get simpler graphs (Gelu from 20, Attention from 23). */
  opset?: number;
  /** WGSL storage precision (default f32; f16 needs the adapter's shader-f16 feature). */
  precision?: "f32" | "f16";
  /** Seed for weights no checkpoint provides. */
  seed?: number;
  /** Expose every `tap` as an extra output. */
  debugOutputs?: boolean;
  /** ONNX for deployment (`--deploy`): weights stored in the layout their kernel reads; see emitOnnx's kernelLayoutWeights. */
  deploy?: boolean;
}

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

interface Prepared {
  result: CompileResult;
  graph?: Graph;
  weights?: ReadonlyMap<string, HostTensor>;
  /** The files read (sources by their path on disk, checkpoints): no output may replace one. */
  inputs: string[];
}

/** Front end, then the weights; `graph` is absent when either reported an error. */
function prepare(source: string, options: FrontendOptions & WeightOptions): Prepared {
  const front = compileToGraph(source, options);
  const result: CompileResult = { diagnostics: front.diagnostics, sources: front.sources, graph: front.graph };
  const checkpoints = options.weights && !(options.weights instanceof Map) ? (options.weights as readonly string[]).map((w) => parseWeightSpec(w).path) : [];
  const inputs = [...(options.file === undefined ? [] : [options.file]), ...(front.program?.files.map((f) => sourceFilePath(f.file)) ?? []), ...checkpoints, ...(options.weightOverrides ?? [])];
  if (!front.graph) return { result, inputs };
  if (!options.weights || options.weights instanceof Map) return { result, graph: front.graph, weights: options.weights as ReadonlyMap<string, HostTensor> | undefined, inputs };
  const loaded = loadModelWeights(front.graph, (options.weights as readonly string[]).map(parseWeightSpec), front.weightRules, {
    allowMissing: options.allowMissing,
    allowUnexpected: options.allowUnexpected,
    overrides: options.weightOverrides,
  });
  // The weight report accounts for the weights the forward never reads (NET6025, NET6020): say it once.
  result.diagnostics = [...result.diagnostics.filter((d) => d.code !== CheckCodes.UnusedParameter.code), ...loaded.diagnostics];
  result.weightReport = loaded.report;
  if (hasErrors(loaded.diagnostics)) return { result, inputs };
  return { result, graph: front.graph, weights: loaded.weights, inputs };
}

/** `taps` named: those become outputs, with the file's own `tap`s only under `debugOutputs`. */
function withTaps<T extends CompileOptions>(options: T): T {
  if (!options.taps?.length) return options;
  return { ...options, keepFileTaps: options.debugOutputs === true, debugOutputs: true };
}

/** Compiles `.net` source text to an ONNX model or a WGSL bundle, in memory. */
export function compile(source: string, options: CompileOptions = {}): CompileResult {
  options = withTaps(options);
  const { result, graph, weights } = prepare(source, options);
  if (!graph) return result;
  if (options.target === "wgsl") {
    const compiled = compileWgsl(graph, { weights, seed: options.seed, debugOutputs: options.debugOutputs, precision: options.precision });
    result.diagnostics.push(...compiled.diagnostics);
    if (compiled.program) result.bundle = bundleOf(compiled.program);
    return result;
  }
  const emitted = emitOnnx(graph, { opset: options.opset, weights, seed: options.seed, debugOutputs: options.debugOutputs, source: options.file === undefined ? undefined : displayPath(options.file), kernelLayoutWeights: options.deploy });
  result.diagnostics.push(...emitted.diagnostics);
  result.onnx = emitted.bytes;
  return result;
}

function readSourceFile(file: string): { text?: string; diagnostics: Diagnostic[] } {
  try {
    return { text: readFileSync(file, "utf8"), diagnostics: [] };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : (code ?? (e as Error).message);
    return { diagnostics: [makeDiagnostic(CliCodes.FileNotFound, `cannot read ${file}: ${reason}`)] };
  }
}

/**
 * Compiles the `.net` file `file` and writes the result to `output`, as `netc compile` does: an ONNX file (weights
 * over 2 GiB go to a side file) or a bundle folder (replaced whole). Nothing is written when there are errors.
 */
export function compileFile(file: string, output: string, options: Omit<CompileOptions, "file"> = {}): CompileResult {
  options = withTaps(options);
  const read = readSourceFile(file);
  if (read.text === undefined) return { diagnostics: read.diagnostics, sources: new SourceMap() };
  const { result, graph, weights, inputs } = prepare(read.text, { ...options, file });
  if (!graph) return result;
  const common = { weights, seed: options.seed, debugOutputs: options.debugOutputs, source: displayPath(file), inputs };
  if (options.target === "wgsl") result.diagnostics.push(...emitWgslBundle(graph, { ...common, precision: options.precision, outDir: output }).diagnostics);
  else result.diagnostics.push(...writeOnnx(output, graph, { ...common, opset: options.opset, kernelLayoutWeights: options.deploy }));
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
  const { result, graph, weights } = prepare(source, { ...options, weights: checkpoints });
  const out: ImportWeightsResult = { report: result.weightReport, diagnostics: result.diagnostics, sources: result.sources };
  if (!graph || !weights) return out;
  out.weights = new Map(weights);
  if (options.output !== undefined) {
    const metadata = new Map([[IMPORTED_FOR_MODEL, options.file === undefined ? "" : displayPath(options.file)], ["netc.checkpoint", checkpoints.join(" ")]]);
    try {
      writeSafetensors(options.output, weights, { metadata });
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
  /** For bundles: the GPU run's time limit in milliseconds (NET7013 beyond it); default NETC_GPU_TIMEOUT_MS or two minutes. */
  timeoutMs?: number;
}

/** An ONNX model (file path or bytes), a WGSL bundle folder, or a bundle in memory (`compile(..., { target: "wgsl" })`). */
export type RunnableModel = string | Uint8Array | WgslBundle;

/**
 * Runs a model once on named input tensors and returns every output by name: ONNX on onnxruntime-node, bundles on
 * the webgpu package (Dawn). Both runtimes are optional packages; a missing one is a NET8007 DiagnosticError.
 */
export async function run(model: RunnableModel, inputs: Readonly<Record<string, HostTensor>>, options: RunOptions = {}): Promise<Record<string, HostTensor>> {
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

export interface InspectResult {
  model?: string;
  /** `name dtype[shape]` of each input and output. */
  inputs: string[];
  outputs: string[];
  symbols: string[];
  ir?: GraphStats;
  onnx?: OnnxSummary;
  /** Kernel counts of the WGSL bundle; absent when the model is not plannable (e.g. symbolic shapes). */
  wgsl?: WgslKernelStats;
  diagnostics: Diagnostic[];
  sources: SourceMap;
}

/** What `netc inspect --json` prints for `.net` source: IR statistics, the ONNX graph's summary, the WGSL kernels. */
export function inspect(source: string, options: FrontendOptions = {}): InspectResult {
  const front: FrontendResult = compileToGraph(source, options);
  const out: InspectResult = { inputs: [], outputs: [], symbols: [], diagnostics: front.diagnostics, sources: front.sources };
  const graph = front.graph;
  if (!graph) return out;
  const io = (xs: Graph["inputs"]) => xs.map((x) => `${x.name} ${x.value.dtype}${shapeToString(x.value.shape)}`);
  Object.assign(out, { model: graph.name, inputs: io(graph.inputs), outputs: io(graph.outputs), symbols: graph.symbols, ir: graphStats(graph) });
  const emitted = emitOnnx(graph, { structureOnly: true });
  out.diagnostics.push(...emitted.diagnostics);
  if (emitted.bytes) out.onnx = summarizeOnnx(emitted.bytes);
  out.wgsl = wgslKernelStats(graph).stats;
  return out;
}

/** What `netc inspect` says about a serialized ONNX model; a malformed one is a NET5004 diagnostic. */
export function inspectOnnx(bytes: Uint8Array): { summary?: OnnxSummary; diagnostics: Diagnostic[] } {
  try {
    return { summary: summarizeOnnx(bytes), diagnostics: [] };
  } catch (e) {
    return { diagnostics: [makeDiagnostic(OnnxCodes.RuntimeFailed, `cannot read the model as ONNX: ${(e as Error).message}`)] };
  }
}
