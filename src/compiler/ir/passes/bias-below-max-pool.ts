// Adds a per-channel term after a max pool instead of before it: max over a window of (x + c) is max(x) + c when
// c is the same across the window, and exactly so in floats (rounding is monotonic, so the largest x + c is the
// rounded largest x plus c); padded positions are skipped by the pool either way. MViTv2's skip path adds the
// projection's bias to every token and then pools 2x2 spatially: the add runs on a quarter of the elements below
// the pool (onnxruntime runs them as separate kernels; docs/benchmarks.md). The add may sit before a reshape that
// splits its trailing axes into the pooled ones, as the channels-first projection writes it.
import type { GraphBuilder } from "../builder.js";
import { type Dim, dimEq, shapeEq } from "../dim.js";
import type { Graph, Node, Value } from "../ir.js";
import { originOf, readOnce, rewriteGraph } from "./rewrite.js";

/**
 * The addend reshaped to the pooled tensor's rank when it is constant across the pooled axes: `sumShape` is the add's
 * output, whose first `kept` axes equal the pooled tensor's; the addend (right-aligned to `sumShape`) has size 1 on
 * every later axis.
 */
function perChannelShape(addend: Value, sumShape: readonly Dim[], kept: number, pooledRank: number): Dim[] | undefined {
  const offset = sumShape.length - addend.shape.length;
  if (offset < 0) return undefined;
  const aligned = [...Array<Dim>(offset).fill(1), ...addend.shape];
  if (aligned.slice(kept).some((d) => !dimEq(d, 1))) return undefined;
  return [...aligned.slice(0, kept), ...Array<Dim>(pooledRank - kept).fill(1)];
}

function rewritePool(node: Node, b: GraphBuilder, readOnce: (v: Value) => boolean): Value[] | undefined {
  if (node.op !== "max_pool") return undefined;
  const [x] = node.inputs;
  const pooledAxes = node.attrs.kernel.length;
  const kept = x.shape.length - pooledAxes;
  const out = node.outputs[0];
  // Only where the pool makes the tensor smaller; otherwise the add costs the same on either side.
  if (node.attrs.strides.every((s) => s === 1)) return undefined;
  const reshape = x.producer.op === "reshape" ? x.producer : undefined;
  const sum = reshape ? reshape.inputs[0] : x;
  const add = sum.producer;
  if (add.op !== "add" || !readOnce(sum)) return undefined;
  if (reshape && (!readOnce(x) || !shapeEq(sum.shape.slice(0, kept), x.shape.slice(0, kept)))) return undefined;
  const [left, right] = add.inputs;
  // The data is the full-size operand; the addend, broadcast, must be the same across every window.
  const [data, addend] = shapeEq(left.shape, sum.shape) ? [left, right] : [right, left];
  if (!shapeEq(data.shape, sum.shape) || data.dtype !== out.dtype) return undefined;
  const channelShape = perChannelShape(addend, sum.shape, kept, x.shape.length);
  if (!channelShape) return undefined;

  const origin = originOf(node);
  const pooledInput = reshape ? b.op1("reshape", { shape: [...x.shape] }, [data], originOf(reshape)) : data;
  const pooled = b.op1("max_pool", { ...node.attrs }, [pooledInput], origin);
  const channels = b.op1("reshape", { shape: channelShape }, [addend], originOf(add));
  return [b.op1("add", {}, [pooled, channels], originOf(add))];
}

export function biasBelowMaxPool(graph: Graph): boolean {
  const once = readOnce(graph);
  return rewriteGraph(graph, (node, b) => rewritePool(node, b, once));
}
