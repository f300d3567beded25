// Node side of the runtime: a GPUDevice from the `webgpu` package (Dawn), bundles read from a folder, and a
// one-call run for `netc run <bundle-dir>`. Without a GPU, Dawn's Vulkan backend can use the SwiftShader ICD
// that Debian's chromium package ships; it is tried when no other adapter answers.
/// <reference types="@webgpu/types" preserve="true" />
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { InputFileError, readRegularFile } from "../util/input-file.js";
import { loadOptional } from "../util/optional.js";
import type { HostTensor } from "../util/tensor.js";
import { requestDeviceFor } from "./device.js";
import type { BundleFile, BundleManifest } from "./manifest.js";
import { WgslRuntimeError } from "./errors.js";
import { type KernelTiming, type ModelInput, type WgslBundle, WgslModel } from "./model.js";
import { BUNDLE_ERROR, BUNDLE_LIMITS, checkBundleFile, unpackShaders, validateManifest } from "./validate.js";

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
  if (!process.env.XDG_RUNTIME_DIR) {
    // Dawn's Vulkan loader wants a runtime folder; one made here is removed when the process ends.
    const runtimeDir = mkdtempSync(join(tmpdir(), "netc-xdg-"));
    process.env.XDG_RUNTIME_DIR = runtimeDir;
    process.once("exit", () => rmSync(runtimeDir, { recursive: true, force: true }));
  }
  let adapter = await requestAdapter(webgpu);
  if (!adapter && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    adapter = await requestAdapter(webgpu);
  }
  if (!adapter)
    throw new WgslRuntimeError(
      `no WebGPU adapter: no GPU answered, and the SwiftShader ICD (${SWIFTSHADER_ICD}, from apt's chromium and libvulkan1) is absent`,
    );
  return adapter;
}

/** A device with what `manifest` asks for (see requestDeviceFor), on createNodeAdapter's adapter. */
export async function createNodeDevice(
  manifest?: BundleManifest,
  options: { profiling?: boolean } = {},
): Promise<NodeGpu> {
  const adapter = await createNodeAdapter();
  const device = await requestDeviceFor(adapter, manifest, options);
  return { device, adapter, release: () => device.destroy() };
}

/**
 * Reads a bundle folder: the manifest first, validated (validateManifest) before any file it names is opened; then
 * the shader file now and the weight shards as the model is created (one at a time). Each must be a regular file
 * inside the folder (after links are resolved) with the size and SHA-256 the manifest gives.
 */
export function readBundleDir(dir: string): WgslBundle {
  const read = (name: string, maxBytes: number): Buffer => {
    let root: string;
    let real: string;
    try {
      root = realpathSync(dir);
      real = realpathSync(join(dir, name));
    } catch (e) {
      throw new WgslRuntimeError(
        `${dir} is not a readable netc WGSL bundle: cannot read ${name} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        name === "manifest.json" ? "NET7010" : BUNDLE_ERROR.FileRefused,
      );
    }
    if (!real.startsWith(root + sep))
      throw new WgslRuntimeError(
        `${dir}: the bundle file ${name} leads outside the bundle folder`,
        BUNDLE_ERROR.FileRefused,
      );
    try {
      return readRegularFile(real, maxBytes);
    } catch (e) {
      if (!(e instanceof InputFileError)) throw e;
      throw new WgslRuntimeError(
        `${dir}: the bundle file ${name} is refused: ${e.message.replace(/^cannot read [^:]*: /, "")}`,
        BUNDLE_ERROR.FileRefused,
      );
    }
  };
  let parsed: unknown;
  const manifestText = read("manifest.json", BUNDLE_LIMITS.manifestBytes).toString("utf8");
  try {
    parsed = JSON.parse(manifestText);
  } catch (e) {
    throw new WgslRuntimeError(`${dir} is not a readable netc WGSL bundle: ${(e as Error).message}`);
  }
  let manifest;
  try {
    manifest = validateManifest(parsed);
  } catch (e) {
    if (e instanceof WgslRuntimeError) throw new WgslRuntimeError(`${dir}/${e.message}`, e.code);
    throw e;
  }
  const m = manifest;
  /** A content-named file of the bundle, checked against the manifest's size and hash. */
  const checked = (entry: BundleFile): Uint8Array<ArrayBuffer> => {
    const bytes = new Uint8Array(read(entry.file, entry.bytes));
    try {
      checkBundleFile(entry, bytes, createHash("sha256").update(bytes).digest("hex"));
    } catch (e) {
      if (e instanceof WgslRuntimeError) throw new WgslRuntimeError(`${dir}: ${e.message}`, e.code);
      throw e;
    }
    return bytes;
  };
  const shaders = unpackShaders(m, checked(m.shaders));
  // Read one at a time as the model uploads them; each iteration reads the files again.
  const shards: Iterable<Uint8Array<ArrayBuffer>> = {
    *[Symbol.iterator]() {
      for (const entry of m.weights.shards) yield checked(entry);
    },
  };
  return { manifest, shaders, shards };
}

/** How long one run may take on the GPU: NETC_GPU_TIMEOUT_MS, or two minutes. */
export function gpuTimeLimitMs(): number {
  const given = Number(process.env.NETC_GPU_TIMEOUT_MS);
  return Number.isSafeInteger(given) && given > 0 ? given : 120_000;
}

/** Loads the bundle in `dir` on a fresh Node device, runs it once and releases the device. */
export async function runBundleDir(
  dir: string,
  inputs: Readonly<Record<string, ModelInput>>,
): Promise<Record<string, HostTensor>> {
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
    // A bundle with a run-time batch compiles only the batch the inputs have, at the run.
    const model = await WgslModel.create(gpu.device, bundle, {
      onProgress: progress ? (done, total) => progress.update(done, total) : undefined,
      batches: [],
    });
    try {
      progress?.phase(options.profiling ? "running the model (profiling every kernel)" : "running the model");
      const limit = { timeoutMs: gpuTimeLimitMs() };
      if (!options.profiling) return { outputs: await model.run(inputs, limit) };
      await model.run(inputs, limit); // a warm-up: drivers may finish compiling a pipeline at its first dispatch
      return await model.profile(inputs, limit);
    } finally {
      model.destroy();
    }
  } finally {
    gpu.release();
  }
}
