// Normalises the parts of a concat one by one when a reader slices the normalised result apart again. A layer norm
// works row by row, so over a concat along an outer axis it is the concat of each part's norm; MViTv2's pooling
// joins the class token to the pooled tokens and normalises them together, and the attention then slices the tokens
// back out (relative-position terms, residual pooling): with the norm per part that slice is the tokens' norm itself
// and its copy goes away (docs/benchmarks.md). A slice of a concat that takes whole parts is rewritten to those parts.
import type { GraphBuilder } from "../builder.js";
import { isStatic } from "../dim.js";
import type { Graph, Node, Value } from "../ir.js";
import { originOf, readersOf, resultsOf, rewriteGraph } from "./rewrite.js";

/** The parts of `cat` (a concat along `axis`) that the slice [start, end) takes whole, or undefined. */
function wholeParts(cat: Node, axis: number, start: number, end: number): Value[] | undefined {
  if (cat.op !== "concat" || cat.attrs.axis !== axis) return undefined;
  const taken: Value[] = [];
  let offset = 0;
  for (const part of cat.inputs) {
    const size = part.shape[axis];
    if (!isStatic(size)) return undefined;
    const [from, to] = [offset, offset + size];
    offset = to;
    if (to <= start || from >= end) continue;
    if (from < start || to > end) return undefined;
    taken.push(part);
  }
  return taken.length > 0 ? taken : undefined;
}

function slicedApart(node: Node, readers: Map<Value, Node[]>): boolean {
  const cat = node.inputs[0].producer;
  return (readers.get(node.outputs[0]) ?? []).some(
    (r) =>
      r.op === "slice" &&
      r.attrs.step === 1 &&
      (wholeParts(cat, r.attrs.axis, r.attrs.start, r.attrs.end)?.length ?? cat.inputs.length) < cat.inputs.length,
  );
}

function rewrite(node: Node, b: GraphBuilder, readers: Map<Value, Node[]>, results: Set<Value>): Value[] | undefined {
  const origin = originOf(node);
  if (node.op === "slice") {
    const { axis, start, end, step } = node.attrs;
    const cat = node.inputs[0].producer;
    const parts = step === 1 ? wholeParts(cat, axis, start, end) : undefined;
    if (!parts || parts.length === cat.inputs.length) return undefined;
    return [parts.length === 1 ? parts[0] : b.op1("concat", { axis }, parts, origin)];
  }
  if (node.op !== "layer_norm") return undefined;
  const [x, ...affine] = node.inputs;
  const cat = x.producer;
  // The concat must be joined along an axis the norm does not reduce, and read by the norm alone (else it stays
  // and the parts would be copied twice).
  if (cat.op !== "concat" || cat.attrs.axis >= node.attrs.axis) return undefined;
  if (results.has(x) || (readers.get(x) ?? []).length !== 1) return undefined;
  if (!slicedApart(node, readers)) return undefined;
  const normed = cat.inputs.map((part) => b.op1("layer_norm", { ...node.attrs }, [part, ...affine], origin));
  return [b.op1("concat", { axis: cat.attrs.axis }, normed, originOf(cat))];
}

export function normConcatParts(graph: Graph): boolean {
  const readers = readersOf(graph);
  const results = resultsOf(graph);
  return rewriteGraph(graph, (node, b) => rewrite(node, b, readers, results));
}
