// The IR verifier, run between passes: SSA well-formedness, types re-inferred from scratch, unique names.
// Anything it reports is a compiler bug, phrased so that the bug can be found from the .net line.
import { IrCodes, makeDiagnostic } from "../../diagnostics/codes.js";
import type { Diagnostic, Span } from "../../diagnostics/diagnostics.js";
import { numel } from "../../util/tensor.js";
import { shapeEq, shapeToString } from "./dim.js";
import { InferError, type TensorType } from "./infer.js";
import { inferOp } from "./ops/index.js";
import type { Graph, Node } from "./ir.js";

export interface VerifyOptions {
  /** Every node must carry its `.net` span (default true; hand-built test graphs may opt out). */
  requireSpans?: boolean;
  /** Names the pass that just ran, for the message. */
  after?: string;
}

const typeStr = (t: TensorType) => `${t.dtype}${shapeToString(t.shape)}`;

/** The types a source node must have, or a reason why it is malformed. */
function sourceTypes(graph: Graph, node: Node<"input" | "param" | "const">): TensorType[] | string {
  if (node.op === "const") {
    const t = node.attrs.value;
    if (t.data.length !== numel(t.shape))
      return `its tensor has ${t.data.length} elements for shape [${t.shape.join(", ")}]`;
    return [t];
  }
  if (node.op === "param") {
    const path = node.attrs.path;
    const info = graph.params.find((p) => p.path === path);
    return info ? [info] : `the parameter ${path} is not declared in graph.params`;
  }
  const name = node.attrs.name;
  const entry = graph.inputs.find((i) => i.name === name);
  if (!entry || entry.value !== node.outputs[0]) return `the input ${name} is not listed in graph.inputs`;
  return [entry.value];
}

function nodeTypes(graph: Graph, node: Node): TensorType[] | string {
  if (node.op === "input" || node.op === "param" || node.op === "const") {
    if (node.inputs.length > 0) return "a source node has inputs";
    return sourceTypes(graph, node);
  }
  try {
    return inferOp(node.op, node.attrs, node.inputs);
  } catch (e) {
    if (e instanceof InferError) return e.message;
    throw e;
  }
}

export function verifyGraph(graph: Graph, opts: VerifyOptions = {}): Diagnostic[] {
  const requireSpans = opts.requireSpans ?? true;
  const out: Diagnostic[] = [];
  const prefix = opts.after ? `after ${opts.after}: ` : "";
  const report = (msg: string, span?: Span) =>
    out.push(makeDiagnostic(IrCodes.VerifierFailed, prefix + msg, span ?? graph.span));
  const inGraph = new Set(graph.nodes);
  const defined = new Set<Node>();
  const nodeIds = new Set<number>();
  const valueIds = new Set<number>();

  for (const node of graph.nodes) {
    const what = `node ${node.id} (${node.op}${node.scope ? ` in ${node.scope}` : ""})`;
    const bad = (msg: string) => report(`${what}: ${msg}`, node.span);
    if (nodeIds.has(node.id)) bad("its id is used by another node");
    nodeIds.add(node.id);
    if (requireSpans && !node.span) bad("it has no source span");
    node.inputs.forEach((v, i) => {
      if (!inGraph.has(v.producer)) bad(`input ${i} (value ${v.id}) is produced by a node that is not in the graph`);
      else if (!defined.has(v.producer))
        bad(`input ${i} (value ${v.id}) is used before node ${v.producer.id} defines it`);
    });
    node.outputs.forEach((v, j) => {
      if (v.producer !== node || v.index !== j) bad(`output ${j} (value ${v.id}) names another producer or index`);
      if (valueIds.has(v.id)) bad(`output ${j} reuses the value id ${v.id}`);
      valueIds.add(v.id);
    });
    const types = nodeTypes(graph, node);
    if (typeof types === "string") bad(types);
    else if (types.length !== node.outputs.length)
      bad(`it has ${node.outputs.length} outputs, the op gives ${types.length}`);
    else
      types.forEach((t, j) => {
        const v = node.outputs[j];
        if (t.dtype !== v.dtype || !shapeEq(t.shape, v.shape))
          bad(`output ${j} is ${typeStr(v)} but its inputs give ${typeStr(t)}`);
      });
    defined.add(node);
  }

  const unique = (names: string[], what: string) => {
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) report(`${what} ${n} is declared twice`);
      seen.add(n);
    }
  };
  unique(
    graph.inputs.map((i) => i.name),
    "the input",
  );
  unique(
    graph.params.map((p) => p.path),
    "the parameter",
  );
  unique(
    graph.outputs.map((o) => o.name),
    "the output",
  );
  unique(
    graph.taps.map((o) => o.name),
    "the tap",
  );
  for (const i of graph.inputs)
    if (!inGraph.has(i.value.producer) || i.value.producer.op !== "input")
      report(`the input ${i.name} has no input node in the graph`, i.span);
  for (const o of [...graph.outputs, ...graph.taps])
    if (!inGraph.has(o.value.producer))
      report(`${o.name} refers to a value (${o.value.id}) that no node in the graph computes`, o.span);
  return out;
}
