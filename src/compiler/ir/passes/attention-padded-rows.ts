// Computes the query rows that a zero-padded attention bias does not reach as an attention of their own. MViTv2 pads
// its relative-position bias with a zero row for the class token, so the class token's query reads no bias; kept in
// one attention, that row makes every query-side tensor one row taller than the positions it describes: the
// relative-position columns are padded to it, and the model's residual pooling slices the class row off the result
// and joins it back. Softmax works row by row, so the rows compute apart exactly: the padded rows without the bias,
// the others with the bias unpadded along the queries, their results concatenated in order. The slices of q and of
// the result then meet concats of parts (see concat-parts.ts) instead of copying (docs/benchmarks.md).
import type { GraphBuilder } from "../builder.js";
import { dimEq, isStatic } from "../dim.js";
import type { Graph, Node, Value } from "../ir.js";
import { peelPad } from "./attention-bias.js";
import { originOf, rewriteGraph } from "./rewrite.js";

function rewriteAttention(node: Node, b: GraphBuilder): Value[] | undefined {
  if (node.op !== "attention" || node.inputs.length !== 4) return undefined;
  const [q, k, v, bias] = node.inputs;
  const r = q.shape.length;
  const padded = bias.shape.length === r ? peelPad(bias) : undefined;
  if (!padded || padded.queryPad[0] + padded.queryPad[1] === 0) return undefined;
  const [before, after] = padded.queryPad;
  const queries = padded.inner.shape[r - 2];
  if (!isStatic(queries) || !dimEq(q.shape[r - 2], before + queries + after)) return undefined;

  const origin = originOf(node);
  const axis = r - 2;
  const rows = (start: number, end: number) => b.op1("slice", { axis, start, end, step: 1 }, [q], origin);
  const { scale } = node.attrs;
  const unbiased = (start: number, end: number) => b.op1("attention", { scale }, [rows(start, end), k, v], origin);
  const [keysBefore, keysAfter] = padded.keyPad;
  const pads = Array<number>(2 * r).fill(0);
  pads[r - 1] = keysBefore;
  pads[2 * r - 1] = keysAfter;
  const keyPadded =
    keysBefore + keysAfter > 0
      ? b.op1("pad", { pads, value: 0 }, [padded.inner], originOf(bias.producer))
      : padded.inner;
  const parts = [
    ...(before > 0 ? [unbiased(0, before)] : []),
    b.op1("attention", { scale }, [rows(before, before + queries), k, v, keyPadded], origin),
    ...(after > 0 ? [unbiased(before + queries, before + queries + after)] : []),
  ];
  return [b.op1("concat", { axis }, parts, origin)];
}

export function attentionPaddedRows(graph: Graph): boolean {
  return rewriteGraph(graph, rewriteAttention);
}
