// The netc library API: compile `.net` source to ONNX (or just to IR), load checkpoints, run models.
import { emitOnnx } from "./backends/onnx/index.js";
import { CheckCodes } from "./compiler/codes.js";
import { compileToGraph, type FrontendOptions } from "./compiler/compile.js";
import { displayPath } from "./dsl/2-analyze/load.js";
import { type Diagnostic, hasErrors, type SourceMap } from "./compiler/diagnostics.js";
import type { Graph } from "./compiler/ir/ir.js";
import type { HostTensor } from "./util/tensor.js";
import { loadModelWeights, parseWeightSpec } from "./weights/model-weights.js";
import type { WeightReport } from "./weights/mapping.js";

export interface CompileOptions extends FrontendOptions {
  /** Checkpoint files (`[prefix=]path`) to load onto the model's weights, or the weights themselves. */
  weights?: readonly string[] | ReadonlyMap<string, HostTensor>;
  /** State dicts whose tensors replace loaded weights of the same name, applied after `weights`. */
  weightOverrides?: readonly string[];
  /** Relax the strict weight report. */
  allowMissing?: boolean;
  allowUnexpected?: boolean;
  /** ONNX opset, 17 (default) to 23; newer opsets get simpler graphs (Gelu from 20, Attention from 23). */
  opset?: number;
  /** Seed for weights no checkpoint provides. */
  seed?: number;
  /** Expose every `tap` as an extra output. */
  debugOutputs?: boolean;
}

export interface CompileResult {
  /** The serialized ONNX model; absent when there are errors. */
  onnx?: Uint8Array;
  graph?: Graph;
  weightReport?: WeightReport;
  diagnostics: Diagnostic[];
  /** Source texts, for renderDiagnostics. */
  sources: SourceMap;
}

/** Compiles `.net` source text to an ONNX model. Never throws for bad input: problems come back as diagnostics. */
export function compile(source: string, options: CompileOptions = {}): CompileResult {
  const front = compileToGraph(source, options);
  const result: CompileResult = { diagnostics: front.diagnostics, sources: front.sources, graph: front.graph };
  if (!front.graph) return result;
  let weights: ReadonlyMap<string, HostTensor> | undefined;
  if (options.weights && !(options.weights instanceof Map)) {
    const loaded = loadModelWeights(front.graph, (options.weights as readonly string[]).map(parseWeightSpec), front.weightRules, {
      allowMissing: options.allowMissing,
      allowUnexpected: options.allowUnexpected,
      overrides: options.weightOverrides,
    });
    // The weight report accounts for the weights the forward never reads (NET6025, NET6020): say it once.
    result.diagnostics = [...result.diagnostics.filter((d) => d.code !== CheckCodes.UnusedParameter.code), ...loaded.diagnostics];
    result.weightReport = loaded.report;
    if (hasErrors(loaded.diagnostics)) return result;
    weights = loaded.weights;
  } else weights = options.weights as ReadonlyMap<string, HostTensor> | undefined;
  const emitted = emitOnnx(front.graph, { opset: options.opset, weights, seed: options.seed, debugOutputs: options.debugOutputs, source: options.file === undefined ? undefined : displayPath(options.file) });
  result.diagnostics.push(...emitted.diagnostics);
  result.onnx = emitted.bytes;
  return result;
}

export { checkSource, compileToGraph, type FrontendOptions, type FrontendResult } from "./compiler/compile.js";
export { type Diagnostic, diagnosticToJson, hasErrors, renderDiagnostics, type Severity, SourceMap, type Span } from "./compiler/diagnostics.js";
export type { Graph, Node, OpName, Value } from "./compiler/ir/ir.js";
export { graphStats } from "./compiler/ir/stats.js";
export { interpret } from "./compiler/ir/interpret.js";
export { emitOnnx, runOnnx, writeOnnx } from "./backends/onnx/index.js";
export { formatSource } from "./dsl/format.js";
export { readNpyFile, parseNpy, encodeNpy, writeNpyFile } from "./util/npy.js";
export type { DType, HostTensor } from "./util/tensor.js";
export * as weights from "./weights/index.js";
