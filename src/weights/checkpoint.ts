// A checkpoint opened for reading: its container tree, its tensors (read lazily), and the state dict in it.
import { byteSize, type HostTensor } from "../util/tensor.js";
import { WeightCodes, weightError, withDiagnostics } from "../diagnostics/weight-codes.js";
import { BinaryFile } from "./file.js";
import { isContiguous, readTensorEntry, type TensorEntry } from "./layout.js";
import type { TensorRecipe } from "../util/lazy-tensor.js";
import { readSafetensorsTree } from "./safetensors.js";
import { isShardIndex, openSharded } from "./sharded.js";
import { isTorchLegacyHeader, readTorchLegacy, readTorchZip } from "./torch.js";

export type CheckpointFormat = "torch-zip" | "torch-legacy" | "safetensors" | "sharded-safetensors" | "sharded-torch";

/** Where a checkpoint's tensor data lives: one file, or the shards of an index. */
export interface TensorSource {
  /** Bytes in all files together. */
  readonly size: number;
  read(entry: TensorEntry): HostTensor;
  /** Where another thread can read the tensor's bytes as they are (contiguous data), if it can. */
  recipe(entry: TensorEntry): TensorRecipe | undefined;
  close(): void;
}

/**
 * The tensors of one file. Once closed, each read opens the file again for itself alone (weights read lazily, as an
 * output is written), and refuses a file that changed since it was first opened: its layout was validated then.
 */
export function fileSource(file: BinaryFile): TensorSource {
  let open: BinaryFile | undefined = file;
  const reopen = (entry: TensorEntry): HostTensor => {
    const again = BinaryFile.open(file.path);
    try {
      if (again.size !== file.size || again.mtimeMs !== file.mtimeMs)
        throw weightError(
          WeightCodes.ChangedWhileRead,
          `${file.path} changed while netc was reading it (${file.size} bytes when opened, ${again.size} when ` +
            `tensor '${entry.key}' was read)`,
        );
      return readTensorEntry(again, entry);
    } finally {
      again.close();
    }
  };
  return {
    size: file.size,
    read: (entry) => (open ? readTensorEntry(open, entry) : reopen(entry)),
    recipe: (entry) =>
      entry.opaque === undefined && isContiguous(entry.shape, entry.strides)
        ? {
            kind: "file",
            path: file.path,
            position: entry.storage.fileOffset + entry.storageOffset * byteSize(entry.dtype),
            size: file.size,
            mtimeMs: file.mtimeMs,
          }
        : undefined,
    close: () => {
      open?.close();
      open = undefined;
    },
  };
}

export type CheckpointNode = DictNode | ListNode | TensorNode | ScalarNode | ArrayNode | OpaqueNode | OtherNode;

export interface DictNode {
  kind: "dict";
  /** Set for objects kept as their attributes (argparse.Namespace). */
  className?: string;
  entries: readonly { key: string; node: CheckpointNode }[];
}

export interface ListNode {
  kind: "list";
  items: readonly CheckpointNode[];
}

export interface TensorNode {
  kind: "tensor";
  tensor: TensorEntry;
}

export interface ScalarNode {
  kind: "scalar";
  value: string | number | bigint | boolean | null;
}

/** A numpy array (a recorder's curves, say): data, not a tensor netc imports. */
export interface ArrayNode {
  kind: "array";
  /** numpy's name: float64, int32, bool, or the type code for others. */
  dtype: string;
  shape: readonly number[];
  /** The elements in order, for numeric arrays of modest size; undefined otherwise. */
  values?: readonly (number | bigint | boolean)[];
}

/**
 * An object of a Python class netc does not know (`__main__.RecorderMeter`), as the pickle recorded it: nothing was
 * called or constructed. `entries` are its arguments (`(args)`), its state's fields and its items, when it has any.
 */
export interface OpaqueNode {
  kind: "opaque";
  /** "module.name" of the global. */
  global: string;
  /** How the pickle made it: the bare name, a call `name(*args)`, or `name.__new__(name, *args)`. */
  made: "global" | "call" | "new";
  entries: readonly { key: string; node: CheckpointNode }[];
}

/** Anything else worth showing but not importing (bytes, sets, bare storages), summarised. */
export interface OtherNode {
  kind: "other";
  description: string;
}

export class Checkpoint {
  /** Every tensor in the tree, in tree order, keyed by dotted path from the root. */
  readonly tensors: readonly TensorEntry[];

  constructor(
    readonly path: string,
    readonly format: CheckpointFormat,
    readonly root: CheckpointNode,
    private readonly source: TensorSource,
    /** safetensors `__metadata__` (a sharded index's `metadata`); empty for torch files. */
    readonly metadata: ReadonlyMap<string, string> = new Map(),
    /** A sharded checkpoint's files, as its index names them, with how many tensors each gives. */
    readonly shards: readonly { name: string; tensors: number; size: number }[] = [],
  ) {
    const tensors: TensorEntry[] = [];
    walk(root, [], (node) => {
      if (node.kind === "tensor") tensors.push(node.tensor);
    });
    this.tensors = tensors;
  }

  get fileSize(): number {
    return this.source.size;
  }

  /** A contiguous row-major copy of the tensor's data. */
  readTensor(entry: TensorEntry): HostTensor {
    return withDiagnostics(this.path, `reading tensor '${entry.key}'`, () => this.source.read(entry));
  }

  /** Where another thread can read the tensor as it is stored (see read-ahead.ts), when it can. */
  recipe(entry: TensorEntry): TensorRecipe | undefined {
    return this.source.recipe(entry);
  }

  /** Closes the file; a later readTensor opens it again for that read (see fileSource). */
  close(): void {
    this.source.close();
  }
}

/**
 * Opens a torch.save file (zip or legacy), a safetensors file, or the index of a sharded checkpoint
 * (`*.index.json`). Only the structure is read here; tensor data is read on demand. Any problem is a
 * DiagnosticError naming the file.
 */
export function openCheckpoint(path: string): Checkpoint {
  if (isShardIndex(path)) return openSharded(path, openFile);
  return openFile(path);
}

/** One checkpoint file (a shard, or a whole checkpoint). */
function openFile(path: string): Checkpoint {
  const file = BinaryFile.open(path);
  try {
    return withDiagnostics(path, "reading the checkpoint", () => {
      const format = sniff(file);
      if (format === "safetensors") {
        const { root, metadata } = readSafetensorsTree(file);
        return new Checkpoint(path, format, root, fileSource(file), metadata);
      }
      const root = format === "torch-zip" ? readTorchZip(file) : readTorchLegacy(file);
      return new Checkpoint(path, format, root, fileSource(file));
    });
  } catch (e) {
    file.close();
    throw e;
  }
}

const SNIFF_BYTES = 512;
const TAR_MAGIC_AT = 257;
const PICKLE_PROTO = 0x80;

function sniff(file: BinaryFile): CheckpointFormat {
  const head = file.read(0, Math.min(SNIFF_BYTES, file.size), "the file header");
  const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  const notCheckpoint = (what: string): never => {
    throw weightError(WeightCodes.NotACheckpoint, `${file.path} is not a checkpoint: ${what}`);
  };
  if (head.byteLength === 0) notCheckpoint("the file is empty");
  if (ascii(0, 4) === "PK\x03\x04" || ascii(0, 4) === "PK\x05\x06") return "torch-zip";
  if (head.byteLength >= 9 && head[8] === 0x7b /* { */) {
    const headerLength = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
    if (headerLength <= BigInt(file.size - 8)) return "safetensors";
  }
  if (head[0] === PICKLE_PROTO) {
    if (isTorchLegacyHeader(head)) return "torch-legacy";
    notCheckpoint("it is a Python pickle, but not a torch checkpoint (it lacks torch's magic number)");
  }
  if (ascii(TAR_MAGIC_AT, TAR_MAGIC_AT + 5) === "ustar") {
    throw weightError(
      WeightCodes.UnsupportedFormat,
      `${file.path} is a tar checkpoint from torch < 0.4, which netc does not read`,
      { hint: "load it with an old torch and re-save it with torch.save" },
    );
  }
  if (ascii(0, 6) === "\x93NUMPY") return notCheckpoint("it is a NumPy .npy array");
  return notCheckpoint("it is neither a zip archive (torch >= 1.6), a legacy torch pickle nor safetensors");
}

export interface StateDict {
  readonly checkpoint: Checkpoint;
  /** Where the dict sits in the checkpoint, as a dotted path; "" for the root. */
  readonly path: string;
  /** Every tensor beneath the dict, keyed by its dotted path relative to the dict. */
  readonly tensors: ReadonlyMap<string, TensorEntry>;
  /** Why this dict: "chosen by subdict", or the only dict of tensors (and what was left aside). */
  readonly reason: string;
}

/** Describes a state dict's place for messages: `model.pth ['model']`. */
export function describeStateDict(sd: StateDict): string {
  return sd.path === "" ? sd.checkpoint.path : `${sd.checkpoint.path} ['${sd.path}']`;
}

/**
 * Picks the state dict: the dict at `subdict` (a dotted path such as "model", "state_dict" or "ema") when given;
 * otherwise the one dict whose values are all tensors, leaving optimizer states aside. Several such dicts are
 * an error that lists them, since picking the EMA or the raw weights is the user's choice.
 */
export function findStateDict(ckpt: Checkpoint, subdict?: string): StateDict {
  if (subdict !== undefined && subdict !== "") {
    const node = resolvePath(ckpt, subdict);
    const tensors = isModule(node)
      ? moduleTensors(node)
      : node.kind === "dict" || node.kind === "list"
        ? tensorsBelow(node)
        : new Map();
    if (tensors.size === 0) {
      throw weightError(WeightCodes.StateDictNotFound, `${ckpt.path}: '${subdict}' is not a dict of tensors`, {
        hint: candidatesHint(ckpt),
      });
    }
    return { checkpoint: ckpt, path: subdict, tensors, reason: `chosen by subdict "${subdict}"` };
  }
  const { found, optimizers } = stateDictCandidates(ckpt.root);
  if (found.length === 1) {
    const [chosen] = found;
    const aside = optimizers.length === 0 ? "" : ` (training state at ${optimizers.map(place).join(", ")} left aside)`;
    const only =
      ckpt.format === "safetensors"
        ? "a safetensors file is one state dict"
        : ckpt.format.startsWith("sharded")
          ? "the shards' tensors, as the index lists them"
          : "the only dict whose values are all tensors";
    const why =
      chosen.module === undefined
        ? only
        : `an nn.Module pickled whole (${chosen.module}), named as its state_dict() names them`;
    return { checkpoint: ckpt, path: chosen.path, tensors: chosen.tensors, reason: why + aside };
  }
  if (found.length === 0) {
    const opaque: string[] = [];
    walk(ckpt.root, [], (node, path) => {
      if (node.kind === "opaque" && opaque.length < 3) opaque.push(`${node.global} at ${place(path.join("."))}`);
    });
    throw weightError(WeightCodes.StateDictNotFound, `${ckpt.path}: no dict of tensors found in the checkpoint`, {
      hint:
        opaque.length > 0
          ? `it holds Python objects netc does not rebuild (${opaque.join(", ")}); save model.state_dict() ` +
            `instead of the objects`
          : undefined,
    });
  }
  throw weightError(
    WeightCodes.AmbiguousStateDict,
    `${ckpt.path}: several dicts of tensors could be the state dict: ${found.map(describeCandidate).join(", ")}`,
  );
}

interface Candidate {
  path: string;
  tensors: Map<string, TensorEntry>;
  /** The class of an nn.Module pickled whole (torch.save(model)). */
  module?: string;
}

function place(path: string): string {
  return path === "" ? "(root)" : `'${path}'`;
}

function describeCandidate(c: Candidate): string {
  const n = c.tensors.size;
  return `${place(c.path)} (${n} tensor${n === 1 ? "" : "s"})`;
}

function candidatesHint(ckpt: Checkpoint): string | undefined {
  const { found } = stateDictCandidates(ckpt.root);
  return found.length > 0 ? `dicts of tensors here: ${found.map(describeCandidate).join(", ")}` : undefined;
}

/**
 * Training bookkeeping that can hold dicts of tensors but never the weights: optimizer and scheduler states, and
 * PyTorch Lightning's callback states (ModelCheckpoint's best_k_models), loops and hyper-parameters.
 */
const BOOKKEEPING = new Set([
  "optimizer",
  "optimizers",
  "optimizer_states",
  "lr_scheduler",
  "lr_schedulers",
  "scheduler",
  "callbacks",
  "loops",
  "hyper_parameters",
]);

/**
 * Dicts whose values are all tensors, outside optimizer states (dicts with 'state' and 'param_groups') and bookkeeping.
 */
function stateDictCandidates(root: CheckpointNode): { found: Candidate[]; optimizers: string[] } {
  const found: Candidate[] = [];
  const optimizers: string[] = [];
  walk(root, [], (node, path) => {
    if (isModule(node)) {
      found.push({ path: path.join("."), tensors: moduleTensors(node), module: node.global });
      return false;
    }
    if (node.kind !== "dict" && node.kind !== "list") return true;
    const keys = new Set(node.kind === "dict" ? node.entries.map((e) => e.key) : []);
    if (
      (keys.has("state") && keys.has("param_groups")) ||
      (path.length > 0 && BOOKKEEPING.has(path[path.length - 1]))
    ) {
      if (hasTensors(node)) optimizers.push(path.join("."));
      return false;
    }
    if (node.kind === "list") return true;
    if (node.entries.length > 0 && node.entries.every((e) => e.node.kind === "tensor")) {
      found.push({ path: path.join("."), tensors: tensorsBelow(node) });
      return false;
    }
    return true;
  });
  return { found, optimizers };
}

/** Prefixes that wrappers add to every key: DataParallel/DDP, a LightningModule's attribute, torch.compile. */
const WRAPPER_PREFIXES = ["module.", "model.", "net.", "_orig_mod."];

/** The wrapper prefix every key of the state dict starts with, if any. */
export function wrapperPrefix(sd: StateDict): string | undefined {
  if (sd.tensors.size === 0) return undefined;
  return WRAPPER_PREFIXES.find((p) => {
    for (const key of sd.tensors.keys()) if (!key.startsWith(p)) return false;
    return true;
  });
}

/** Follows a dotted path; dict keys may themselves contain dots, so the longest matching key wins. */
function resolvePath(ckpt: Checkpoint, path: string): CheckpointNode {
  let node = ckpt.root;
  let rest = path;
  while (rest !== "") {
    const children =
      node.kind === "dict"
        ? node.entries
        : node.kind === "list"
          ? node.items.map((n, i) => ({ key: String(i), node: n }))
          : [];
    let next: { key: string; node: CheckpointNode } | undefined;
    for (const child of children) {
      const fits = rest === child.key || rest.startsWith(`${child.key}.`);
      if (fits && (next === undefined || child.key.length > next.key.length)) next = child;
    }
    if (next === undefined) {
      throw weightError(WeightCodes.StateDictNotFound, `${ckpt.path}: there is no '${path}' in the checkpoint`, {
        hint: candidatesHint(ckpt),
      });
    }
    node = next.node;
    rest = rest.slice(Math.min(rest.length, next.key.length + 1));
  }
  return node;
}

/** An nn.Module pickled whole: an opaque object whose state holds `_parameters` and `_modules`. */
function isModule(node: CheckpointNode): node is OpaqueNode {
  if (node.kind !== "opaque") return false;
  const keys = new Set(node.entries.map((e) => e.key));
  return keys.has("_parameters") && keys.has("_modules");
}

/**
 * A pickled module's parameters and buffers, then its submodules', under the names module.state_dict() gives them.
 * (Buffers registered with persistent=False are included: state_dict() leaves them out, so they show as unexpected.)
 */
function moduleTensors(
  module: OpaqueNode,
  prefix = "",
  out = new Map<string, TensorEntry>(),
): Map<string, TensorEntry> {
  for (const { key, node } of module.entries) {
    if (node.kind !== "dict") continue;
    if (key === "_parameters" || key === "_buffers") {
      for (const e of node.entries) if (e.node.kind === "tensor") out.set(prefix + e.key, e.node.tensor);
    } else if (key === "_modules") {
      for (const e of node.entries) if (isModule(e.node)) moduleTensors(e.node, `${prefix}${e.key}.`, out);
    }
  }
  return out;
}

function hasTensors(node: CheckpointNode): boolean {
  let found = false;
  walk(node, [], (n) => {
    if (n.kind === "tensor") found = true;
    return !found;
  });
  return found;
}

function tensorsBelow(node: CheckpointNode): Map<string, TensorEntry> {
  const tensors = new Map<string, TensorEntry>();
  walk(node, [], (n, path) => {
    if (n.kind === "tensor") tensors.set(path.join("."), n.tensor);
  });
  return tensors;
}

/** Visits nodes depth-first in order; `visit` returning false skips a node's children. */
export function walk(
  node: CheckpointNode,
  path: string[],
  // biome-ignore lint/suspicious/noConfusingVoidType: a visitor may return nothing (go on) or false (stop descending)
  visit: (node: CheckpointNode, path: readonly string[]) => boolean | void,
): void {
  if (visit(node, path) === false) return;
  if (node.kind === "dict" || node.kind === "opaque")
    for (const e of node.entries) walk(e.node, [...path, e.key], visit);
  else if (node.kind === "list") node.items.forEach((item, i) => walk(item, [...path, String(i)], visit));
}
