// Writes every transpose in its smallest form: axes of size 1 dropped and runs of axes that stay neighbours merged,
// as reshape(transpose(reshape(x))). onnxruntime's CPU Transpose has fast paths only for a transpose that moves one
// axis ([A, B, C] -> [A, C, B] as 2-D blocked transposes) and copies element by element otherwise: a unit axis left
// in the middle, as in [1, 25088, 1, 96] -> [1, 96, 1, 25088], turns a plain 2-D transpose into the slow path (about
// 10x slower measured on IFDD's pooling layouts). A transpose that only moves unit axes becomes a reshape.
import type { GraphBuilder } from "../builder.js";
import { type Dim, dimProduct } from "../dim.js";
import type { Graph, Node, Value } from "../ir.js";
import { originOf, rewriteGraph } from "./rewrite.js";
import { feedsConvAsNchw } from "./transpose-reshape.js";

/**
 * The input's axes grouped into runs that the transpose keeps together and in order (unit axes left out), listed in
 * input order, and the order in which the output lists those runs.
 */
function runsOf(shape: readonly Dim[], perm: readonly number[]): { runs: number[][]; order: number[] } {
  const kept = perm.filter((axis) => shape[axis] !== 1);
  const runs: number[][] = [];
  for (const axis of kept) {
    const last = runs.at(-1);
    const end = last?.at(-1);
    if (last && end !== undefined && axis > end && shape.slice(end + 1, axis).every((d) => d === 1)) last.push(axis);
    else runs.push([axis]);
  }
  const byInput = [...runs].sort((a, b) => a[0] - b[0]);
  return { runs: byInput, order: runs.map((r) => byInput.indexOf(r)) };
}

function rewriteTranspose(node: Node, b: GraphBuilder, keep: ReadonlySet<Node>): Value[] | undefined {
  if (node.op !== "transpose" || keep.has(node)) return undefined;
  const [x] = node.inputs;
  const { perm } = node.attrs;
  const { runs, order } = runsOf(x.shape, perm);
  if (runs.length === perm.length) return undefined; // already smallest
  const origin = originOf(node);
  const out = node.outputs[0].shape;
  if (order.every((g, i) => g === i)) return [b.op1("reshape", { shape: [...out] }, [x], origin)];
  const merged = b.op1("reshape", { shape: runs.map((r) => dimProduct(r.map((a) => x.shape[a]))) }, [x], origin);
  const moved = b.op1("transpose", { perm: order }, [merged], origin);
  return [b.op1("reshape", { shape: [...out] }, [moved], origin)];
}

export function canonicalTransposes(graph: Graph): boolean {
  const keep = feedsConvAsNchw(graph);
  return rewriteGraph(graph, (node, b) => rewriteTranspose(node, b, keep));
}
