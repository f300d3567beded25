// The WGSL backend: fused WebGPU kernels, a buffer plan and a loadable bundle (run with src/runtime).
export { DEFAULT_MAX_BATCH, runtimeBatchSymbol } from "./batch.js";
export { bundleOf, emitWgslBundle, type EmitWgslBundleOptions } from "./bundle.js";
export { WgslCodes } from "../../diagnostics/wgsl-codes.js";
export {
  compileWgsl,
  type CompileWgslOptions,
  type CompileWgslResult,
  DEFAULT_LIMITS,
  type WgslLimits,
  type WgslProgram,
} from "./compile.js";
export { wgslKernelStats, type WgslKernelStats } from "./stats.js";
