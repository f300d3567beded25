// Model statistics for `netc inspect`: parameters, op histogram and multiply-accumulate counts.
import { type Dim, dimProduct, dimSubstitute, isStatic } from "./dim.js";
import { type BinaryOp, elementwiseRow, type UnaryOp } from "./elementwise-ops.js";
import type { Graph, Node, OpName } from "./ir.js";
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

type Size = (shape: readonly Dim[]) => number;
type Macs<K extends OpName> = (n: Node<K>, size: Size) => number;

const NONE = () => 0;

/** Multiply-accumulates of every op but the elementwise ones (which have none): a missing entry does not compile. */
const MACS: { readonly [K in Exclude<OpName, UnaryOp | BinaryOp>]: Macs<K> } = {
  matmul: (n, size) => {
    const a = n.inputs[0].shape;
    return size(n.outputs[0].shape) * size([a[a.length - 1]]);
  },
  conv: (n, size) => size(n.outputs[0].shape) * size(n.inputs[1].shape.slice(1)),
  attention: (n, size) => {
    const [q, k, v] = n.inputs;
    const scores = size(q.shape.slice(0, -1)) * size([k.shape[k.shape.length - 2]]);
    return scores * (size([q.shape[q.shape.length - 1]]) + size([v.shape[v.shape.length - 1]]));
  },
  // Every step multiplies the input and the previous h by the 4H gate rows: T * N * 4H * (I + H).
  lstm: (n, size) => {
    const [x, wIh, wHh] = n.inputs;
    return size(x.shape.slice(0, 2)) * size(wIh.shape) + size(x.shape.slice(0, 2)) * size(wHh.shape);
  },
  input: NONE,
  param: NONE,
  const: NONE,
  where: NONE,
  cast: NONE,
  clip: NONE,
  reduce: NONE,
  argmax: NONE,
  softmax: NONE,
  layer_norm: NONE,
  batch_norm: NONE,
  transpose: NONE,
  reshape: NONE,
  expand: NONE,
  slice: NONE,
  concat: NONE,
  pad: NONE,
  gather: NONE,
  gather_elements: NONE,
  max_pool: NONE,
  avg_pool: NONE,
  resize: NONE,
  topk: NONE,
  sample_linear: NONE,
};

function nodeMacs(n: Node, ones: ReadonlyMap<string, Dim>): number {
  if (elementwiseRow(n.op)) return 0;
  return (MACS[n.op as keyof typeof MACS] as Macs<OpName>)(n, (shape) => size(shape, ones));
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
