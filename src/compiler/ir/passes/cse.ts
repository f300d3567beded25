// Common-subexpression elimination: two nodes with the same op, attributes and inputs compute the same values.
// Small constants are compared by content; large ones only by identity (hashing them costs more than it saves).
import { bytesOf, type HostTensor } from "../../../util/tensor.js";
import { dimToString, type SymDim } from "../dim.js";
import type { Graph, Node } from "../ir.js";
import { rewriteGraph } from "./rewrite.js";

const MAX_CONST_BYTES = 64 * 1024;

/** A canonical string for attribute values: sorted object keys; symbolic dims by their printed form. */
function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(",")}]`;
  if (x !== null && typeof x === "object") {
    if ("terms" in x) return dimToString(x as SymDim);
    const entries = Object.entries(x).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}:${canonical(v)}`)
      .join(",")}}`;
  }
  return JSON.stringify(x);
}

function constKey(t: HostTensor): string | undefined {
  if (t.data.byteLength > MAX_CONST_BYTES) return undefined;
  return `${t.dtype}[${t.shape.join(",")}]${Buffer.from(bytesOf(t)).toString("base64")}`;
}

/** The key under which equal nodes meet, or undefined for nodes that are never merged. */
function nodeKey(node: Node): string | undefined {
  if (node.op === "input") return undefined;
  if (node.op === "const") {
    const k = constKey(node.attrs.value);
    return k === undefined ? undefined : `const ${k}`;
  }
  return `${node.op} ${canonical(node.attrs)} (${node.inputs.map((v) => v.id).join(",")})`;
}

export function eliminateCommonSubexpressions(graph: Graph): boolean {
  const seen = new Map<string, Node>();
  return rewriteGraph(graph, (node) => {
    const key = nodeKey(node);
    if (key === undefined) return undefined;
    const first = seen.get(key);
    if (first) return first.outputs;
    seen.set(key, node);
    return undefined;
  });
}
