// safetensors: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the raw data.
import { byteSize, bytesOf, type DType, type HostTensor, stridesOf } from "../util/tensor.js";
import { asLazy, type WeightMap } from "../util/lazy-tensor.js";
import { writeAll, writeFileAtomic } from "../util/atomic.js";
import type { DictNode, StateDict } from "./checkpoint.js";
import { WeightCodes, weightError } from "../diagnostics/weight-codes.js";
import type { BinaryFile } from "./file.js";
import {
  checkedProduct,
  checkedShape,
  makeTensorEntry,
  READ_BUDGETS,
  type ProgressCallback,
  type TensorEntry,
} from "./layout.js";

const TO_DTYPE: Readonly<Record<string, DType>> = {
  F32: "f32",
  F16: "f16",
  BF16: "bf16",
  F64: "f64",
  I64: "i64",
  I32: "i32",
  I8: "i8",
  U8: "u8",
  BOOL: "bool",
};
const FROM_DTYPE: Readonly<Record<DType, string>> = {
  f32: "F32",
  f16: "F16",
  bf16: "BF16",
  f64: "F64",
  i64: "I64",
  i32: "I32",
  i8: "I8",
  u8: "U8",
  bool: "BOOL",
};
/** The reference implementation refuses larger headers; so do we, before allocating one. */
const MAX_HEADER = 100 * 1024 * 1024;
const METADATA_KEY = "__metadata__";
const HEADER_ALIGN = 8;

export interface SafetensorsContents {
  root: DictNode;
  metadata: Map<string, string>;
}

export function readSafetensorsTree(file: BinaryFile): SafetensorsContents {
  const bad = (detail: string): never => {
    throw weightError(WeightCodes.BadSafetensors, `${file.path}: ${detail}`);
  };
  const prefix = file.read(0, 8, "the safetensors header length");
  const headerLength = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER)) bad(`a header of ${headerLength} bytes (at most ${MAX_HEADER})`);
  const text = file.read(8, Number(headerLength), "the safetensors header");
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(text));
  } catch {
    return bad("the header is not valid JSON");
  }
  if (!isRecord(header)) return bad("the header is not a JSON object");

  const names = Object.keys(header);
  if (names.length > READ_BUDGETS.tensors + 1) {
    throw weightError(
      WeightCodes.OverBudget,
      `${file.path}: the header lists more than ${READ_BUDGETS.tensors.toLocaleString("en-US")} tensors`,
    );
  }
  const dataStart = 8 + Number(headerLength);
  const dataSize = file.size - dataStart;
  const metadata = new Map<string, string>();
  const tensors: { begin: number; end: number; entry: TensorEntry }[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (!isRecord(info)) return bad("__metadata__ is not an object");
      for (const [k, v] of Object.entries(info))
        metadata.set(k, typeof v === "string" ? v : bad(`__metadata__ '${k}' is not a string`));
      continue;
    }
    if (!isRecord(info)) return bad(`the entry of '${name}' is not an object`);
    const { dtype: stDType, shape, data_offsets: offsets } = info;
    // Own keys only: "constructor" or "toString" must not find Object.prototype's.
    const dtype = typeof stDType === "string" && Object.hasOwn(TO_DTYPE, stDType) ? TO_DTYPE[stDType] : undefined;
    if (dtype === undefined) {
      throw weightError(
        WeightCodes.UnsupportedDType,
        `${file.path}: tensor '${name}' has element type ${JSON.stringify(stDType)}`,
      );
    }
    if (!Array.isArray(shape)) return bad(`tensor '${name}' has no shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      return bad(`tensor '${name}' has malformed data_offsets`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end) bad(`tensor '${name}' has data_offsets [${begin}, ${end}]`);
    if (end > dataSize) {
      throw weightError(
        WeightCodes.Truncated,
        `${file.path}: tensor '${name}' lies at data bytes [${begin}, ${end}) but the file holds ${dataSize} data bytes`,
      );
    }
    const what = `${file.path}: tensor '${name}'`;
    const { shape: dims, numel } = checkedShape(what, shape, dtype);
    const bytes = end - begin;
    if (bytes % byteSize(dtype) !== 0)
      bad(`tensor '${name}' spans ${bytes} bytes, not a whole number of ${dtype} elements`);
    if (numel * byteSize(dtype) !== bytes) {
      bad(`tensor '${name}' has shape [${dims.join(", ")}] (${numel} elements) but ${bytes} bytes of ${dtype} data`);
    }
    const storage = { name, dtype, numel, fileOffset: dataStart + begin };
    const entry = makeTensorEntry(what, name, { shape: dims, strides: stridesOf(dims), storageOffset: 0 }, storage);
    tensors.push({ begin, end, entry });
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < tensors.length; i++) {
    if (tensors[i].begin < tensors[i - 1].end)
      bad(`tensors '${tensors[i - 1].entry.key}' and '${tensors[i].entry.key}' overlap`);
  }
  const root: DictNode = {
    kind: "dict",
    entries: tensors.map(({ entry }) => ({ key: entry.key, node: { kind: "tensor", tensor: entry } })),
  };
  return { root, metadata };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A tensor to write, read only when its turn comes, so that a bad source fails before the output exists (a
 * LazyTensor with its name).
 */
export interface TensorToWrite {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  read(): HostTensor;
}

export interface WriteOptions {
  metadata?: ReadonlyMap<string, string>;
  onProgress?: ProgressCallback;
}

/** Writes a safetensors file atomically: the file appears complete, or not at all. */
export function writeSafetensors(
  path: string,
  tensors: WeightMap | readonly TensorToWrite[],
  options: WriteOptions = {},
): void {
  const items = isWriteList(tensors)
    ? tensors
    : [...tensors].map(([name, t]): TensorToWrite => ({ name, ...asLazy(t) }));
  const header = encodeHeader(path, items, options.metadata ?? new Map());
  const total = items.reduce((sum, t) => sum + tensorBytes(path, t), 0);
  writeFileAtomic(path, (fd) => {
    const length = new Uint8Array(8);
    new DataView(length.buffer).setBigUint64(0, BigInt(header.byteLength), true);
    writeAll(fd, length);
    writeAll(fd, header);
    let done = 0;
    for (const item of items) {
      const tensor = item.read();
      if (tensor.dtype !== item.dtype || tensor.shape.join() !== item.shape.join()) {
        throw weightError(
          WeightCodes.WriteFailed,
          `${path}: tensor '${item.name}' is not the ${item.dtype} [${item.shape.join(", ")}] announced`,
        );
      }
      writeAll(fd, bytesOf(tensor));
      done += tensor.data.byteLength;
      options.onProgress?.(done, total);
    }
  });
}

/** Copies a state dict into a safetensors file, reading one tensor at a time. */
export function stateDictToSafetensors(sd: StateDict, path: string, options: WriteOptions = {}): void {
  const items = [...sd.tensors].map(([name, entry]) => ({
    name,
    dtype: entry.dtype,
    shape: entry.shape,
    read: () => sd.checkpoint.readTensor(entry),
  }));
  writeSafetensors(path, items, options);
}

function isWriteList(v: WeightMap | readonly TensorToWrite[]): v is readonly TensorToWrite[] {
  return Array.isArray(v);
}

function tensorBytes(path: string, t: TensorToWrite): number {
  const bytes = checkedProduct([...t.shape, byteSize(t.dtype)]);
  if (bytes === undefined || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw weightError(
      WeightCodes.WriteFailed,
      `${path}: tensor '${t.name}' has an invalid shape [${t.shape.join(", ")}]`,
    );
  }
  return bytes;
}

/** The JSON header, padded with spaces to 8 bytes as the reference writer does. Built as text, so no name is special. */
function encodeHeader(
  path: string,
  items: readonly TensorToWrite[],
  metadata: ReadonlyMap<string, string>,
): Uint8Array {
  const fields: string[] = [];
  if (metadata.size > 0) {
    const pairs = [...metadata].map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    fields.push(`${JSON.stringify(METADATA_KEY)}:{${pairs.join(",")}}`);
  }
  const names = new Set<string>();
  let offset = 0;
  for (const t of items) {
    if (t.name === METADATA_KEY) {
      throw weightError(
        WeightCodes.WriteFailed,
        `${path}: safetensors reserves the name '${METADATA_KEY}' for metadata, so no tensor can have it`,
        {
          hint: `rename the weight '${METADATA_KEY}' in the model`,
        },
      );
    }
    if (names.has(t.name))
      throw weightError(WeightCodes.WriteFailed, `${path}: the tensor name '${t.name}' is used twice`);
    names.add(t.name);
    const end = offset + tensorBytes(path, t);
    const info = { dtype: FROM_DTYPE[t.dtype], shape: t.shape, data_offsets: [offset, end] };
    fields.push(`${JSON.stringify(t.name)}:${JSON.stringify(info)}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${fields.join(",")}}`);
  const padded = new Uint8Array(Math.ceil(json.byteLength / HEADER_ALIGN) * HEADER_ALIGN).fill(0x20);
  padded.set(json);
  return padded;
}

/** A safetensors file in memory (for bundles that never touch the disk). */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, HostTensor>,
  metadata: ReadonlyMap<string, string> = new Map(),
): Uint8Array {
  const items = [...tensors].map(
    ([name, t]): TensorToWrite => ({ name, dtype: t.dtype, shape: t.shape, read: () => t }),
  );
  const header = encodeHeader("<memory>", items, metadata);
  const out = new Uint8Array(8 + header.byteLength + items.reduce((sum, t) => sum + tensorBytes("<memory>", t), 0));
  new DataView(out.buffer).setBigUint64(0, BigInt(header.byteLength), true);
  out.set(header, 8);
  let offset = 8 + header.byteLength;
  for (const t of tensors.values()) {
    out.set(bytesOf(t), offset);
    offset += t.data.byteLength;
  }
  return out;
}
