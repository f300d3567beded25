// Writes a projection's output straight in the layout a channels-first reader wants. MViT's pooled attention
// projects the tokens to q, k, v ([B, N, 3C] = x @ W + b), slices each part, drops the class token and transposes
// the other tokens to channels-first for the pooling conv: three slices, three class-token copies and three
// transposes of every [B, N, C] part. Since (x @ W)^T = W^T @ x^T, each part that ends in that transpose is instead
// computed as W_part^T @ (x without the class token)^T + b_part, already channels-first (onnxruntime reads the
// transposed x inside its matmul), and the class token's q, k, v come from their own one-row products. The slices of
// the projection's output become slices of its weight and bias, which onnxruntime folds when it loads the model.
// Applied only when every reader of the projection is such a chain and one of them ends in the transpose, so the
// full-size product and its copies go away (1.2-1.7x faster for MViT stage 0's pooled q, k, v alone).
import { GraphBuilder, type NodeOrigin } from "../builder.js";
import { type Dim, dimEq, isStatic } from "../dim.js";
import type { Graph, Node, Value } from "../ir.js";
import { originOf, readersOf, resultsOf } from "./rewrite.js";

/** A projection: y = x @ w (+ bias), x [B, N, K], w [K, C] and bias [C] computed from weights only. */
interface Projection {
  x: Value;
  w: Value;
  bias?: Value;
  /** Its output (the add's, when there is a bias). */
  y: Value;
  /** The nodes that go away once every reader reads a part of its own. */
  nodes: Node[];
}

/**
 * A reader of part of a projection's output: `input` is y[:, tokens, channels] reshaped (the batch and token axes
 * kept), read by `reader` in one or more of its inputs. It is channels-first when `reader` is the [0, 2, 1]
 * transpose.
 */
interface PartReader {
  reader: Node;
  input: Value;
  tokens: [number, number];
  channels: [number, number];
  channelsFirst: boolean;
}

/** The values computed from weights and constants alone (one walk in the graph's topological order). */
function fromWeightsOnly(graph: Graph): Set<Value> {
  const known = new Set<Value>();
  for (const n of graph.nodes)
    if (n.op === "param" || n.op === "const" || (n.op !== "input" && n.inputs.every((v) => known.has(v))))
      for (const v of n.outputs) known.add(v);
  return known;
}

function matchProjection(n: Node, weights: Set<Value>, users: Map<Value, Node[]>): Projection | undefined {
  if (n.op !== "matmul") return undefined;
  const [x, w] = n.inputs;
  const out = n.outputs[0];
  if (x.shape.length !== 3 || w.shape.length !== 2 || x.dtype !== "f32" || !weights.has(w) || weights.has(x))
    return undefined;
  if (!isStatic(x.shape[1]) || !isStatic(w.shape[1])) return undefined;
  const readers = users.get(out) ?? [];
  const add = readers.length === 1 && readers[0].op === "add" ? readers[0] : undefined;
  const bias = add?.inputs.find((v) => v !== out);
  if (add && bias && bias.shape.length === 1 && weights.has(bias) && dimEq(bias.shape[0], w.shape[1]))
    return { x, w, bias, y: add.outputs[0], nodes: [n, add] };
  return { x, w, y: out, nodes: [n] };
}

/**
 * Follows the slices and reshapes that read a projection's output to the nodes that read parts of it; undefined
 * when a part is a graph result or a slice or reshape moves the batch or token axis (the rewrite would not apply).
 */
function partReaders(p: Projection, users: Map<Value, Node[]>, results: Set<Value>): PartReader[] | undefined {
  const found: PartReader[] = [];
  const visit = (v: Value, tokens: [number, number], channels: [number, number]): boolean => {
    if (results.has(v)) return false;
    for (const reader of users.get(v) ?? []) {
      const out = reader.outputs[0];
      if (reader.op === "slice" && reader.attrs.step === 1) {
        const { axis, start, end } = reader.attrs;
        if (axis === 1) {
          if (!visit(out, [tokens[0] + start, tokens[0] + end], channels)) return false;
          continue;
        }
        if (axis === 2 && v.shape.length === 3) {
          if (!visit(out, tokens, [channels[0] + start, channels[0] + end])) return false;
          continue;
        }
      }
      const keepsRows = (shape: readonly Dim[]) =>
        shape.length >= 2 && dimEq(shape[0], p.x.shape[0]) && dimEq(shape[1], tokens[1] - tokens[0]);
      if (reader.op === "reshape" && keepsRows(out.shape)) {
        if (!visit(out, tokens, channels)) return false;
        continue;
      }
      const swapsLastTwo = reader.op === "transpose" && reader.attrs.perm.join() === "0,2,1";
      const channelsFirst = swapsLastTwo && v.shape.length === 3;
      found.push({ reader, input: v, tokens, channels, channelsFirst });
    }
    return true;
  };
  const tokenCount = p.x.shape[1] as number;
  const channelCount = p.w.shape[1] as number;
  return visit(p.y, [0, tokenCount], [0, channelCount]) ? found : undefined;
}

const size = (r: PartReader) => (r.tokens[1] - r.tokens[0]) * (r.channels[1] - r.channels[0]);

/** The part `r` reads, computed from its own rows of x and columns of w: channels-first or as `r.input`. */
function partOf(p: Projection, r: PartReader, b: GraphBuilder, origin: NodeOrigin): Value {
  const op1: GraphBuilder["op1"] = (op, attrs, inputs) => b.op1(op, attrs, inputs, origin);
  const slice = (v: Value, axis: number, [start, end]: [number, number]) =>
    start === 0 && dimEq(v.shape[axis], end) ? v : op1("slice", { axis, start, end, step: 1 }, [v]);
  const x = slice(p.x, 1, r.tokens);
  const w = slice(p.w, 1, r.channels);
  const bias = p.bias && slice(p.bias, 0, r.channels);
  // One token (the class token) channels-first is the same row in memory: computed so, every part reads the
  // weight in one layout (which --deploy then stores).
  if (r.channelsFirst || r.tokens[1] - r.tokens[0] === 1) {
    const product = op1("matmul", {}, [
      op1("transpose", { perm: [1, 0] }, [w]),
      op1("transpose", { perm: [0, 2, 1] }, [x]),
    ]);
    const part = bias ? op1("add", {}, [product, op1("reshape", { shape: [bias.shape[0], 1] }, [bias])]) : product;
    return r.channelsFirst ? part : op1("reshape", { shape: [...r.input.shape] }, [part]);
  }
  const product = op1("matmul", {}, [x, w]);
  const part = bias ? op1("add", {}, [product, bias]) : product;
  return op1("reshape", { shape: [...r.input.shape] }, [part]);
}

export function projectionsChannelsFirst(graph: Graph): boolean {
  const users = readersOf(graph);
  const results = resultsOf(graph);
  const weights = fromWeightsOnly(graph);
  const plans = new Map<Node, { p: Projection; parts: PartReader[] }>();
  for (const n of graph.nodes) {
    const p = matchProjection(n, weights, users);
    if (!p) continue;
    const parts = partReaders(p, users, results);
    if (!parts?.some((r) => r.channelsFirst)) continue;
    // Every reader gets a product of its own: only while the parts do not overlap (no work done twice).
    const total = (p.x.shape[1] as number) * (p.w.shape[1] as number);
    if (parts.reduce((s, r) => s + size(r), 0) > total) continue;
    plans.set(n, { p, parts });
  }
  if (plans.size === 0) return false;

  // Each part is computed just before the first node that reads it, so the node list stays in order.
  const b = GraphBuilder.resume(graph);
  const old = graph.nodes;
  graph.nodes = [];
  const pending = new Map<Node, { p: Projection; r: PartReader }[]>();
  for (const { p, parts } of plans.values())
    for (const r of parts) pending.set(r.reader, [...(pending.get(r.reader) ?? []), { p, r }]);
  const replaced = new Map<Value, Value>();
  for (const node of old) {
    for (const { p, r } of pending.get(node) ?? []) {
      // x may be another projection's channels-first part, whose transpose is gone.
      const x = replaced.get(p.x) ?? p.x;
      const part = partOf({ ...p, x }, r, b, originOf(r.channelsFirst ? r.reader : p.nodes[0]));
      if (r.channelsFirst) replaced.set(r.reader.outputs[0], part);
      else node.inputs = node.inputs.map((v) => (v === r.input ? part : v));
    }
    if (replaced.has(node.outputs[0])) continue;
    if (node.inputs.some((v) => replaced.has(v))) node.inputs = node.inputs.map((v) => replaced.get(v) ?? v);
    graph.nodes.push(node);
  }
  for (const o of [...graph.outputs, ...graph.taps]) o.value = replaced.get(o.value) ?? o.value;
  return true;
}
