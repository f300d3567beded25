// Diagnostic codes of the WGSL backend (NET7xxx), as data, in the style of codes.ts.
import type { CodeInfo } from "./codes.js";
import type { Severity } from "./diagnostics.js";

const code = (c: string, severity: Severity, title: string, hint?: string): CodeInfo => ({
  code: c,
  severity,
  title,
  hint,
});

export const WgslCodes = {
  SymbolicShape: code(
    "NET7001",
    "error",
    "a dimension left symbolic; WGSL kernels are specialised to static shapes (only a batch, the inputs' first " +
      "axis and the one symbol left, is chosen at run time)",
    "bind the other symbols at compile time, e.g. `--set T=16`",
  ),
  UnsupportedType: code(
    "NET7002",
    "error",
    "an element type WebGPU shaders cannot compute in",
    "convert to f32 (or i32) before this operation",
  ),
  Unsupported: code("NET7003", "error", "an operation the WGSL backend has no kernel for"),
  TooManyBindings: code(
    "NET7004",
    "error",
    "a kernel that needs more storage bindings than the adapter allows",
    "split the operation (e.g. concatenate fewer tensors at once) or target an adapter with a higher " +
      "maxStorageBuffersPerShaderStage",
  ),
  DoesNotFit: code(
    "NET7005",
    "error",
    "a model whose buffers exceed the adapter's memory limits",
    "use a smaller batch (`--set B=...`) or a device with more memory",
  ),
  TooLarge: code(
    "NET7006",
    "error",
    "a tensor or dispatch beyond what a WGSL kernel can index",
    "reduce the tensor's size",
  ),
  F16Range: code(
    "NET7008",
    "warning",
    "a value whose range may exceed f16 (65504) under --precision f16",
    "keep this part in f32 or rescale it",
  ),
  BadPrecision: code("NET7009", "error", "an unknown --precision"),
  RuntimeFailed: code(
    "NET7010",
    "error",
    "the WebGPU runtime could not load or run a bundle",
    "check the bundle folder, the inputs and the GPU (see docs/embedding.md)",
  ),
  BadManifest: code(
    "NET7011",
    "error",
    "a bundle manifest that breaks the bundle schema (a field of the wrong type, out of range, or naming what " +
      "does not exist)",
    "recompile the bundle with netc compile --target wgsl",
  ),
  BundleFileRefused: code(
    "NET7012",
    "error",
    "a bundle file outside the bundle folder, not a regular file, or larger than the manifest allows",
    "a bundle names only regular files inside its own folder, by relative path",
  ),
  GpuTimeout: code(
    "NET7013",
    "error",
    "a GPU run that did not finish within its time limit",
    "the shaders may loop without end, or the GPU is stalled; try again, or raise NETC_GPU_TIMEOUT_MS",
  ),
  BadMaxBatch: code("NET7021", "error", "a --max-batch out of range"),
  BatchNotLeading: code(
    "NET7022",
    "error",
    "a run-time batch that a value holds other than as a multiple of one axis, or a model input or output " +
      "holds on an axis other than its first",
    "compile a bundle for one batch size with --set B=...",
  ),
  BatchInKernel: code(
    "NET7023",
    "error",
    "a kernel whose code depends on the run-time batch beyond its size (e.g. a concatenation or reduction " +
      "along the batch)",
    "compile a bundle for one batch size with --set B=...",
  ),
  BatchMixed: code(
    "NET7024",
    "error",
    "an op that combines elements along a run-time batch (a reduction, contraction, window or recurrence over it)",
    "compile a bundle for one batch size with --set B=...",
  ),
  MaxBatchLowered: code(
    "NET7025",
    "warning",
    "a bundle whose largest run-time batch was lowered from the default so that its tensors fit the adapter",
    "choose the largest batch with --max-batch, or compile for one batch with --set B=...",
  ),
  NoBackend: code(
    "NET7040",
    "error",
    "a model that neither WebGPU (missing, or an adapter without a feature or limit the bundle needs) nor its " +
      "ONNX fallback can run",
    "compile the bundle without --no-fallback, or open the page in a browser with WebGPU",
  ),
  FallbackRuntimeMissing: code(
    "NET7041",
    "error",
    "an ONNX fallback to run without onnxruntime-web installed or importable",
    "npm install onnxruntime-web (or pass its module as the `ort` option of loadModel)",
  ),
  BadShardSize: code(
    "NET7050",
    "error",
    "a --shard-size that is not a multiple of 4 bytes from 4 KiB to 1 GiB",
    "a few MiB per shard suits browsers (the default is 4MiB)",
  ),
  ShardMismatch: code(
    "NET7051",
    "error",
    "a bundle file (weight shard, shader pack) whose size or SHA-256 differs from what the manifest gives: a " +
      "partial, stale or tampered file",
    "recompile the bundle, or clear the server's and the browser's caches of its old files",
  ),
  BatchOutOfRange: code(
    "NET7060",
    "error",
    "a run whose inputs hold a batch the bundle does not run (it runs 1 to its --max-batch), on WebGPU and on the " +
      "ONNX fallback alike",
    "split the batch, or compile the bundle with a larger --max-batch",
  ),
} as const;
