// Tensors as checkpoints store them: a view (shape, strides, offset) into a storage somewhere in the file.
// Layouts are validated once, when the checkpoint is opened, so that reading can trust them.
import { allocData, byteSize, bytesOf, type DType, type HostTensor, stridesOf } from "../util/tensor.js";
import type { DiagnosticError, Span } from "../diagnostics/diagnostics.js";
import { WeightCodes, weightError } from "../diagnostics/weight-codes.js";
import type { BinaryFile } from "./file.js";

/** A run of elements in the checkpoint file that one or more tensors view. */
export interface StorageInfo {
  /** Names the storage in messages (the torch storage key, or the tensor name in safetensors). */
  readonly name: string;
  readonly dtype: DType;
  readonly numel: number;
  /** Absolute offset of element 0 in the file. */
  readonly fileOffset: number;
}

export interface TensorEntry {
  /** Dotted path from the checkpoint root, e.g. "model.conv.weight". */
  readonly key: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** In elements, as torch counts them. */
  readonly strides: readonly number[];
  /** In elements. */
  readonly storageOffset: number;
  readonly numel: number;
  readonly storage: StorageInfo;
  /**
   * Set when the tensor depends on a value netc does not rebuild: the Python global it depends on. Its shape is
   * what the pickle says (empty when unknown), and its data cannot be read.
   */
  readonly opaque?: string;
}

/**
 * Budgets on what a pickle can make us build: its memo can share and nest containers and tensors without limit, so
 * a 1 KB file can name one tensor millions of times. Real checkpoints stay far below each.
 */
export const READ_BUDGETS = {
  depth: 100,
  /**
   * Values visited, a shared container counted once per place it appears: this many, plus one per `valueBytes`
   * bytes of pickle, so that only sharing (not a long loss log) reaches it.
   */
  values: 2_000_000,
  valueBytes: 4,
  tensors: 1_000_000,
  /** Tensors viewing one storage (tied weights, legacy flat buffers: a few dozen). */
  viewsPerStorage: 65_536,
  /** Elements all tensors view together, beyond this many times the elements stored (plus a small allowance). */
  viewedPerStored: 64,
  viewedAllowance: 1 << 26,
  /** Files a sharded checkpoint's index may name (Hugging Face's largest have a few hundred). */
  shards: 10_000,
};

/** What a checkpoint says about a tensor, before validation: integers may be bigints, anything may be wrong. */
export interface RawLayout {
  shape: readonly unknown[];
  strides: readonly unknown[];
  storageOffset: unknown;
}

/**
 * Validates a tensor view against its storage: non-negative integer dims and strides, an element count and byte
 * size that stay exact in a double, and every element inside the storage. `what` names the tensor for messages.
 */
export function makeTensorEntry(what: string, key: string, raw: RawLayout, storage: StorageInfo): TensorEntry {
  const bad = (detail: string): never => {
    throw weightError(WeightCodes.BadTensor, `${what}: ${detail}`);
  };
  const { shape, numel } = checkedShape(what, raw.shape, storage.dtype);
  const strides = raw.strides.map((s, i) => toIndex(s) ?? bad(`stride ${i} is ${String(s)}`));
  const storageOffset = toIndex(raw.storageOffset) ?? bad(`storage offset ${String(raw.storageOffset)}`);
  if (strides.length !== shape.length) bad(`${shape.length} dimensions but ${strides.length} strides`);
  if (numel > 0) {
    let last = storageOffset;
    for (let i = 0; i < shape.length; i++) last += (shape[i] - 1) * strides[i];
    if (!Number.isSafeInteger(last)) bad("strides reach beyond any addressable storage");
    if (last >= storage.numel) {
      throw weightError(
        WeightCodes.StorageOutOfBounds,
        `${what}: shape [${shape.join(", ")}] with strides [${strides.join(", ")}] at offset ${storageOffset} ` +
          `reaches element ${last}, but its storage '${storage.name}' holds ${storage.numel} elements`,
      );
    }
  }
  return { key, dtype: storage.dtype, shape, strides, storageOffset, numel, storage };
}

/**
 * A tensor that depends on an opaque value: its key path from the checkpoint root and the global, named; with the
 * weight that needs it, at the user's `layer` line (the standard library's declaration as a note).
 */
export function opaqueTensorError(
  file: string,
  entry: TensorEntry,
  neededBy?: { path: string; span?: Span; layerSpan?: Span },
): DiagnosticError {
  const need = neededBy === undefined ? "" : `, which the weight '${neededBy.path}' needs,`;
  const related =
    neededBy?.layerSpan && neededBy.span
      ? [{ message: "the weight is declared here, in the standard library", span: neededBy.span }]
      : [];
  return weightError(
    WeightCodes.OpaqueTensor,
    `${file}: tensor '${entry.key}'${need} depends on the Python global '${entry.opaque}', which netc does not run`,
    { span: neededBy?.layerSpan ?? neededBy?.span, related },
  );
}

/** A tensor netc cannot read: made from an opaque value; `shape` when the pickle gave a valid one. */
export function makeOpaqueTensorEntry(key: string, global: string, shape: readonly unknown[] | undefined): TensorEntry {
  const dims = shape?.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)
    ? (shape as number[])
    : [];
  const storage: StorageInfo = { name: `<opaque ${global}>`, dtype: "f32", numel: 0, fileOffset: 0 };
  return {
    key,
    dtype: "f32",
    shape: dims,
    strides: stridesOf(dims),
    storageOffset: 0,
    numel: 0,
    storage,
    opaque: global,
  };
}

/** Non-negative integer dims whose element count, in elements and in bytes, stays exact in a double. */
export function checkedShape(what: string, raw: readonly unknown[], dtype: DType): { shape: number[]; numel: number } {
  const bad = (detail: string): never => {
    throw weightError(WeightCodes.BadTensor, `${what}: ${detail}`);
  };
  const shape = raw.map((d, i) => toIndex(d) ?? bad(`dimension ${i} of the shape is ${String(d)}`));
  const bytes =
    checkedProduct([...shape, byteSize(dtype)]) ?? bad(`shape [${shape.join(", ")}] is too large to address`);
  return { shape, numel: bytes / byteSize(dtype) };
}

function toIndex(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v === "bigint") return v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
  return undefined;
}

/** The product, or undefined when it is not exact in a double. */
export function checkedProduct(factors: readonly number[]): number | undefined {
  if (factors.includes(0)) return 0;
  let n = 1;
  for (const f of factors) {
    if (n > Number.MAX_SAFE_INTEGER / f) return undefined;
    n *= f;
  }
  return n;
}

export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

/** Reads a tensor as a contiguous row-major copy: one read when the view is contiguous, else a read and a gather. */
export function readTensorEntry(file: BinaryFile, entry: TensorEntry): HostTensor {
  if (entry.opaque !== undefined) throw opaqueTensorError(file.path, entry);
  const elementSize = byteSize(entry.dtype);
  const data = allocData(entry.dtype, entry.numel);
  const start = entry.storage.fileOffset + entry.storageOffset * elementSize;
  const what = `tensor '${entry.key}'`;
  if (isContiguous(entry.shape, entry.strides)) {
    file.readInto(bytesOf({ data }), start, what);
  } else if (entry.numel > 0) {
    let span = 1;
    for (let i = 0; i < entry.shape.length; i++) span += (entry.shape[i] - 1) * entry.strides[i];
    const window = new Uint8Array(span * elementSize);
    file.readInto(window, start, what);
    copyStrided(window, bytesOf({ data }), elementSize, entry.shape, entry.strides, 0);
  }
  return { dtype: entry.dtype, shape: [...entry.shape], data };
}

type Words = Uint8Array | Uint16Array | Uint32Array;

/** An aligned view of `bytes` as words of `size` bytes (copied when misaligned). */
function words(bytes: Uint8Array, size: 1 | 2 | 4): Words {
  if (size === 1) return bytes;
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const length = aligned.byteLength / size;
  return size === 2
    ? new Uint16Array(aligned.buffer, aligned.byteOffset, length)
    : new Uint32Array(aligned.buffer, aligned.byteOffset, length);
}

/**
 * Copies the elements of a strided view of `src` into `dst` in row-major order. Elements move as unsigned words,
 * never as floats, so every bit (NaN payloads included) survives; 8-byte elements move as two 4-byte words.
 */
export function copyStrided(
  src: Uint8Array,
  dst: Uint8Array,
  elementSize: number,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): void {
  let dims = shape;
  let steps = strides;
  let start = offset;
  let wordSize = elementSize as 1 | 2 | 4;
  if (elementSize === 8) {
    dims = [...shape, 2];
    steps = [...strides.map((s) => s * 2), 1];
    start = offset * 2;
    wordSize = 4;
  }
  const from = words(src, wordSize);
  const to = words(dst, wordSize);
  const rank = dims.length;
  if (rank === 0) {
    to[0] = from[start];
  } else {
    const inner = dims[rank - 1];
    const innerStep = steps[rank - 1];
    const index = new Array<number>(rank - 1).fill(0);
    const total = to.length;
    let base = start;
    for (let o = 0; o < total; ) {
      for (let i = 0, p = base; i < inner; i++, p += innerStep) to[o++] = from[p];
      for (let axis = rank - 2; axis >= 0; axis--) {
        base += steps[axis];
        if (++index[axis] < dims[axis]) break;
        base -= steps[axis] * dims[axis];
        index[axis] = 0;
      }
    }
  }
  if (to.buffer !== dst.buffer) dst.set(new Uint8Array(to.buffer, to.byteOffset, to.byteLength));
}

/** Reports bulk reads and writes as they go; the CLI draws its progress bar from it. */
export type ProgressCallback = (bytesDone: number, bytesTotal: number) => void;
