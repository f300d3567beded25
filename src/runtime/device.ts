// A GPUDevice for a bundle, the same way in browsers and in Node.
// The WebGPU types come from @webgpu/types (a dependency), so consumers type-check without declaring them.
/// <reference types="@webgpu/types" preserve="true" />
import type { BundleManifest } from "./manifest.js";

/**
 * Requests a device from `adapter` with the features and limits `manifest` asks for, each capped at what the
 * adapter has: requestDevice would reject a limit above the adapter's with a generic error, while
 * WgslModel.create names the shortfall (which limit, how much the bundle needs). `profiling` also asks for
 * timestamp-query, which WgslModel.profile needs, where the adapter has it.
 */
export function requestDeviceFor(
  adapter: GPUAdapter,
  manifest?: BundleManifest,
  options: { profiling?: boolean } = {},
): Promise<GPUDevice> {
  const has = adapter.limits as unknown as Record<string, number | undefined>;
  const requiredLimits: Record<string, number> = {};
  for (const [name, needed] of Object.entries(manifest?.requiredLimits ?? {})) {
    const available = has[name];
    if (available !== undefined) requiredLimits[name] = Math.min(needed, available);
  }
  const wanted = [...(manifest?.requiredFeatures ?? []), ...(options.profiling ? ["timestamp-query"] : [])];
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  return adapter.requestDevice({ requiredLimits, requiredFeatures });
}
