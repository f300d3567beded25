// The contract between the WGSL backend (which writes bundles) and the runtime (which runs them).
// A bundle is this manifest (the one file that changes in place), one file with every kernel's WGSL, and the weight
// buffers' bytes cut into shards. Every file but the manifest is named by a prefix of its SHA-256, so a server may
// send it as immutable and a browser cache it for good.
import type { PreprocessSpec } from "../dsl/preprocess-spec.js";
import type { DType } from "../util/tensor.js";

export const BUNDLE_FORMAT = "netc-wgsl";
/** 2: weights in content-named shards, all WGSL in one file (1: one safetensors file and one file per shader). */
export const BUNDLE_VERSION = 2;

/** How elements sit in GPU buffers: floats as f32 (or f16), every integer and bool type as i32. */
export type StorageType = "f32" | "f16" | "i32";

/** One piece of a tensor: the first `elements` of a buffer. Tensors above the per-binding limit have several. */
export interface ChunkRef {
  buffer: number;
  elements: number;
}

/** A model input or output: its IR type, and where its elements live. */
export interface TensorSlot {
  name: string;
  dtype: DType;
  shape: number[];
  storage: StorageType;
  chunks: ChunkRef[];
}

export interface BufferEntry {
  /** Bytes (a multiple of 4). */
  size: number;
  /** The tensor of `weights.tensors` holding this buffer's initial contents (weights and constants). */
  weight?: string;
}

export interface BindingEntry {
  binding: number;
  buffer: number;
  /** `read` binds as read-only-storage, `read_write` as storage. */
  access: "read" | "read_write";
}

export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

export interface KernelEntry {
  /** Unique, e.g. `k012_matmul`; also the stem of its shader's name unless it shares an earlier kernel's. */
  name: string;
  /** The name of its WGSL source in `shaders.sources` (e.g. `kernels/k012_matmul.wgsl`); kernels with the same code share one. */
  shader: string;
  entryPoint: string;
  /** Workgroup counts for dispatchWorkgroups(x, y, z). */
  workgroups: [number, number, number];
  /** Bind group 0's layout and contents, in binding order. */
  bindings: BindingEntry[];
  /** The IR ops fused into this kernel, anchor first. */
  ops: string[];
  /** The block-instance path of the anchor node (e.g. `backbone.blocks.3.attn`). */
  scope: string;
  /** `lift`, `split_index` or `cross_attention` when the anchor came from that construct. */
  construct?: string;
  /** The `.net` location the anchor node came from. */
  source?: SourceLocation;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  version: number;
  model: string;
  /** Element type of float buffers. */
  precision: "f32" | "f16";
  /** Features to request on the device (e.g. `shader-f16`). */
  requiredFeatures: string[];
  /** Limits every kernel and buffer of the bundle stays within; request them on the device. */
  requiredLimits: Record<string, number>;
  /** The initial contents of the weight buffers: shards, and where each tensor lies in them. */
  weights: WeightShards;
  /** Every kernel's WGSL, in one file. */
  shaders: ShaderPack;
  buffers: BufferEntry[];
  inputs: TensorSlot[];
  outputs: TensorSlot[];
  /** In dispatch order. */
  kernels: KernelEntry[];
  /** Present when the batch is chosen at run time (compiled with a symbolic batch and --max-batch). */
  batch?: BatchInfo;
  /** The model's `preprocess { }` declaration (netc infer reads it, and pages read its labels). */
  preprocess?: PreprocessSpec;
  /** The same model as ONNX, for browsers where WebGPU or a feature the bundle needs is missing (loadModel). */
  fallback?: OnnxFallback;
}

/** A file of the bundle that never changes under its name: the name carries a prefix of its hash. */
export interface BundleFile {
  /** Relative to the bundle root, e.g. `weights-3fa2b1c4d5e6f7a8.bin`. */
  file: string;
  bytes: number;
  /** SHA-256 of the file (lowercase hex): checked on arrival, and the key of the file's cache entry. */
  sha256: string;
}

/**
 * The weight buffers' bytes, cut into shards (tfjs-style). The shards' concatenation is the tensors one after the
 * other, each padded to 4 bytes; shards are cut every `shardBytes` bytes whatever lies there, so a tensor may span
 * shards (and every shard but the last has exactly `shardBytes`). A loader uploads each shard's pieces of tensors
 * as it arrives and drops it.
 */
export interface WeightShards {
  /** Bytes of every shard but the last (a multiple of 4). */
  shardBytes: number;
  shards: BundleFile[];
  /** In the order they lie in the shards. */
  tensors: WeightTensor[];
}

/** Where a tensor's bytes lie in the shards' concatenation: `bytes` (a multiple of 4) from `offset` (likewise). */
export interface WeightTensor {
  name: string;
  offset: number;
  bytes: number;
}

/** All WGSL of a bundle in one file: each kernel shader is a byte range of it (UTF-8). */
export interface ShaderPack extends BundleFile {
  sources: { name: string; offset: number; bytes: number }[];
}

/** The ONNX graph of the same compile (same weights), run with onnxruntime-web where WebGPU cannot run the bundle. */
export interface OnnxFallback {
  /** The ONNX file, relative to the bundle root. */
  onnx: string;
  bytes: number;
  /** SHA-256 of the file (lowercase hex). */
  sha256: string;
}

/** The kernels and slots of one batch size of a bundle compiled with a run-time batch (each the static bundle's). */
export interface BatchVariant {
  batch: number;
  kernels: KernelEntry[];
  inputs: TensorSlot[];
  outputs: TensorSlot[];
}

/** A bundle that runs any batch from 1 to `max`: the top-level kernels and slots are those of batch `max`. */
export interface BatchInfo {
  /** The model's batch dimension, e.g. `B`. */
  symbol: string;
  max: number;
  /** Batches 1 to max - 1, in order; they use the top-level buffers (each sized for the largest user). */
  variants: BatchVariant[];
}

/** A bundle in memory: what `loadBundle` fetches, `readBundleDir` reads and `WgslModel.create` runs. */
export interface WgslBundle {
  manifest: BundleManifest;
  /** WGSL sources by the names the kernels give (`kernels[].shader`). */
  shaders: ReadonlyMap<string, string>;
  /**
   * The bytes of each of `manifest.weights.shards`, in order: an array, or a source that yields each shard as it
   * arrives (checked against its hash), so that only a shard or two is ever held. Iterated once per model created.
   */
  shards: Iterable<Uint8Array<ArrayBuffer>> | AsyncIterable<Uint8Array<ArrayBuffer>>;
}
