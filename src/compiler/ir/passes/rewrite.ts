// The one way passes change a graph: walk the nodes in order and let a rule replace a node's results.
// New nodes made through the builder land at the current position, so the node list stays topologically sorted.
import { GraphBuilder, type NodeOrigin } from "../builder.js";
import type { Graph, Node, Value } from "../ir.js";

/** Returns replacement values for the node's outputs (existing values or new nodes), or undefined to keep it. */
export type RewriteRule = (node: Node, b: GraphBuilder) => Value[] | undefined;

/** What a replacement node inherits from the node it replaces. */
export function originOf(node: Node): NodeOrigin {
  return { span: node.span, scope: node.scope, construct: node.construct };
}

/** Applies `rule` to every node once; returns whether anything changed. Replaced nodes are dropped. */
export function rewriteGraph(graph: Graph, rule: RewriteRule): boolean {
  const b = GraphBuilder.resume(graph);
  const old = graph.nodes;
  graph.nodes = [];
  const subst = new Map<Value, Value>();
  const remap = (v: Value) => subst.get(v) ?? v;
  for (const node of old) {
    if (node.inputs.some((v) => subst.has(v))) node.inputs = node.inputs.map(remap);
    const repl = rule(node, b);
    if (repl) node.outputs.forEach((v, i) => subst.set(v, repl[i]));
    else graph.nodes.push(node);
  }
  for (const o of [...graph.outputs, ...graph.taps]) o.value = remap(o.value);
  return subst.size > 0;
}

/** Each value's readers: the nodes that take it as an input, each once, in graph order. */
export function readersOf(graph: Graph): Map<Value, Node[]> {
  const readers = new Map<Value, Node[]>();
  for (const n of graph.nodes)
    for (const v of n.inputs) {
      const list = readers.get(v) ?? [];
      if (!list.includes(n)) list.push(n);
      readers.set(v, list);
    }
  return readers;
}

/** The values the graph hands out (its outputs and taps): read after the last node, so never free to drop. */
export function resultsOf(graph: Graph): Set<Value> {
  return new Set([...graph.outputs, ...graph.taps].map((o) => o.value));
}

/** Whether a value is read by exactly one node and is no graph result: a rewrite of that reader may drop it. */
export function readOnce(graph: Graph, readers: Map<Value, Node[]> = readersOf(graph)): (v: Value) => boolean {
  const results = resultsOf(graph);
  return (v) => !results.has(v) && (readers.get(v) ?? []).length === 1;
}
