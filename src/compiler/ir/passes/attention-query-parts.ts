// Splits an attention whose score matrix outgrows the cache into attentions over consecutive query rows. The scores
// of one attention are written by a matmul, read and written by the softmax, and read by the product with v: at
// MViTv2's early blocks that is 39-79 MB per clip, so each pass goes to main memory. Softmax works row by row, so
// the rows compute apart exactly; with about 8 MiB of scores per part the three passes stay in the cache
// (docs/benchmarks.md). onnxruntime's MultiHeadAttention never holds the scores, so the driver leaves this pass out
// when the ONNX graph uses it.
import { byteSize } from "../../../util/tensor.js";
import type { GraphBuilder } from "../builder.js";
import { isStatic } from "../dim.js";
import type { Graph, Node, Value } from "../ir.js";
import { originOf, rewriteGraph } from "./rewrite.js";

/** Scores per part, in bytes: measured best between 5 and 10 MB on IFDD's shapes (docs/benchmarks.md). */
const PART_SCORE_BYTES = 8 * 2 ** 20;
/**
 * Fewer query rows per part than this would make the products too thin to run at speed. Each part also reads all of
 * k and v again, so a part needs at least twice as many rows as k and v have columns together (measured: 130-row
 * parts of blocks 8-9's 8 heads x 392 queries x 1569 keys take 1.12x the whole attention's time).
 */
const MIN_PART_ROWS = 128;
/** Beyond this many parts (512 MiB of scores) a part's scores outgrow the cache anyway; absurd shapes stay bounded. */
const MAX_PARTS = 64;

/** The number of query-row parts for an attention, or 1 to leave it whole. */
function partsOf(node: Node): number {
  const [q, k, v] = node.inputs;
  const r = q.shape.length;
  const dims = [q.shape[r - 2], k.shape[r - 2], k.shape[r - 1], v.shape[r - 1]];
  if (!dims.every(isStatic)) return 1;
  const [rows, keys, width, valueWidth] = dims as number[];
  // Per clip: a symbolic leading dim (the batch) counts once.
  const lead = q.shape.slice(0, -2).reduce<number>((n, d) => n * (isStatic(d) ? d : 1), 1);
  const parts = Math.ceil((lead * rows * keys * byteSize(q.dtype)) / PART_SCORE_BYTES);
  const minRows = Math.max(MIN_PART_ROWS, 2 * (width + valueWidth));
  return Math.max(1, Math.min(parts, MAX_PARTS, Math.floor(rows / minRows)));
}

/**
 * The parts this pass made. A part capped by MAX_PARTS or the row rule can still hold over 8 MiB of scores; the
 * pipeline runs to a fixed point, and cutting the parts again would go on down to the least rows.
 */
const parts = new WeakSet<Node>();

function rewriteAttention(node: Node, b: GraphBuilder): Value[] | undefined {
  if (node.op !== "attention" || parts.has(node)) return undefined;
  const count = partsOf(node);
  if (count < 2) return undefined;
  const [q, k, v, bias] = node.inputs;
  const r = q.shape.length;
  const rows = q.shape[r - 2] as number;
  const origin = originOf(node);
  const { scale } = node.attrs;
  // A bias that varies along the queries is cut with them; one broadcast along them is read whole by every part.
  const biasRows = bias && bias.shape.length >= 2 ? bias.shape[bias.shape.length - 2] : 1;
  const cut = (x: Value, axis: number, start: number, end: number) =>
    b.op1("slice", { axis, start, end, step: 1 }, [x], origin);
  const results: Value[] = [];
  for (let i = 0; i < count; i++) {
    const [start, end] = [Math.floor((i * rows) / count), Math.floor(((i + 1) * rows) / count)];
    const partBias = bias && biasRows !== 1 ? cut(bias, bias.shape.length - 2, start, end) : bias;
    const operands = [cut(q, r - 2, start, end), k, v, ...(partBias ? [partBias] : [])];
    const part = b.op1("attention", { scale }, operands, origin);
    parts.add(part.producer);
    results.push(part);
  }
  return [b.op1("concat", { axis: r - 2 }, results, origin)];
}

export function attentionQueryParts(graph: Graph): boolean {
  return rewriteGraph(graph, rewriteAttention);
}
