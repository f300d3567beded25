// The netc WebGPU runtime (browser-safe; the Node helpers are in ./node.js).
export { requestDeviceFor } from "./device.js";
export { FALLBACK_BACKEND, OnnxFallbackModel, type OrtModule } from "./fallback.js";
export { type LoadBundleOptions, type LoadProgress, loadBundle, type OpenedBundle, openBundle } from "./load.js";
export { adapterShortfall, type LoadModelOptions, loadModel, type NetcModel } from "./load-model.js";
export * from "./manifest.js";
export {
  type KernelTiming,
  type ModelInput,
  type ModelRunOptions,
  type WgslBundle,
  WgslModel,
  WgslRuntimeError,
} from "./model.js";
