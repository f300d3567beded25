// The netc WebGPU runtime (browser-safe; the Node helpers are in ./node.js).
export { requestDeviceFor } from "./device.js";
export { loadBundle } from "./load.js";
export * from "./manifest.js";
export {
  type KernelTiming,
  type ModelInput,
  type ModelRunOptions,
  type WgslBundle,
  WgslModel,
  WgslRuntimeError,
} from "./model.js";
