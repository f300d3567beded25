// One call from a bundle URL to a model that runs: WebGPU where the browser has it and its adapter has every
// feature and limit the bundle needs, else the bundle's ONNX fallback on onnxruntime-web (wasm). The manifest is
// fetched first, so only one side's files are downloaded: the shaders and weight shards (streamed into the GPU
// buffers while the kernels compile), or the ONNX file.
/// <reference types="@webgpu/types" preserve="true" />
import { requestDeviceFor } from "./device.js";
import { WgslRuntimeError } from "./errors.js";
import { FALLBACK_BACKEND, OnnxFallbackModel, type OrtModule } from "./fallback.js";
import { type LoadBundleOptions, openBundle } from "./load.js";
import type { BundleManifest } from "./manifest.js";
import { type ModelCreateOptions, WgslModel } from "./model.js";
import { BUNDLE_ERROR } from "./validate.js";

export interface LoadModelOptions extends LoadBundleOptions {
  /** `auto` (default): WebGPU when it can run the bundle, else the fallback; `wasm`: the fallback whatever the browser has. */
  backend?: "auto" | "wasm";
  /** The WebGPU entry point (default `navigator.gpu`). */
  gpu?: GPU;
  /** onnxruntime-web's module (default: `import("onnxruntime-web/wasm")` when the fallback runs). */
  ort?: OrtModule;
  /** Hears of each pipeline compiled (WebGPU only; `onProgress` hears of them too). */
  onPipelines?: ModelCreateOptions["onProgress"];
}

/** Either back end: the same inputs, outputs, run and destroy; `backend` says which runs. */
export type NetcModel = WgslModel | OnnxFallbackModel;

/** Why this adapter cannot run the bundle, or undefined when it can. */
export function adapterShortfall(adapter: GPUAdapter, manifest: BundleManifest): string | undefined {
  const missing = manifest.requiredFeatures.filter((f) => !adapter.features.has(f));
  if (missing.length)
    return `the WebGPU adapter lacks the feature${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`;
  const has = adapter.limits as unknown as Record<string, number | undefined>;
  for (const [name, needed] of Object.entries(manifest.requiredLimits)) {
    const available = has[name];
    if (available !== undefined && available < needed)
      return `the WebGPU adapter's ${name} is ${available}; the bundle needs ${needed}`;
  }
  return undefined;
}

/** Loads the bundle at `base` on the best back end this browser has; the model's `backend` names it. */
export async function loadModel(base: string | URL, options: LoadModelOptions = {}): Promise<NetcModel> {
  const opened = await openBundle(base, options);
  const gpu = options.gpu ?? (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  let reason: string;
  if (options.backend === "wasm") reason = "the wasm back end was asked for";
  else if (!gpu) reason = "this browser has no WebGPU (navigator.gpu is missing)";
  else {
    const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" }).catch(() => null);
    const shortfall = adapter ? adapterShortfall(adapter, opened.manifest) : "no WebGPU adapter answered";
    if (adapter && !shortfall) {
      const bundle = await opened.bundle();
      return WgslModel.create(await requestDeviceFor(adapter, opened.manifest), bundle, {
        onProgress: (compiled, total) => {
          opened.pipelines(compiled, total);
          options.onPipelines?.(compiled, total);
        },
      });
    }
    reason = shortfall!;
  }
  if (!opened.manifest.fallback)
    throw new WgslRuntimeError(
      `${reason}, and the bundle has no ONNX fallback for ${FALLBACK_BACKEND} (it was compiled with --no-fallback)`,
      BUNDLE_ERROR.NoBackend,
    );
  return OnnxFallbackModel.create(opened.manifest, await opened.fallbackOnnx(), reason, options.ort);
}
