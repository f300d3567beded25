// The text of `netc weights inspect`: what a checkpoint holds, as a tree, with the state dict netc would pick.
import { DiagnosticError } from "../diagnostics/diagnostics.js";
import {
  findStateDict,
  wrapperPrefix,
  type ArrayNode,
  type Checkpoint,
  type CheckpointNode,
  type DictNode,
  type ScalarNode,
} from "./checkpoint.js";
import { isContiguous, type TensorEntry } from "./layout.js";

export interface InspectOptions {
  /** Tensors listed per container before the rest are counted instead; default: all. */
  maxTensorsPerDict?: number;
}

const FORMAT_NAMES = {
  "torch-zip": "torch zip checkpoint",
  "torch-legacy": "legacy torch checkpoint",
  safetensors: "safetensors file",
  "sharded-safetensors": "sharded safetensors checkpoint",
  "sharded-torch": "sharded torch checkpoint",
};
const INLINE_LIST = 8;
const MAX_TEXT = 80;
const INDENT = "  ";

export function inspectCheckpoint(ckpt: Checkpoint, options: InspectOptions = {}): string {
  const limit = options.maxTensorsPerDict ?? Infinity;
  const lines = [
    `${ckpt.path}: ${FORMAT_NAMES[ckpt.format]}, ${sizeText(ckpt.fileSize)}, ` +
      `${count(ckpt.tensors.length, "tensor")}, ${count(elements(ckpt.tensors), "element")}`,
    ...stateDictLines(ckpt),
  ];
  for (const [k, v] of ckpt.metadata) lines.push(`metadata ${k}: ${text(v)}`);
  for (const s of ckpt.shards) lines.push(`shard ${s.name}: ${count(s.tensors, "tensor")}, ${sizeText(s.size)}`);
  if (ckpt.root.kind === "dict" && ckpt.root.className === undefined) {
    renderEntries(ckpt.root, 0, limit, lines);
  } else {
    renderNode("(root)", ckpt.root, 0, limit, lines);
  }
  return lines.join("\n");
}

/** The dict netc would take, why, and the wrapper prefix a `strip` rule removes. */
function stateDictLines(ckpt: Checkpoint): string[] {
  try {
    const sd = findStateDict(ckpt);
    const where = sd.path === "" ? "the root" : `'${sd.path}'`;
    const lines = [
      `state dict: ${where} (${count(sd.tensors.size, "tensor")}, ${count(elements(sd.tensors.values()), "element")})`,
      `  why: ${sd.reason}`,
    ];
    const prefix = wrapperPrefix(sd);
    if (prefix !== undefined)
      lines.push(
        `  keys: every key starts with '${prefix}'; a model without the wrapper takes them with weights { strip ` +
          `"${prefix}" }`,
      );
    const opaque = [...sd.tensors.values()].filter((t) => t.opaque !== undefined).length;
    if (opaque > 0)
      lines.push(`  ${count(opaque, "tensor")} made by opaque objects: loading fails if the model needs one`);
    return lines;
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    return [`state dict: ${e.diagnostics[0].message.replace(`${ckpt.path}: `, "")}`];
  }
}

function renderNode(key: string, node: CheckpointNode, depth: number, limit: number, lines: string[]): void {
  const pad = INDENT.repeat(depth);
  switch (node.kind) {
    case "scalar":
      lines.push(`${pad}${key}: ${scalarText(node)}`);
      return;
    case "other":
      lines.push(`${pad}${key}: <${node.description}>`);
      return;
    case "tensor":
      lines.push(`${pad}${key}  ${tensorText(node.tensor)}`);
      return;
    case "array":
      lines.push(`${pad}${key}: ${arrayText(node)}`);
      return;
    case "opaque": {
      const made = node.made === "call" ? "(...)" : "";
      lines.push(`${pad}${key}: <opaque ${node.global}${made}>${tensorSummary(node)}`);
      renderEntries({ kind: "dict", entries: node.entries }, depth + 1, limit, lines);
      return;
    }
    case "list": {
      const scalars = node.items.every((i) => i.kind === "scalar");
      if (scalars && node.items.length <= INLINE_LIST) {
        lines.push(`${pad}${key}: [${node.items.map((i) => scalarText(i as ScalarNode)).join(", ")}]`);
      } else if (scalars) {
        const types = [...new Set(node.items.map((i) => scalarType(i as ScalarNode)))].join(" | ");
        lines.push(`${pad}${key}: list[${node.items.length}] of ${types}`);
      } else {
        lines.push(`${pad}${key}: list[${node.items.length}]${tensorSummary(node)}`);
        renderEntries(
          { kind: "dict", entries: node.items.map((n, i) => ({ key: String(i), node: n })) },
          depth + 1,
          limit,
          lines,
        );
      }
      return;
    }
    case "dict":
      lines.push(
        `${pad}${key}: ${node.className ?? "dict"}${node.entries.length === 0 ? " (empty)" : tensorSummary(node)}`,
      );
      renderEntries(node, depth + 1, limit, lines);
      return;
  }
}

/** Children in order; runs of tensors are aligned, and cut after `limit` per container. */
function renderEntries(dict: DictNode, depth: number, limit: number, lines: string[]): void {
  const listed = dict.entries.filter((e) => e.node.kind === "tensor").slice(0, limit);
  const width = Math.min(
    60,
    listed.reduce((w, e) => Math.max(w, e.key.length), 0),
  );
  let shown = 0;
  let hidden = 0;
  for (const { key, node } of dict.entries) {
    if (node.kind === "tensor") {
      if (shown >= limit) {
        hidden++;
        continue;
      }
      shown++;
      renderNode(key.padEnd(width), node, depth, limit, lines);
    } else {
      renderNode(key, node, depth, limit, lines);
    }
  }
  if (hidden > 0) lines.push(`${INDENT.repeat(depth)}... ${count(hidden, "more tensor")}`);
}

/** numpy arrays: type and shape, and the values when there are few (a 0-d array is its value). */
function arrayText(node: ArrayNode): string {
  const head = `ndarray ${node.dtype} [${node.shape.join(", ")}]`;
  const v = node.values;
  if (v === undefined || v.length > INLINE_LIST) return head;
  const shown = v.map((x) => (typeof x === "boolean" ? (x ? "True" : "False") : String(x)));
  return node.shape.length === 0 ? `${head} ${shown[0]}` : `${head} [${shown.join(", ")}]`;
}

function tensorText(t: TensorEntry): string {
  if (t.opaque !== undefined)
    return `<tensor made by opaque ${t.opaque}>${t.shape.length > 0 ? ` [${t.shape.join(", ")}]` : ""}`;
  const layout = isContiguous(t.shape, t.strides) ? "" : `  (strides [${t.strides.join(", ")}])`;
  return `${t.dtype} [${t.shape.join(", ")}]${layout}`;
}

function tensorSummary(node: CheckpointNode): string {
  const tensors: TensorEntry[] = [];
  const collect = (n: CheckpointNode): void => {
    if (n.kind === "tensor") tensors.push(n.tensor);
    else if (n.kind === "dict" || n.kind === "opaque") n.entries.forEach((e) => collect(e.node));
    else if (n.kind === "list") n.items.forEach(collect);
  };
  collect(node);
  return tensors.length === 0 ? "" : `, ${count(tensors.length, "tensor")}, ${count(elements(tensors), "element")}`;
}

function scalarText(node: ScalarNode): string {
  const v = node.value;
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "string") return text(v);
  return String(v);
}

function scalarType(node: ScalarNode): string {
  const v = node.value;
  if (v === null) return "None";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  return { bigint: "int", boolean: "bool", string: "str" }[typeof v as "bigint" | "boolean" | "string"];
}

function text(s: string): string {
  return JSON.stringify(s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}...` : s);
}

function elements(tensors: Iterable<TensorEntry>): number {
  let n = 0;
  for (const t of tensors) n += t.numel;
  return n;
}

function sizeText(bytes: number): string {
  const units: [number, string][] = [
    [1e9, "GB"],
    [1e6, "MB"],
    [1e3, "kB"],
  ];
  const [scale, unit] = units.find(([s]) => bytes >= s) ?? [1, "bytes"];
  return scale === 1 ? `${bytes} bytes` : `${(bytes / scale).toFixed(1)} ${unit}`;
}

function count(n: number, noun: string): string {
  return `${n.toLocaleString("en-US")} ${noun}${n === 1 ? "" : "s"}`;
}
