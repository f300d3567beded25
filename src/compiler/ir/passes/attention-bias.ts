// Folds a factored attention bias into the score matmul. A bias that is a sum of terms, each varying along only a
// few of the key's axes (MViTv2's decomposed relative position: bias[q, (t, h, w)] = Bt[q, t] + Bh[q, h] + Bw[q, w]),
// is materialised at the full [queries, keys] size (one 8-D broadcast Add per term, a Pad, an Add into the scores)
// although it has only r = kt + kh + kw columns of information. Since bias = [Bt | Bh | Bw] @ E with E the constant
// one-hot [r, keys] map of each key to its coordinates, softmax(q k^T s + bias) = softmax([q | B/s] [k | E^T]^T s):
// the terms become r extra columns of q and k, and the bias costs r more multiply-adds per score instead of passes
// over the [queries, keys] tensor. Rows and columns that the bias's zero padding covers (a class token) get zero
// columns. Applied only where r is small against the key count, so the extra columns cost little.
import type { HostTensor } from "../../../util/tensor.js";
import type { GraphBuilder } from "../builder.js";
import { dimEq, isStatic, shapeEq } from "../dim.js";
import type { Graph, Node, Value } from "../ir.js";
import { originOf, rewriteGraph } from "./rewrite.js";

/** Applied while the bias's columns of information are at most this fraction of the keys. */
const MAX_COLUMNS_PER_KEY = 0.25;

interface FactoredBias {
  /** Each term reshaped to [...lead, queries, columns]. */
  terms: { value: Value; keyAxes: number[] }[];
  /** The unpadded query count. */
  queries: number;
  /** The key axes' sizes (their product is the unpadded key count). */
  keyDims: number[];
  queryPad: [number, number];
  keyPad: [number, number];
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Leaves of a tree of adds (the order of the sum is kept). */
function addends(v: Value): Value[] {
  const n = v.producer;
  return n.op === "add" ? [...addends(n.inputs[0]), ...addends(n.inputs[1])] : [v];
}

/** The zero padding of the last two axes of a padded bias, or none. */
export function peelPad(
  bias: Value,
): { inner: Value; queryPad: [number, number]; keyPad: [number, number] } | undefined {
  const n = bias.producer;
  if (n.op !== "pad") return { inner: bias, queryPad: [0, 0], keyPad: [0, 0] };
  const r = bias.shape.length;
  const { pads, value } = n.attrs;
  if (value !== 0 || pads.some((p, i) => p !== 0 && i % r < r - 2)) return undefined;
  return { inner: n.inputs[0], queryPad: [pads[r - 2], pads[2 * r - 2]], keyPad: [pads[r - 1], pads[2 * r - 1]] };
}

/** Recognises bias = pad?(reshape(sum of broadcast terms)) with static query and key axes. */
function matchFactoredBias(bias: Value): FactoredBias | undefined {
  const padded = peelPad(bias);
  if (padded?.inner.producer.op !== "reshape") return undefined;
  const r = bias.shape.length;
  const [queries, keys] = padded.inner.shape.slice(r - 2);
  const sum = padded.inner.producer.inputs[0];
  const lead = bias.shape.slice(0, r - 2);
  const rest = sum.shape.slice(r - 2);
  if (!isStatic(queries) || !isStatic(keys) || !shapeEq(sum.shape.slice(0, r - 2), lead)) return undefined;
  if (!rest.every(isStatic)) return undefined;
  // The first split of the remaining axes into query axes and key axes with the right sizes.
  const split = [...rest.keys()].find((i) => product(rest.slice(0, i)) === queries && product(rest.slice(i)) === keys);
  if (split === undefined) return undefined;
  const queryDims = rest.slice(0, split);
  const keyDims = rest.slice(split);
  const terms: FactoredBias["terms"] = [];
  for (const term of addends(sum)) {
    if (term.shape.length !== sum.shape.length || !shapeEq(term.shape.slice(0, r - 2 + split), [...lead, ...queryDims]))
      return undefined;
    const keyAxes = keyDims.flatMap((_, a) => (term.shape[r - 2 + split + a] === 1 ? [] : [a]));
    terms.push({ value: term, keyAxes });
  }
  return { terms, queries, keyDims, queryPad: padded.queryPad, keyPad: padded.keyPad };
}

/**
 * The constant [keys + keyPad, columns] map: column block i holds the one-hot of each key's coordinates on term i's
 * axes; padded keys have zero rows.
 */
function keyColumns(f: FactoredBias): HostTensor {
  const keys = product(f.keyDims);
  const widths = f.terms.map((t) => product(t.keyAxes.map((a) => f.keyDims[a])));
  const columns = widths.reduce((a, b) => a + b, 0);
  const rows = f.keyPad[0] + keys + f.keyPad[1];
  const data = new Float32Array(rows * columns);
  const strides = f.keyDims.map((_, a) => product(f.keyDims.slice(a + 1)));
  for (let key = 0; key < keys; key++) {
    let offset = 0;
    f.terms.forEach((t, i) => {
      // The key's index among term i's columns: its coordinates on the term's axes, row-major.
      const column = t.keyAxes.reduce((c, a) => c * f.keyDims[a] + (Math.floor(key / strides[a]) % f.keyDims[a]), 0);
      data[(f.keyPad[0] + key) * columns + offset + column] = 1;
      offset += widths[i];
    });
  }
  return { dtype: "f32", shape: [rows, columns], data };
}

function rewriteAttention(node: Node, b: GraphBuilder): Value[] | undefined {
  if (node.op !== "attention" || node.inputs.length !== 4) return undefined;
  const [q, k, v, bias] = node.inputs;
  const r = q.shape.length;
  if (q.dtype !== "f32" || bias.shape.length !== r) return undefined;
  const f = matchFactoredBias(bias);
  if (!f) return undefined;
  const lead = bias.shape.slice(0, r - 2);
  if (!shapeEq(q.shape.slice(0, r - 2), lead) || !shapeEq(k.shape.slice(0, r - 2), lead)) return undefined;
  const e = keyColumns(f);
  const [keyRows, columns] = e.shape;
  if (columns > MAX_COLUMNS_PER_KEY * product(f.keyDims) || !dimEq(k.shape[r - 2], keyRows)) return undefined;
  if (!dimEq(q.shape[r - 2], f.queryPad[0] + f.queries + f.queryPad[1])) return undefined;

  const origin = originOf(node);
  const op1: GraphBuilder["op1"] = (op, attrs, inputs) => b.op1(op, attrs, inputs, origin);
  // Each term as [...lead, queries, its columns] (its other key axes have size 1).
  const termColumns = f.terms.map((t) =>
    op1("reshape", { shape: [...lead, f.queries, product(t.keyAxes.map((a) => f.keyDims[a]))] }, [t.value]),
  );
  let queryExtra = termColumns.length === 1 ? termColumns[0] : op1("concat", { axis: r - 1 }, termColumns);
  const scale = node.attrs.scale;
  if (scale !== 1) queryExtra = op1("mul", {}, [queryExtra, b.constant(scalar(1 / scale), origin)]);
  if (f.queryPad[0] + f.queryPad[1] > 0) {
    const pads = Array<number>(2 * r).fill(0);
    pads[r - 2] = f.queryPad[0];
    pads[2 * r - 2] = f.queryPad[1];
    queryExtra = op1("pad", { pads, value: 0 }, [queryExtra]);
  }
  const keyExtra = op1("expand", { shape: [...lead, keyRows, columns] }, [b.constant(e, origin)]);
  const qWide = op1("concat", { axis: r - 1 }, [q, queryExtra]);
  const kWide = op1("concat", { axis: r - 1 }, [k, keyExtra]);
  return [op1("attention", { scale }, [qWide, kWide, v])];
}

function scalar(x: number): HostTensor {
  return { dtype: "f32", shape: [], data: new Float32Array([x]) };
}

export function foldAttentionBias(graph: Graph): boolean {
  return rewriteGraph(graph, rewriteAttention);
}
