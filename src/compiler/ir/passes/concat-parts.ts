// Applies a row-wise op to the parts of a concat one by one when a reader slices the result apart again. An op that
// computes each row on its own (a layer norm or a softmax over axes the concat does not join along, any unary
// elementwise op) gives over a concat the concat of its results on the parts; MViTv2's pooling joins the class
// token to the pooled tokens and normalises them together, and the attention then slices the tokens back out
// (relative-position terms, residual pooling): with the norm per part that slice is the tokens' norm itself and its
// copy goes away (docs/benchmarks.md). A slice of a concat that takes whole parts is rewritten to those parts.
import type { GraphBuilder } from "../builder.js";
import { isStatic } from "../dim.js";
import { unaryRow } from "../elementwise-ops.js";
import { normAxis } from "../infer.js";
import type { Graph, Node, Value } from "../ir.js";
import { originOf, readersOf, readOnce, rewriteGraph } from "./rewrite.js";

/** The parts of `cat` (a concat along `axis`) that the slice [start, end) takes whole, or undefined. */
function wholeParts(cat: Node, sliceAxis: number, start: number, end: number): Value[] | undefined {
  if (cat.op !== "concat") return undefined;
  // Axes may count from the end (-1 is the last): compared and indexed as counted from the front.
  const axis = normAxis(sliceAxis, cat.outputs[0].shape.length);
  if (normAxis(cat.attrs.axis, cat.outputs[0].shape.length) !== axis) return undefined;
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

/** Whether `node` computes the positions along the concat's axis apart (its other inputs do not vary along it). */
function rowWiseAcross(node: Node, cat: Node<"concat">): boolean {
  const rank = cat.outputs[0].shape.length;
  const axis = normAxis(cat.attrs.axis, rank);
  if (node.op === "layer_norm") return axis < normAxis(node.attrs.axis, rank);
  if (node.op === "softmax") return axis !== normAxis(node.attrs.axis, rank);
  return node.inputs.length === 1 && unaryRow(node.op) !== undefined;
}

function rewrite(
  node: Node,
  b: GraphBuilder,
  readers: Map<Value, Node[]>,
  once: (v: Value) => boolean,
): Value[] | undefined {
  const origin = originOf(node);
  if (node.op === "slice") {
    const { axis, start, end, step } = node.attrs;
    const cat = node.inputs[0].producer;
    const parts = step === 1 ? wholeParts(cat, axis, start, end) : undefined;
    if (!parts || parts.length === cat.inputs.length) return undefined;
    return [parts.length === 1 ? parts[0] : b.op1("concat", { axis }, parts, origin)];
  }
  const [x, ...rest] = node.inputs;
  const cat = x?.producer;
  // The concat must be read by the op alone (else it stays and the parts would be copied twice).
  if (cat?.op !== "concat" || !rowWiseAcross(node, cat)) return undefined;
  if (!once(x)) return undefined;
  if (!slicedApart(node, readers)) return undefined;
  // The node's own attributes on each part (`as never`: TypeScript cannot tie them to `node.op`'s union member).
  const perPart = cat.inputs.map((part) => b.op1(node.op, node.attrs as never, [part, ...rest], origin));
  return [b.op1("concat", { axis: cat.attrs.axis }, perPart, originOf(cat))];
}

export function opsPerConcatPart(graph: Graph): boolean {
  const readers = readersOf(graph);
  const once = readOnce(graph, readers);
  return rewriteGraph(graph, (node, b) => rewrite(node, b, readers, once));
}
