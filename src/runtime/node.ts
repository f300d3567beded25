// Node side of the runtime: a GPUDevice from the `webgpu` package (Dawn), bundles read from a folder, and a
// one-call run for `netc run <bundle-dir>`. Without a GPU, Dawn's Vulkan backend can use the SwiftShader ICD
// that Debian's chromium package ships; it is tried when no other adapter answers.
/// <reference types="@webgpu/types" preserve="true" />
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOptional } from "../util/optional.js";
import type { HostTensor } from "../util/tensor.js";
import { requestDeviceFor } from "./device.js";
import type { BundleManifest } from "./manifest.js";
import { WgslRuntimeError } from "./errors.js";
import { type KernelTiming, type ModelInput, type WgslBundle, WgslModel } from "./model.js";

export const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

export interface NodeGpu {
  device: GPUDevice;
  adapter: GPUAdapter;
  /** Destroys the device (the process cannot exit while one is alive). */
  release(): void;
}

type WebGpuModule = { create(flags: string[]): GPU; globals: object };

/** Instances from `create()` must stay referenced while their devices live (dropping one crashed Dawn). */
const instances: GPU[] = [];

async function requestAdapter(webgpu: WebGpuModule): Promise<GPUAdapter | null> {
  const gpu = webgpu.create([]);
  instances.push(gpu);
  return gpu.requestAdapter({ powerPreference: "high-performance" });
}

/** A WebGPU adapter in Node: a real GPU if one answers, else SwiftShader when its ICD is installed. */
export async function createNodeAdapter(): Promise<GPUAdapter> {
  const webgpu = await loadOptional<WebGpuModule>("webgpu", "running a WGSL bundle in Node");
  Object.assign(globalThis, webgpu.globals);
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), "netc-xdg-"));
  let adapter = await requestAdapter(webgpu);
  if (!adapter && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    adapter = await requestAdapter(webgpu);
  }
  if (!adapter) throw new WgslRuntimeError(`no WebGPU adapter: no GPU answered, and the SwiftShader ICD (${SWIFTSHADER_ICD}, from apt's chromium and libvulkan1) is absent`);
  return adapter;
}

/** A device with what `manifest` asks for (see requestDeviceFor), on createNodeAdapter's adapter. */
export async function createNodeDevice(manifest?: BundleManifest, options: { profiling?: boolean } = {}): Promise<NodeGpu> {
  const adapter = await createNodeAdapter();
  const device = await requestDeviceFor(adapter, manifest, options);
  return { device, adapter, release: () => device.destroy() };
}

export function readBundleDir(dir: string): WgslBundle {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as BundleManifest;
    const shaders = new Map([...new Set(manifest.kernels.map((k) => k.shader))].map((file) => [file, readFileSync(join(dir, file), "utf8")]));
    return { manifest, shaders, weights: new Uint8Array(readFileSync(join(dir, manifest.weights))) };
  } catch (e) {
    throw new WgslRuntimeError(`${dir} is not a readable netc WGSL bundle: ${(e as Error).message}`);
  }
}

/** Loads the bundle in `dir` on a fresh Node device, runs it once and releases the device. */
export async function runBundleDir(dir: string, inputs: Readonly<Record<string, ModelInput>>): Promise<Record<string, HostTensor>> {
  return (await runBundleDirWith(dir, inputs, {})).outputs;
}

/** Told what a run is doing, for a progress line: each step, and the kernels compiled so far. */
export interface RunProgress {
  phase(label: string): void;
  update(done: number, total: number): void;
}

/** runBundleDir, optionally timing every kernel (WgslModel.profile). */
export async function runBundleDirWith(
  dir: string,
  inputs: Readonly<Record<string, ModelInput>>,
  options: { profiling?: boolean; progress?: RunProgress },
): Promise<{ outputs: Record<string, HostTensor>; kernels?: KernelTiming[] }> {
  const progress = options.progress;
  progress?.phase("reading the bundle");
  const bundle = readBundleDir(dir);
  progress?.phase("creating the WebGPU device");
  const gpu = await createNodeDevice(bundle.manifest, options);
  try {
    progress?.phase("compiling kernels");
    const model = await WgslModel.create(gpu.device, bundle, { onProgress: progress ? (done, total) => progress.update(done, total) : undefined });
    try {
      progress?.phase(options.profiling ? "running the model (profiling every kernel)" : "running the model");
      if (!options.profiling) return { outputs: await model.run(inputs) };
      await model.run(inputs); // a warm-up: drivers may finish compiling a pipeline at its first dispatch
      return await model.profile(inputs);
    } finally {
      model.destroy();
    }
  } finally {
    gpu.release();
  }
}
