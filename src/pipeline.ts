// The pipeline after the front end (driver.ts): the model's weights from checkpoints, then a back end (ONNX, WGSL)
// in memory or to disk, and `netc inspect`'s summary of a graph. Nothing is written when a phase reports errors.
import { type OnnxSummary, summarizeOnnx } from "./backends/onnx/summary.js";
import { emitOnnx, writeOnnx } from "./backends/onnx/index.js";
import { bundleOf, compileWgsl, emitWgslBundle, wgslKernelStats, type WgslKernelStats } from "./backends/wgsl/index.js";
import { shapeToString } from "./compiler/ir/dim.js";
import type { Graph } from "./compiler/ir/ir.js";
import { type GraphStats, graphStats } from "./compiler/ir/stats.js";
import { CheckCodes } from "./diagnostics/codes.js";
import { type Diagnostic, hasErrors, type SourceMap } from "./diagnostics/diagnostics.js";
import { compileToGraph, type FrontendOptions, type FrontendResult } from "./driver.js";
import type { BatchInfo, WgslBundle } from "./runtime/manifest.js";
import type { WeightMap } from "./util/lazy-tensor.js";
import type { ReadAheadOptions } from "./util/read-ahead.js";
import { displayPath, sourceFilePath } from "./util/source-paths.js";
import type { HostTensor } from "./util/tensor.js";
import type { ProgressCallback } from "./weights/layout.js";
import type { WeightReport } from "./weights/mapping.js";
import { loadModelWeights, openModelWeights, parseWeightSpec } from "./weights/model-weights.js";

export interface WeightOptions {
  /** Checkpoint files (`[name=]path`, as `--weights`) to load onto the model's weights, or the weights themselves. */
  weights?: readonly string[] | ReadonlyMap<string, HostTensor>;
  /** State dicts whose tensors replace loaded weights of the same name, applied after `weights`. */
  weightOverrides?: readonly string[];
  /** Relax the strict weight report. */
  allowMissing?: boolean;
  allowUnexpected?: boolean;
  /**
   * Read no tensor now: each weight is read from its checkpoint when the output is written, one at a time, so that
   * a model's weights are never all in memory (compiling to disk does this). Read errors then come from the back end.
   */
  streamWeights?: boolean;
}

/** What a caller that shows progress is told while the front end and the weights run. */
export interface DriverHooks {
  /**
   * The front end's diagnostics, before any weight is loaded; without NET2015 when checkpoints are loaded (their
   * weight report accounts for the weights the forward never reads, NET6025/NET6020).
   */
  onFrontEnd?: (diagnostics: Diagnostic[], sources: SourceMap) => void;
  /** Weight loading starts; its progress goes to `onProgress`. */
  onLoadingWeights?: () => void;
  onProgress?: ProgressCallback;
}

export interface Prepared {
  front: FrontendResult;
  /** The verified graph; absent when the front end or the weights reported an error. */
  graph?: Graph;
  /** The weights, by parameter path, lazy when streamed (absent: the back end draws seeded random values). */
  weights?: WeightMap;
  weightReport?: WeightReport;
  /** Every diagnostic: the front end's (as given to onFrontEnd), then the weights'. */
  diagnostics: Diagnostic[];
  /** The weights' diagnostics alone. */
  weightDiagnostics: Diagnostic[];
  /** The files read (sources by their path on disk, checkpoints): no output may replace one. */
  inputs: string[];
}

/** The front end, then the weights from checkpoint files (when `weights` names files). */
export function prepare(source: string, options: FrontendOptions & WeightOptions, hooks: DriverHooks = {}): Prepared {
  const front = compileToGraph(source, options);
  const checkpoints =
    options.weights && !(options.weights instanceof Map) ? (options.weights as readonly string[]) : undefined;
  const frontDiagnostics = checkpoints
    ? front.diagnostics.filter((d) => d.code !== CheckCodes.UnusedParameter.code)
    : front.diagnostics;
  hooks.onFrontEnd?.(frontDiagnostics, front.sources);
  const inputs = [
    ...(options.file === undefined ? [] : [options.file]),
    ...(front.program?.files.map((f) => sourceFilePath(f.file)) ?? []),
    ...(checkpoints ?? []).map((w) => parseWeightSpec(w).path),
    ...(options.weightOverrides ?? []),
  ];
  const prepared: Prepared = { front, diagnostics: front.diagnostics, weightDiagnostics: [], inputs };
  if (!front.graph) return prepared;
  if (!checkpoints)
    return { ...prepared, graph: front.graph, weights: options.weights as ReadonlyMap<string, HostTensor> | undefined };
  hooks.onLoadingWeights?.();
  const strictness = {
    allowMissing: options.allowMissing,
    allowUnexpected: options.allowUnexpected,
    overrides: options.weightOverrides,
  };
  const files = checkpoints.map(parseWeightSpec);
  const loaded = options.streamWeights
    ? openModelWeights(front.graph, files, front.weightRules, strictness)
    : loadModelWeights(front.graph, files, front.weightRules, { ...strictness, onProgress: hooks.onProgress });
  Object.assign(prepared, {
    diagnostics: [...frontDiagnostics, ...loaded.diagnostics],
    weightDiagnostics: loaded.diagnostics,
    weightReport: loaded.report,
  });
  if (hasErrors(loaded.diagnostics)) return prepared;
  return { ...prepared, graph: front.graph, weights: loaded.weights };
}

export interface BackendOptions {
  /** "onnx" (default) or "wgsl" (a WebGPU bundle). */
  target?: "onnx" | "wgsl";
  /** ONNX opset, 17 (default) to 23; newer opsets get simpler graphs (Gelu from 20, Attention from 23). */
  opset?: number;
  /** WGSL storage precision (default f32; f16 needs the adapter's shader-f16 feature). */
  precision?: "f32" | "f16";
  /** Seed for weights no checkpoint provides. */
  seed?: number;
  /** Expose every `tap` as an extra output. */
  debugOutputs?: boolean;
  /**
   * ONNX for deployment (`--deploy`): weights stored in the layout their kernel reads; see emitOnnx's
   * kernelLayoutWeights.
   */
  deploy?: boolean;
  /**
   * ONNX for onnxruntime (`--onnxruntime-ops`): its contrib ops where they are faster; see emitOnnx's onnxruntimeOps.
   */
  onnxruntimeOps?: boolean;
  /**
   * The largest batch a WGSL bundle with a symbolic batch runs, chosen at run time (`--max-batch`; see
   * backends/wgsl/batch.ts).
   */
  maxBatch?: number;
  /** Lower maxBatch until the bundle fits the adapter's limits, with a warning (see compileWgsl's fitMaxBatch). */
  fitMaxBatch?: boolean;
  /** The `.net` file, named (never by an absolute path) in the ONNX doc string and the bundle's module. */
  file?: string;
  /** Bytes per weight shard of a WGSL bundle (default 4 MiB; see backends/wgsl/bundle.ts). */
  shardBytes?: number;
  /**
   * A WGSL bundle also carries the model as ONNX (`model.onnx`), which loadModel runs where WebGPU cannot (default
   * true).
   */
  fallback?: boolean;
  /**
   * ONNX to disk: keep the weights in this side file (ONNX external data, relative to the model's folder) instead of
   * inside the model; without it they go to `<model>.data` only when the model would exceed 2 GiB.
   */
  externalData?: string;
  /** ONNX to disk: every weight inside the model file; a model over 2 GiB is then an error (NET8050). */
  singleFile?: boolean;
  /** ONNX to disk: told the bytes written so far and the total, as the files are written. */
  onWriteProgress?: ProgressCallback;
  /** ONNX to disk: the threads that make weights ahead of the writer (default: up to 8; `threads: 0` for none). */
  readAhead?: ReadAheadOptions;
}

/** A prepared graph through a back end, in memory: ONNX bytes or a WGSL bundle. */
export function emit(
  graph: Graph,
  weights: WeightMap | undefined,
  options: BackendOptions,
): { onnx?: Uint8Array; bundle?: WgslBundle; diagnostics: Diagnostic[] } {
  if (options.target === "wgsl") {
    const compiled = compileWgsl(graph, {
      weights,
      seed: options.seed,
      debugOutputs: options.debugOutputs,
      precision: options.precision,
      maxBatch: options.maxBatch,
      fitMaxBatch: options.fitMaxBatch,
    });
    return { diagnostics: compiled.diagnostics, bundle: compiled.program && bundleOf(compiled.program) };
  }
  const emitted = emitOnnx(graph, {
    opset: options.opset,
    weights,
    seed: options.seed,
    debugOutputs: options.debugOutputs,
    source: options.file === undefined ? undefined : displayPath(options.file),
    kernelLayoutWeights: options.deploy,
    onnxruntimeOps: options.onnxruntimeOps,
  });
  return { diagnostics: emitted.diagnostics, onnx: emitted.bytes };
}

/**
 * A prepared graph through a back end, to disk: an ONNX file (weights over 2 GiB go to a side file) or a bundle
 * folder (replaced whole), never over one of the compile's `inputs`. Nothing is written when there are errors.
 */
export function emitToDisk(
  prepared: Prepared & { graph: Graph },
  output: string,
  options: BackendOptions,
): { diagnostics: Diagnostic[]; kernels?: number; shards?: number; batch?: BatchInfo } {
  const common = {
    weights: prepared.weights,
    seed: options.seed,
    debugOutputs: options.debugOutputs,
    source: options.file === undefined ? undefined : displayPath(options.file),
    inputs: prepared.inputs,
  };
  if (options.target === "wgsl") {
    // The graph as given (a symbolic batch stays symbolic in ONNX), with the same weights and seed as the kernels.
    const fallback =
      options.fallback !== false
        ? emitOnnx(prepared.graph, {
            weights: prepared.weights,
            seed: options.seed,
            debugOutputs: options.debugOutputs,
            source: common.source,
          })
        : undefined;
    if (fallback && !fallback.bytes) return { diagnostics: fallback.diagnostics };
    const bundle = emitWgslBundle(prepared.graph, {
      ...common,
      precision: options.precision,
      outDir: output,
      maxBatch: options.maxBatch,
      fitMaxBatch: options.fitMaxBatch,
      fallbackOnnx: fallback?.bytes,
      shardBytes: options.shardBytes,
    });
    const manifest = bundle.program?.manifest;
    return {
      diagnostics: bundle.diagnostics,
      kernels: manifest?.kernels.length,
      shards: bundle.shards,
      batch: manifest?.batch,
    };
  }
  return {
    diagnostics: writeOnnx(output, prepared.graph, {
      ...common,
      opset: options.opset,
      kernelLayoutWeights: options.deploy,
      onnxruntimeOps: options.onnxruntimeOps,
      externalDataPath: options.externalData,
      singleFile: options.singleFile,
      onProgress: options.onWriteProgress,
      readAhead: options.readAhead,
    }),
  };
}

export interface GraphSummary {
  model: string;
  /** `name dtype[shape]` of each input and output. */
  inputs: string[];
  outputs: string[];
  symbols: string[];
  ir: GraphStats;
  /** The ONNX graph's summary; absent when emitting it reported an error. */
  onnx?: OnnxSummary;
  /** Kernel counts of the WGSL bundle; absent when the model is not plannable (e.g. symbolic shapes). */
  wgsl?: WgslKernelStats;
  diagnostics: Diagnostic[];
}

/** What `netc inspect` says about a graph: IR statistics, the ONNX graph's summary, the WGSL kernels. */
export function summarizeGraph(graph: Graph): GraphSummary {
  const io = (xs: Graph["inputs"]) => xs.map((x) => `${x.name} ${x.value.dtype}${shapeToString(x.value.shape)}`);
  const ir = graphStats(graph);
  const emitted = emitOnnx(graph, { structureOnly: true });
  return {
    model: graph.name,
    inputs: io(graph.inputs),
    outputs: io(graph.outputs),
    symbols: graph.symbols,
    ir,
    onnx: emitted.bytes && summarizeOnnx(emitted.bytes),
    wgsl: wgslKernelStats(graph).stats,
    diagnostics: emitted.diagnostics,
  };
}
