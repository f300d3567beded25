// onnxruntime-web's WebGPU execution provider inside Node, on a GPUDevice from the `webgpu` package (dawn.node),
// so that it and netc's WGSL runtime can be timed on one adapter in one process. ORT-web is a browser build:
// it wants navigator.gpu, a GPUDevice class to check the device against, and its WebAssembly next to the script.
// dawn.node also rejects SharedArrayBuffer views in queue.writeBuffer, and ORT-web's wasm heap is always shared
// (its uploads are views of it), so such views are copied first.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type * as OrtWeb from "onnxruntime-web";
import type { ModelProto } from "../src/backends/onnx/proto.js";
import type { BundleManifest } from "../src/runtime/manifest.js";
import { createNodeAdapter, type NodeGpu } from "../src/runtime/node.js";

export type Ort = typeof OrtWeb;

export interface OrtWebGpu {
  ort: Ort;
  /** A session on the WebGPU EP; `cpuNodes` (node names) go to ORT-web's CPU EP instead. */
  createSession(model: Uint8Array, cpuNodes?: readonly string[]): Promise<OrtWeb.InferenceSession>;
  /**
   * How many nodes, after ORT's own graph fusions, each execution provider runs (e.g. WebGpuExecutionProvider: 120).
   */
  placement(model: Uint8Array, cpuNodes?: readonly string[]): Promise<Record<string, number>>;
}

/**
 * The limits ORT-web's WebGPU EP raises to the adapter's maximum and the features it takes when it creates its own
 * device (onnxruntime/core/providers/webgpu/webgpu_context.cc). A device handed to it gets no more: with the
 * default 8 storage buffers per stage, some of its kernels fail ("Too many storage buffers in shader").
 */
const ORT_WEB_LIMITS = [
  "maxBindGroups",
  "maxComputeWorkgroupStorageSize",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxStorageBuffersPerShaderStage",
];
const ORT_WEB_FEATURES = ["timestamp-query", "shader-f16", "subgroups"];

/** One device for both runtimes: what ORT-web would ask for itself, and what each netc bundle needs. */
export async function createSharedNodeDevice(manifests: readonly BundleManifest[]): Promise<NodeGpu> {
  const adapter = await createNodeAdapter();
  const has = adapter.limits as unknown as Record<string, number | undefined>;
  const names = new Set([...ORT_WEB_LIMITS, ...manifests.flatMap((m) => Object.keys(m.requiredLimits))]);
  const requiredLimits = Object.fromEntries([...names].filter((n) => has[n] !== undefined).map((n) => [n, has[n]!]));
  const features = new Set([...ORT_WEB_FEATURES, ...manifests.flatMap((m) => m.requiredFeatures)]);
  const requiredFeatures = [...features].filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  return { device, adapter, release: () => device.destroy() };
}

/** The folder of onnxruntime-web's dist files (the package's exports map hides it, not its wasm glue). */
function ortWebDist(): string {
  return path.dirname(fileURLToPath(import.meta.resolve("onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs")));
}

/** dawn.node accepts only views of ArrayBuffers; a copy of a shared view carries the same bytes. */
function copySharedUploads(): void {
  const proto = GPUQueue.prototype as GPUQueue & { netcCopiesSharedUploads?: true };
  if (proto.netcCopiesSharedUploads) return;
  const writeBuffer = proto.writeBuffer;
  // dataOffset and size count elements of a typed array and bytes otherwise: the copy keeps the view's kind.
  const unshared = (data: GPUAllowSharedBufferSource): GPUAllowSharedBufferSource => {
    if (data instanceof SharedArrayBuffer) return new Uint8Array(data).slice().buffer;
    if (!ArrayBuffer.isView(data) || !(data.buffer instanceof SharedArrayBuffer)) return data;
    if (data instanceof DataView)
      return new DataView(new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice().buffer);
    return (data as unknown as { slice(): ArrayBufferView<ArrayBuffer> }).slice();
  };
  proto.writeBuffer = function (this: GPUQueue, buffer, bufferOffset, data, dataOffset?, size?) {
    return writeBuffer.call(this, buffer, bufferOffset, unshared(data), dataOffset, size);
  };
  proto.netcCopiesSharedUploads = true;
}

/**
 * Loads onnxruntime-web's WebGPU build for `gpu` (the device netc's runtime uses; see createSharedNodeDevice).
 * ORT-web's wasm side runs
 * single-threaded without a proxy worker: the GPU does the work, and Node has no Web Workers for it.
 */
export async function loadOrtWebGpu(gpu: NodeGpu): Promise<OrtWebGpu> {
  copySharedUploads();
  const dist = ortWebDist();
  if (typeof navigator === "undefined")
    Object.defineProperty(globalThis, "navigator", { value: {}, configurable: true });
  // ORT-web only checks that navigator.gpu exists: the adapter and device come from env and the EP options.
  if (!("gpu" in navigator))
    Object.defineProperty(navigator, "gpu", { value: { requestAdapter: async () => gpu.adapter }, configurable: true });
  const ort = (await import(pathToFileURL(path.join(dist, "ort.webgpu.min.mjs")).href)) as Ort;
  ort.env.wasm.wasmPaths = `${dist}/`;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = "error";
  ort.env.webgpu.adapter = gpu.adapter as unknown as typeof ort.env.webgpu.adapter;

  const options = (cpuNodes: readonly string[], logSeverityLevel: 0 | 3): OrtWeb.InferenceSession.SessionOptions => ({
    // An empty forceCpuNodeNames is rejected ("Provider options key/value cannot be empty").
    executionProviders: [
      { name: "webgpu", device: gpu.device, ...(cpuNodes.length ? { forceCpuNodeNames: cpuNodes } : {}) },
    ],
    graphOptimizationLevel: "all",
    logSeverityLevel,
  });
  return {
    ort,
    createSession: (model, cpuNodes = []) => ort.InferenceSession.create(model, options(cpuNodes, 3)),
    async placement(model, cpuNodes = []) {
      // ORT logs the node placement only at verbose level, through fs.writeSync on stdout/stderr.
      const log: string[] = [];
      const writeSync = fs.writeSync;
      fs.writeSync = ((fd: number, data: unknown, ...rest: unknown[]) =>
        (fd === 1 || fd === 2) && typeof data === "string"
          ? (log.push(data), data.length)
          : (writeSync as (...a: unknown[]) => number)(fd, data, ...rest)) as typeof fs.writeSync;
      try {
        await (await ort.InferenceSession.create(model, options(cpuNodes, 0))).release();
      } finally {
        fs.writeSync = writeSync;
      }
      const counts: Record<string, number> = {};
      for (const m of log.join("").matchAll(/placed on \[(\w+)\]\. Number of nodes: (\d+)/g))
        counts[m[1]] = Number(m[2]);
      return counts;
    },
  };
}

/**
 * Nodes ORT-web's WebGPU EP accepts at session creation but fails on at the first run, so they must be placed
 * on its CPU EP up front: grouped 3-D convolutions ("Conv3D does not support grouped convolution", 1.30.0).
 */
export function nodesOrtWebGpuCannotRun(model: ModelProto): string[] {
  const graph = model.graph;
  const rank = new Map((graph?.initializer ?? []).map((t) => [t.name, t.dims?.length ?? 0]));
  return (graph?.node ?? [])
    .filter(
      (n) =>
        n.opType === "Conv" &&
        Number(n.attribute?.find((a) => a.name === "group")?.i ?? 1) > 1 &&
        rank.get(n.input?.[1] ?? "") === 5,
    )
    .map((n) => n.name ?? "");
}
