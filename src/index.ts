// The netc library API: compile `.net` source to ONNX or a WGSL bundle, import checkpoints, run and inspect models.
// Everything the `netc` command does is here (src/api.ts); the WebGPU runtime is `netc/runtime` (browser-safe)
// and `netc/runtime/node`.
export {
  compile,
  compileFile,
  type CompileOptions,
  type CompileResult,
  importWeights,
  type ImportWeightsResult,
  inspect,
  inspectOnnx,
  type InspectResult,
  run,
  type RunnableModel,
  type RunOptions,
  type WeightOptions,
} from "./api.js";
export { checkSource, compileToGraph, type FrontendOptions, type FrontendResult } from "./driver.js";
export {
  type Diagnostic,
  DiagnosticError,
  diagnosticToJson,
  hasErrors,
  renderDiagnostics,
  type Severity,
  SourceMap,
  type Span,
} from "./diagnostics/diagnostics.js";
export type { Graph, Node, OpName, Value } from "./compiler/ir/ir.js";
export { type GraphStats, graphStats } from "./compiler/ir/stats.js";
export { interpret } from "./compiler/ir/interpret.js";
export { emitOnnx, type OnnxDevice, runOnnx, writeOnnx } from "./backends/onnx/index.js";
export type { OnnxSummary } from "./backends/onnx/summary.js";
export { compileWgsl, emitWgslBundle, type WgslKernelStats } from "./backends/wgsl/index.js";
export { formatSource } from "./dsl/format/index.js";
export {
  listReferenceModels,
  type ReferenceModel,
  type ReferenceModelParameter,
  referenceModelPath,
} from "./models.js";
export type { WgslBundle } from "./runtime/manifest.js";
export { readNpyFile, parseNpy, encodeNpy, writeNpyFile } from "./util/npy.js";
export type { DType, HostTensor, TensorData } from "./util/tensor.js";
export * as weights from "./weights/index.js";
