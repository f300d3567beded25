// Model statistics for `netc inspect`: parameters, op histogram and multiply-accumulate counts.
import { type Dim, dimProduct, dimSubstitute, isStatic } from "./dim.js";
import type { Graph, Node } from "./ir.js";
import { numel } from "../../util/tensor.js";

export interface GraphStats {
  nodes: number;
  histogram: Record<string, number>;
  parameters: number;
  unusedParameters: number;
  /** Multiply-accumulates of matmul, conv, attention and lstm with every symbolic dimension set to 1. */
  macs: number;
}

function size(shape: readonly Dim[], ones: ReadonlyMap<string, Dim>): number {
  const n = dimSubstitute(dimProduct(shape), ones);
  return isStatic(n) ? n : NaN;
}

function nodeMacs(n: Node, ones: ReadonlyMap<string, Dim>): number {
  switch (n.op) {
    case "matmul": {
      const a = n.inputs[0].shape;
      return size(n.outputs[0].shape, ones) * size([a[a.length - 1]], ones);
    }
    case "conv": {
      const w = n.inputs[1].shape;
      return size(n.outputs[0].shape, ones) * size(w.slice(1), ones);
    }
    case "attention": {
      const [q, , v] = n.inputs;
      const scores = size(q.shape.slice(0, -1), ones) * size([n.inputs[1].shape[n.inputs[1].shape.length - 2]], ones);
      return scores * (size([q.shape[q.shape.length - 1]], ones) + size([v.shape[v.shape.length - 1]], ones));
    }
    case "lstm": {
      // Every step multiplies the input and the previous h by the 4H gate rows: T * N * 4H * (I + H).
      const [x, wIh, wHh] = n.inputs;
      return size(x.shape.slice(0, 2), ones) * size(wIh.shape, ones) + size(x.shape.slice(0, 2), ones) * size(wHh.shape, ones);
    }
    default:
      return 0;
  }
}

export function graphStats(graph: Graph): GraphStats {
  const histogram: Record<string, number> = {};
  const ones = new Map<string, Dim>(graph.symbols.map((s) => [s, 1]));
  let macs = 0;
  for (const n of graph.nodes) {
    histogram[n.op] = (histogram[n.op] ?? 0) + 1;
    macs += nodeMacs(n, ones);
  }
  let parameters = 0;
  let unusedParameters = 0;
  for (const p of graph.params) {
    if (p.unused) unusedParameters += numel(p.shape);
    else parameters += numel(p.shape);
  }
  return { nodes: graph.nodes.length, histogram, parameters, unusedParameters, macs };
}
