// Folds the static factor of a depthwise conv's batch axis into its channels: conv(x[k * N, C, ...]) with one filter
// per channel equals conv(reshape(x, [N, k * C, ...])) with the filters repeated k times, reshaped back. A pure
// reshape both ways (row-major [k * N, C] and [N, k * C] hold the same data). MViT pools each attention head's q, k
// and v with one depthwise conv over a batch of (batch x heads) grids; with the heads in the channels, the frames the
// conv reads are the tokens as the qkv projection wrote them ([N, t, h, w, heads * d], channels last), so the head
// split before the conv and the transposes around it cancel (transpose through reshape, slice through transpose)
// and the head split is paid once, on the pooled tokens.
import type { GraphBuilder } from "../builder.js";
import { type Dim, dimDivExact } from "../dim.js";
import type { Graph, Node, Value } from "../ir.js";
import { originOf, rewriteGraph } from "./rewrite.js";

function gcd(a: number, b: number): number {
  return b === 0 ? Math.abs(a) : gcd(b, a % b);
}

/** The largest whole number dividing the dimension for every value of its symbols (8 for 8*B, 1 for B + 1). */
function staticFactor(d: Dim): number {
  if (typeof d === "number") return d;
  return [...d.terms.values()].reduce(gcd, 0);
}

function rewriteConv(node: Node, b: GraphBuilder): Value[] | undefined {
  if (node.op !== "conv") return undefined;
  const [x, w, bias] = node.inputs;
  const [n, channels, ...spatial] = x.shape;
  const { groups } = node.attrs;
  // 3-D convs only: the 2-D convs that per-frame rewrite makes carry the frames in their batch, and its time shifts
  // need them there.
  if (
    spatial.length !== 3 ||
    typeof channels !== "number" ||
    groups !== channels ||
    w.shape[0] !== channels ||
    w.shape[1] !== 1
  )
    return undefined;
  const k = staticFactor(n);
  const rest = dimDivExact(n, k);
  if (k <= 1 || rest === undefined) return undefined;

  const origin = originOf(node);
  const op1: GraphBuilder["op1"] = (op, attrs, inputs) => b.op1(op, attrs, inputs, origin);
  const repeated = (v: Value) => op1("concat", { axis: 0 }, Array(k).fill(v));
  const inputs = [op1("reshape", { shape: [rest, k * channels, ...spatial] }, [x]), repeated(w)];
  if (bias) inputs.push(repeated(bias));
  const conv = op1("conv", { ...node.attrs, groups: k * channels }, inputs);
  const [, , ...spatialOut] = node.outputs[0].shape;
  return [op1("reshape", { shape: [n, channels, ...spatialOut] }, [conv])];
}

export function depthwiseBatchIntoChannels(graph: Graph): boolean {
  return rewriteGraph(graph, rewriteConv);
}
