// torch.save files, both layouts:
//   zip (torch >= 1.6): `<stem>/data.pkl` pickles the object; storage `k` is the STORED entry `<stem>/data/k`.
//   legacy (torch < 1.6, or _use_new_zipfile_serialization=False): five pickles in a row (magic number,
//   protocol, sys_info, the object, the storage keys), then each storage as int64 numel + raw bytes.
import { byteSize, type DType } from "../util/tensor.js";
import type { ArrayNode, CheckpointNode, DictNode, OpaqueNode } from "./checkpoint.js";
import { WeightCodes, weightError } from "../diagnostics/weight-codes.js";
import { FileInput, type BinaryFile } from "./file.js";
import {
  checkedProduct,
  makeOpaqueTensorEntry,
  makeTensorEntry,
  READ_BUDGETS,
  type RawLayout,
  type StorageInfo,
} from "./layout.js";
import { NUMPY_GLOBALS, NumpyArray, NumpyDType } from "./numpy-pickle.js";
import {
  BufferInput,
  BuiltValue,
  CONTAINER_GLOBALS,
  OpaqueObject,
  PickleGlobal,
  PickleObject,
  unpickle,
  type GlobalHandler,
  type HandlerContext,
  type PickleDict,
  type PickleValue,
  type UnpickleOptions,
} from "./pickle.js";
import { ZipArchive } from "./zip.js";

const STORAGE_DTYPES: ReadonlyMap<string, DType> = new Map<string, DType>([
  ["FloatStorage", "f32"],
  ["HalfStorage", "f16"],
  ["BFloat16Storage", "bf16"],
  ["DoubleStorage", "f64"],
  ["LongStorage", "i64"],
  ["IntStorage", "i32"],
  ["CharStorage", "i8"],
  ["ByteStorage", "u8"],
  ["BoolStorage", "bool"],
]);

/** Storage types torch writes that netc has no element type for; named in the diagnostic by their torch dtype. */
const UNSUPPORTED_STORAGES: ReadonlyMap<string, string> = new Map([
  ["ShortStorage", "int16"],
  ["ComplexHalfStorage", "complex32"],
  ["ComplexFloatStorage", "complex64"],
  ["ComplexDoubleStorage", "complex128"],
  ["QInt8Storage", "qint8"],
  ["QUInt8Storage", "quint8"],
  ["QInt32Storage", "qint32"],
  ["QUInt4x2Storage", "quint4x2"],
  ["QUInt2x4Storage", "quint2x4"],
]);

/** A storage named by a persistent id; `view` is set for legacy storage views into a root storage. */
class TorchStorage extends BuiltValue {
  readonly kind = "storage";
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
    readonly view?: { root: string; offset: number },
  ) {
    super();
  }
}

class TorchTensor extends BuiltValue {
  readonly kind = "tensor";
  constructor(
    readonly storage: TorchStorage,
    readonly layout: RawLayout,
  ) {
    super();
  }
}

/** A tensor an allow-listed rebuild made from an opaque value: kept, so that only a model that needs it fails. */
class OpaqueTensor extends BuiltValue {
  readonly kind = "tensor";
  constructor(
    /** The global it depends on. */
    readonly global: string,
    readonly shape?: readonly PickleValue[],
  ) {
    super();
  }
}

function rebuildTensor(args: PickleValue[], ctx: HandlerContext): TorchTensor | OpaqueTensor {
  const [storage, storageOffset, shape, strides] = args;
  if (storage instanceof OpaqueObject)
    return new OpaqueTensor(storage.qualifiedName, Array.isArray(shape) ? shape : undefined);
  if (!(storage instanceof TorchStorage) || !Array.isArray(shape) || !Array.isArray(strides)) {
    return ctx.fail("a tensor rebuilt from something other than (storage, offset, size, stride)");
  }
  return new TorchTensor(storage, { shape, strides, storageOffset });
}

function rebuildParameter(args: PickleValue[], ctx: HandlerContext): TorchTensor | OpaqueTensor {
  const [data] = args;
  if (data instanceof TorchTensor || data instanceof OpaqueTensor) return data;
  if (data instanceof OpaqueObject) return new OpaqueTensor(data.qualifiedName);
  return ctx.fail("a parameter rebuilt from something other than a tensor");
}

/** Opaque calls that stand where a tensor would: torch's other rebuild functions (quantized, sparse, subclasses). */
function isTensorLike(o: OpaqueObject): boolean {
  return (
    o.made !== "global" &&
    /^torch\.(_utils\._rebuild_|_tensor\._rebuild_|nn\.parameter\.|Tensor$)/.test(o.qualifiedName)
  );
}

/**
 * The allow-list: plain containers, numpy data, tensor and parameter rebuilds, and storage types (only as persistent-id
 * tags).
 */
const TORCH_GLOBALS: ReadonlyMap<string, GlobalHandler> = new Map<string, GlobalHandler>([
  ...CONTAINER_GLOBALS,
  ...NUMPY_GLOBALS,
  ["torch._utils._rebuild_tensor_v2", { reduce: rebuildTensor }],
  ["torch._utils._rebuild_tensor", { reduce: rebuildTensor }],
  ["torch._utils._rebuild_parameter", { reduce: rebuildParameter }],
  ["torch._utils._rebuild_parameter_with_state", { reduce: rebuildParameter }],
  ...[...STORAGE_DTYPES.keys(), ...UNSUPPORTED_STORAGES.keys()].map((name): [string, GlobalHandler] => [
    `torch.${name}`,
    {},
  ]),
]);

interface StorageId {
  dtype: DType;
  key: string;
  numel: number;
  /** Legacy only: (view key, offset, numel) when the id names a view into the storage `key`. */
  view?: { key: string; offset: number; numel: number };
}

/** Decodes ('storage', type, key, location, numel[, view]) as both layouts write it. */
function parseStorageId(pid: PickleValue, ctx: HandlerContext, source: string): StorageId {
  if (!Array.isArray(pid) || pid[0] !== "storage" || pid.length < 5)
    return ctx.fail("a persistent id that is not a storage");
  const [, type, key, , numel, view] = pid;
  if (typeof key !== "string" || !isCount(numel)) return ctx.fail("a storage id without a key and an element count");
  const id: StorageId = { dtype: storageDType(type, ctx, source), key, numel };
  if (view !== undefined && view !== null) {
    if (!Array.isArray(view) || typeof view[0] !== "string" || !isCount(view[1]) || !isCount(view[2])) {
      return ctx.fail("a malformed storage view");
    }
    id.view = { key: view[0], offset: view[1], numel: view[2] };
  }
  return id;
}

function isCount(v: PickleValue | undefined): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function storageDType(type: PickleValue, ctx: HandlerContext, source: string): DType {
  const name =
    type instanceof PickleGlobal && type.qualifiedName.startsWith("torch.") ? type.qualifiedName.slice(6) : "";
  const dtype = STORAGE_DTYPES.get(name);
  if (dtype !== undefined) return dtype;
  const torchDType = UNSUPPORTED_STORAGES.get(name);
  if (torchDType === undefined) return ctx.fail("a storage whose type is not a torch storage class");
  throw weightError(
    WeightCodes.UnsupportedDType,
    `${source}: tensors of type ${torchDType} (torch.${name}) are not supported`,
  );
}

/** The storage a persistent id names, made once per key; ids that disagree about it mean a damaged file. */
function declareStorage(table: Map<string, TorchStorage>, id: StorageId, ctx: HandlerContext): TorchStorage {
  const known = table.get(id.key);
  if (known) {
    if (known.dtype !== id.dtype || known.numel !== id.numel)
      ctx.fail(`storage '${id.key}' is declared twice, differently`);
    return known;
  }
  const storage = new TorchStorage(id.key, id.dtype, id.numel);
  table.set(id.key, storage);
  return storage;
}

function storageBytes(file: BinaryFile, key: string, dtype: DType, numel: number): number {
  const bytes = checkedProduct([numel, byteSize(dtype)]);
  if (bytes === undefined)
    throw weightError(WeightCodes.BadTensor, `${file.path}: storage '${key}' declares ${numel} elements`);
  return bytes;
}

export function readTorchZip(file: BinaryFile): CheckpointNode {
  const zip = ZipArchive.read(file);
  const pickles = [...zip.names()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickles.length !== 1) {
    throw weightError(
      WeightCodes.NotACheckpoint,
      `${file.path} is a zip archive but not a torch checkpoint: ` +
        `${pickles.length === 0 ? "it has no data.pkl" : "it has several data.pkl"}`,
    );
  }
  const [pickleName] = pickles;
  const stem = pickleName.slice(0, -"/data.pkl".length);
  if (zip.has(`${stem}/constants.pkl`)) {
    throw weightError(
      WeightCodes.UnsupportedFormat,
      `${file.path} is a TorchScript archive (torch.jit.save), not a torch.save checkpoint`,
      {
        hint: "save the weights with torch.save(model.state_dict(), path)",
      },
    );
  }
  const byteOrder = `${stem}/byteorder`;
  if (zip.has(byteOrder) && new TextDecoder().decode(zip.readEntry(byteOrder)) !== "little") {
    throw weightError(WeightCodes.UnsupportedFormat, `${file.path} was saved on a big-endian machine`);
  }

  const source = `${file.path} (${pickleName})`;
  const storages = new Map<string, TorchStorage>();
  const pickle = zip.readEntry(pickleName);
  const root = unpickle(new BufferInput(pickle, source), {
    source,
    globals: TORCH_GLOBALS,
    persistentLoad(pid, ctx) {
      const id = parseStorageId(pid, ctx, source);
      if (id.view) ctx.fail("a storage view, which only legacy checkpoints have");
      return declareStorage(storages, id, ctx);
    },
  });

  return toNode(root, file.path, pickle.byteLength, (storage) => {
    const data = zip.get(`${stem}/data/${storage.key}`);
    if (!data) {
      throw weightError(
        WeightCodes.CorruptCheckpoint,
        `${file.path}: storage '${storage.key}' has no entry ${stem}/data/${storage.key}`,
      );
    }
    const bytes = storageBytes(file, storage.key, storage.dtype, storage.numel);
    if (data.size < bytes) {
      throw weightError(
        WeightCodes.StorageOutOfBounds,
        `${file.path}: storage '${storage.key}' declares ${storage.numel} ${storage.dtype} elements (${bytes} ` +
          `bytes) but its entry holds ${data.size} bytes`,
      );
    }
    return { name: storage.key, dtype: storage.dtype, numel: storage.numel, fileOffset: data.dataOffset };
  });
}

/** PROTO, then LONG1 of 10 bytes holding 0x1950a86a20f9469cfc6c: how every legacy torch file begins. */
const LEGACY_MAGIC = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
const LEGACY_PROTOCOL = 1001;

export function isTorchLegacyHeader(head: Uint8Array): boolean {
  const at = head[2] === 0x95 ? 11 : 2; // protocol 4+ puts a FRAME before it
  return head[0] === 0x80 && LEGACY_MAGIC.every((b, i) => head[at + i] === b);
}

export function readTorchLegacy(file: BinaryFile): CheckpointNode {
  const input = new FileInput(file, 0, "the legacy checkpoint's pickle stream");
  const plain: UnpickleOptions = { source: file.path, globals: CONTAINER_GLOBALS };
  unpickle(input, plain); // the magic number, checked by isTorchLegacyHeader
  const protocol = unpickle(input, plain);
  if (protocol !== LEGACY_PROTOCOL) {
    throw weightError(
      WeightCodes.UnsupportedFormat,
      `${file.path}: legacy torch protocol ${String(protocol)} (expected ${LEGACY_PROTOCOL})`,
    );
  }
  const sysInfo = unpickle(input, plain);
  if (!(sysInfo instanceof Map) || sysInfo.get("little_endian") !== true) {
    throw weightError(WeightCodes.UnsupportedFormat, `${file.path} was saved on a big-endian machine`);
  }

  const declared = new Map<string, TorchStorage>();
  const rootStart = input.position;
  const root = unpickle(input, {
    source: file.path,
    globals: TORCH_GLOBALS,
    persistentLoad(pid, ctx) {
      const id = parseStorageId(pid, ctx, file.path);
      const storage = declareStorage(declared, id, ctx);
      return id.view
        ? new TorchStorage(id.view.key, id.dtype, id.view.numel, { root: id.key, offset: id.view.offset })
        : storage;
    },
  });
  const rootEnd = input.position;
  const keys = unpickle(input, plain);
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string")) {
    throw weightError(WeightCodes.CorruptCheckpoint, `${file.path}: the list of storage keys is missing`);
  }

  const records = new Map<string, StorageInfo>();
  let at = input.position;
  for (const key of keys as string[]) {
    const storage = declared.get(key);
    if (!storage)
      throw weightError(WeightCodes.CorruptCheckpoint, `${file.path}: data for storage '${key}', which nothing uses`);
    const size = file.read(at, 8, `the size of storage '${key}'`);
    const count = new DataView(size.buffer, size.byteOffset, 8).getBigInt64(0, true);
    if (count < 0n || count > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw weightError(WeightCodes.CorruptCheckpoint, `${file.path}: storage '${key}' records ${count} elements`);
    }
    const numel = Number(count);
    const bytes = storageBytes(file, key, storage.dtype, numel);
    file.checkRange(at + 8, bytes, `the data of storage '${key}'`);
    if (numel < storage.numel) {
      throw weightError(
        WeightCodes.StorageOutOfBounds,
        `${file.path}: storage '${key}' declares ${storage.numel} elements but its data holds ${numel}`,
      );
    }
    records.set(key, { name: key, dtype: storage.dtype, numel, fileOffset: at + 8 });
    at += 8 + bytes;
  }

  return toNode(root, file.path, rootEnd - rootStart, (storage) => {
    const rootKey = storage.view?.root ?? storage.key;
    const record = records.get(rootKey);
    if (!record)
      throw weightError(WeightCodes.CorruptCheckpoint, `${file.path}: storage '${rootKey}' has no data record`);
    if (!storage.view) return record;
    const { offset } = storage.view;
    if (offset + storage.numel > record.numel) {
      throw weightError(
        WeightCodes.StorageOutOfBounds,
        `${file.path}: storage view '${storage.key}' (${storage.numel} elements at ${offset}) exceeds storage ` +
          `'${rootKey}' (${record.numel} elements)`,
      );
    }
    return {
      ...record,
      name: storage.key,
      numel: storage.numel,
      fileOffset: record.fileOffset + offset * byteSize(record.dtype),
    };
  });
}

/** Numpy arrays whose elements are decoded for display and data; larger ones are described by type and shape. */
const MAX_ARRAY_VALUES = 1 << 16;

/** Turns unpickled values into the checkpoint tree, validating every tensor against its storage. */
function toNode(
  value: PickleValue,
  file: string,
  pickleBytes: number,
  locate: (storage: TorchStorage) => StorageInfo,
): CheckpointNode {
  const maxValues = READ_BUDGETS.values + Math.floor(pickleBytes / READ_BUDGETS.valueBytes);
  const located = new Map<string, StorageInfo>();
  const views = new Map<string, number>();
  const active = new Set<object>();
  let values = 0;
  let tensors = 0;
  let stored = 0;
  let viewed = 0;
  const overBudget = (message: string): never => {
    throw weightError(WeightCodes.OverBudget, `${file}: ${message}`);
  };

  const tensor = (v: TorchTensor, key: string): CheckpointNode => {
    if (++tensors > READ_BUDGETS.tensors)
      overBudget(`the checkpoint holds more than ${READ_BUDGETS.tensors.toLocaleString("en-US")} tensors`);
    const id = v.storage.view?.root ?? v.storage.key;
    const fanOut = (views.get(id) ?? 0) + 1;
    views.set(id, fanOut);
    if (fanOut > READ_BUDGETS.viewsPerStorage) {
      overBudget(
        `more than ${READ_BUDGETS.viewsPerStorage.toLocaleString("en-US")} tensors view storage '${id}' (the ` +
          `last at '${key}')`,
      );
    }
    let storage = located.get(v.storage.key);
    if (!storage) {
      located.set(v.storage.key, (storage = locate(v.storage)));
      stored += storage.numel;
    }
    const entry = makeTensorEntry(`${file}: tensor '${key}'`, key, v.layout, storage);
    viewed += entry.numel;
    if (viewed > READ_BUDGETS.viewedPerStored * stored + READ_BUDGETS.viewedAllowance) {
      overBudget(
        `its tensors view ${viewed.toLocaleString("en-US")} elements of the ${stored.toLocaleString("en-US")} ` +
          `it stores (the last at '${key}')`,
      );
    }
    return { kind: "tensor", tensor: entry };
  };

  /** The key path of the value being visited; pushed and popped, joined only for tensors and messages. */
  const path: string[] = [];
  const visitAt = (key: string, v: PickleValue): CheckpointNode => {
    path.push(key);
    try {
      return visit(v);
    } finally {
      path.pop();
    }
  };

  const visit = (v: PickleValue): CheckpointNode => {
    if (++values > maxValues) overBudget(`the checkpoint holds more than ${maxValues.toLocaleString("en-US")} values`);
    if (path.length > READ_BUDGETS.depth)
      throw weightError(WeightCodes.BadPickle, `${file}: containers nested more than ${READ_BUDGETS.depth} deep`);
    if (v === null || typeof v !== "object") return { kind: "scalar", value: v };
    if (v instanceof Uint8Array) return { kind: "other", description: `bytes[${v.byteLength}]` };
    if (v instanceof TorchTensor) return tensor(v, path.join("."));
    if (v instanceof OpaqueTensor)
      return { kind: "tensor", tensor: makeOpaqueTensorEntry(path.join("."), v.global, v.shape) };
    if (v instanceof OpaqueObject && isTensorLike(v)) {
      return { kind: "tensor", tensor: makeOpaqueTensorEntry(path.join("."), v.qualifiedName, undefined) };
    }
    if (v instanceof TorchStorage) return { kind: "other", description: `storage ${v.dtype}[${v.numel}]` };
    if (v instanceof PickleGlobal) return { kind: "other", description: `global ${v.qualifiedName}` };
    if (v instanceof Set) return { kind: "other", description: `set of ${v.size}` };
    if (v instanceof NumpyArray) return arrayNode(v);
    if (v instanceof NumpyDType) return { kind: "other", description: `numpy dtype ${v.name}` };
    if (v instanceof BuiltValue) return { kind: "other", description: v.kind };
    if (active.has(v)) return { kind: "other", description: "<recursive reference>" };
    active.add(v);
    try {
      if (Array.isArray(v)) return { kind: "list", items: v.map((item, i) => visitAt(String(i), item)) };
      if (v instanceof OpaqueObject) return opaque(v);
      return v instanceof PickleObject ? dict(v.fields, v.className) : dict(v);
    } finally {
      active.delete(v);
    }
  };

  const dict = (d: PickleDict, className?: string): DictNode => {
    const entries = [...d].map(([k, item]) => {
      const key = keyText(k);
      return { key, node: visitAt(key, item) };
    });
    return className === undefined ? { kind: "dict", entries } : { kind: "dict", className, entries };
  };

  /** Arguments under `(args)`, a state dict's fields (and slots) by name, other states under `(state)`, then items. */
  const opaque = (o: OpaqueObject): OpaqueNode => {
    const entries: { key: string; node: CheckpointNode }[] = [];
    const add = (key: string, item: PickleValue) => entries.push({ key, node: visitAt(key, item) });
    if (o.args.length > 0) add("(args)", [...o.args]);
    for (const state of o.states) {
      const parts =
        Array.isArray(state) && state.length === 2 && state.every((p) => p === null || p instanceof Map)
          ? state
          : [state];
      for (const part of parts) {
        if (part instanceof Map) for (const [k, item] of part) add(keyText(k), item);
        else if (part !== null) add("(state)", part);
      }
    }
    for (const [k, item] of o.entries) add(keyText(k), item);
    if (o.items.length > 0) add("(items)", o.items);
    return { kind: "opaque", global: o.qualifiedName, made: o.made, entries };
  };

  return visit(value);
}

function arrayNode(a: NumpyArray): CheckpointNode {
  const dtype = a.dtype;
  if (!dtype)
    return { kind: "other", description: `numpy array that cannot be read: ${a.problem ?? "it has no state"}` };
  const node: ArrayNode = { kind: "array", dtype: dtype.name, shape: a.shape };
  if (!dtype.numeric || a.size > MAX_ARRAY_VALUES || a.objects) return node;
  const values = new Array<number | bigint | boolean>(a.size);
  for (let i = 0; i < a.size; i++) values[i] = dtype.decode(a.data, i);
  // Fortran order lists the elements column-major: put them in row-major order.
  return { ...node, values: a.fortran ? transposeOrder(values, a.shape) : values };
}

/** Row-major order of elements given column-major. */
function transposeOrder<T>(values: T[], shape: readonly number[]): T[] {
  if (shape.length < 2) return values;
  const out = new Array<T>(values.length);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  for (let r = 0; r < values.length; r++) {
    let f = 0;
    for (let d = rank - 1; d >= 0; d--) f = f * shape[d] + index[d];
    out[r] = values[f];
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/** Dict keys as text: optimizer states key by int, Python prints True/None. */
function keyText(k: PickleValue): string {
  if (typeof k === "string") return k;
  if (typeof k === "number" || typeof k === "bigint") return String(k);
  if (typeof k === "boolean") return k ? "True" : "False";
  if (k === null) return "None";
  if (Array.isArray(k)) return `(${k.map(keyText).join(", ")})`;
  return "<object>";
}
