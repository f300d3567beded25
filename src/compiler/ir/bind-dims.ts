// A copy of a graph with symbolic dimensions given values: every shape (and every shape attribute) substituted,
// each value's by the binding `bindingOf` gives it (the same for all values, except where a backend lays some values
// out at other sizes). The WGSL backend plans a bundle with a run-time batch on such a copy, and keeps the
// correspondence to the symbolic values to know which sizes grow with the batch.
import { type Dim, dimSubstitute } from "./dim.js";
import type { Graph, GraphOutput, Node, Value } from "./ir.js";

export interface BoundGraph {
  graph: Graph;
  /** The symbolic value each value of the copy stands for. */
  symbolic: Map<Value, Value>;
}

export function bindDims(graph: Graph, bindingOf: (v: Value) => ReadonlyMap<string, number>): BoundGraph {
  const bind = (shape: readonly Dim[], v: Value) => shape.map((d) => dimSubstitute(d, bindingOf(v)));
  const copyOf = new Map<Value, Value>();
  const symbolic = new Map<Value, Value>();
  const nodes = graph.nodes.map((n) => {
    const attrs =
      n.op === "reshape" || n.op === "expand"
        ? { ...n.attrs, shape: bind(n.attrs.shape, n.outputs[0]) }
        : { ...n.attrs };
    const node = { ...n, attrs, inputs: n.inputs.map((v) => copyOf.get(v)!), outputs: [] as Value[] } as Node;
    node.outputs = n.outputs.map((v) => {
      const copy: Value = { ...v, shape: bind(v.shape, v), producer: node };
      copyOf.set(v, copy);
      symbolic.set(copy, v);
      return copy;
    });
    return node;
  });
  const rebind = (outs: readonly GraphOutput[]) => outs.map((o) => ({ ...o, value: copyOf.get(o.value)! }));
  const bound = new Set(graph.nodes.flatMap((n) => n.outputs.flatMap((v) => [...bindingOf(v).keys()])));
  const left = graph.symbols.filter((s) => !bound.has(s));
  return {
    graph: {
      ...graph,
      nodes,
      inputs: rebind(graph.inputs),
      outputs: rebind(graph.outputs),
      taps: rebind(graph.taps),
      symbols: left,
    },
    symbolic,
  };
}
