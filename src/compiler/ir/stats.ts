// Model statistics for `netc inspect`: parameters, op histogram and multiply-accumulate counts.
import { type Dim, dimProduct, dimSubstitute, isStatic } from "./dim.js";
import type { Graph, Node, Value } from "./ir.js";
import { macsOf } from "./ops/index.js";
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
  const shapes = (values: readonly Value[]) => values.map((v) => v.shape);
  return macsOf(n.op, n.attrs, shapes(n.inputs), shapes(n.outputs), (shape) => size(shape, ones));
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
