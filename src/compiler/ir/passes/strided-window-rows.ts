// A convolution whose stride is at least its kernel reads only some rows of its input: MViT pools k and v with a
// 3x3 window at stride 8 (stage 0) or 4 (stage 1), so 3 of every 8 (or 4) rows and columns are read and the rest of
// the projection that feeds the pool, its bias and its layout copies is computed for nothing (86% of stage 0's k and
// v, 44% of stage 1's). Two rules:
// - the conv reads a gather of the rows its windows cover, with each window's rows now adjacent (stride = kernel),
//   and the padding the first and last windows had; the gather is taken from the token axis of the value the conv
//   input was reshaped from (tokens-last, [B, C, N]), so one gather serves every spatial axis;
// - a gather moves above the ops that treat its axis elementwise (a broadcast add, the token axis of a matmul's right
//   operand, a transpose), so that it meets the projection's input and the product runs on the kept tokens only.
import { numel } from "../../../util/tensor.js";
import type { GraphBuilder } from "../builder.js";
import { dimEq, isStatic } from "../dim.js";
import type { Graph, Node, Value } from "../ir.js";
import { originOf, readersOf, resultsOf, rewriteGraph } from "./rewrite.js";

/** Kept-row share below which a conv gathers its rows (the gather is one more copy of the kept ones). */
const MAX_KEPT_SHARE = 0.75;

/** The rows one spatial axis reads, and the conv attributes that read them gathered. */
interface AxisPlan {
  rows: number[];
  stride: number;
  padBegin: number;
  padEnd: number;
}

/**
 * Rows of an axis of `size` read by `outSize` windows of `kernel` at `stride` (dilation 1) from `padBegin`, when the
 * windows do not overlap; only the first window may start before the axis and only the last end after it.
 */
function axisPlan(
  size: number,
  kernel: number,
  stride: number,
  padBegin: number,
  outSize: number,
): AxisPlan | undefined {
  if (stride < kernel) return undefined;
  const rows: number[] = [];
  let [before, after] = [0, 0];
  for (let o = 0; o < outSize; o++)
    for (let j = 0; j < kernel; j++) {
      const r = stride * o - padBegin + j;
      if (r >= 0 && r < size) rows.push(r);
      else if (r < 0 && o === 0) before++;
      else if (r >= size && o === outSize - 1) after++;
      else return undefined;
    }
  return { rows, stride: kernel, padBegin: before, padEnd: after };
}

/** Row-major token indices of the kept rows of every spatial axis, for each of `lead` leading groups of tokens. */
function tokenIndices(lead: number, sizes: number[], kept: number[][]): BigInt64Array {
  const out = new BigInt64Array(lead * numel(kept.map((rows) => rows.length)));
  const block = numel(sizes);
  let at = 0;
  const walk = (axis: number, offset: number) => {
    if (axis === sizes.length) {
      out[at++] = BigInt(offset);
      return;
    }
    const inner = numel(sizes.slice(axis + 1));
    for (const r of kept[axis]) walk(axis + 1, offset + r * inner);
  };
  for (let l = 0; l < lead; l++) walk(0, l * block);
  return out;
}

/**
 * conv(reshape(v)) with v = [B, C, N] tokens-last and the conv input [B, C * L, S1, .., Sd] (N = L * S1 * .. * Sd)
 * -> conv'(reshape(gather(v, kept tokens))). Index tables are shared between convs of the same geometry (a block's
 * k and v), so their gathers meet in common-subexpression elimination.
 */
function gatherConvRows(tables: Map<string, Value>) {
  return (node: Node, b: GraphBuilder): Value[] | undefined => {
    if (node.op !== "conv") return undefined;
    const [x, w, bias] = node.inputs;
    const { strides, pads, dilations, groups } = node.attrs;
    if (x.producer.op !== "reshape" || x.dtype !== "f32") return undefined;
    const v = x.producer.inputs[0];
    const spatial = x.shape.slice(2);
    const kernel = w.shape.slice(2);
    const outSpatial = node.outputs[0].shape.slice(2);
    if (v.shape.length !== 3 || !dimEq(v.shape[0], x.shape[0])) return undefined;
    if (![...spatial, ...kernel, ...outSpatial, v.shape[1], v.shape[2], x.shape[1]].every(isStatic)) return undefined;
    const sizes = spatial as number[];
    const block = numel(sizes);
    const [channels, tokens] = [v.shape[1] as number, v.shape[2] as number];
    const lead = tokens / block;
    if (!Number.isInteger(lead) || (x.shape[1] as number) !== channels * lead) return undefined;

    const d = sizes.length;
    const plans = sizes.map((size, i) => {
      const plan =
        dilations[i] === 1
          ? axisPlan(size, kernel[i] as number, strides[i], pads[i], outSpatial[i] as number)
          : undefined;
      return plan && plan.rows.length < size ? plan : undefined;
    });
    const keptRows = plans.map((p, i) => p?.rows ?? Array.from({ length: sizes[i] }, (_, r) => r));
    const keptShape = keptRows.map((rows) => rows.length);
    if (numel(keptShape) > MAX_KEPT_SHARE * block) return undefined;

    const origin = originOf(node);
    const key = `${lead}|${sizes}|${keptRows.map((r) => r.join(",")).join("|")}`;
    let indices = tables.get(key);
    if (!indices) {
      const data = tokenIndices(lead, sizes, keptRows);
      indices = b.constant({ dtype: "i64", shape: [data.length], data }, origin);
      tables.set(key, indices);
    }
    const gathered = b.op1("gather", { axis: 2 }, [v, indices], origin);
    const input = b.op1("reshape", { shape: [x.shape[0], x.shape[1], ...keptShape] }, [gathered], origin);
    const attrs = {
      strides: plans.map((p, i) => p?.stride ?? strides[i]),
      pads: [...plans.map((p, i) => p?.padBegin ?? pads[i]), ...plans.map((p, i) => p?.padEnd ?? pads[d + i])],
      dilations: [...dilations],
      groups,
    };
    return [b.op1("conv", attrs, bias ? [input, w, bias] : [input, w], origin)];
  };
}

const ELEMENTWISE = new Set(["add", "sub", "mul", "div"]);

/** gather(f(..), axis) -> f(gather(..)) for the ops listed in the header; the gathered value must be f's only use. */
function gatherThroughProducer(users: Map<Value, Node[]>, results: Set<Value>) {
  // A value made in this walk has no readers listed (nor its result, if it replaced one): it waits for the next round.
  const onlyGathered = (v: Value, gather: Node) =>
    !results.has(v) && users.get(v)?.every((reader) => reader === gather) === true;
  return (node: Node, b: GraphBuilder): Value[] | undefined => {
    if (node.op !== "gather") return undefined;
    const [v, indices] = node.inputs;
    const { axis } = node.attrs;
    // Only a 1-D gather that keeps fewer entries than the axis has: moved up, it shrinks every op it passes.
    if (indices.shape.length !== 1 || !isStatic(indices.shape[0]) || !isStatic(v.shape[axis])) return undefined;
    if (indices.shape[0] >= v.shape[axis]) return undefined;
    const producer = v.producer;
    const origin = originOf(node);
    const gather = (x: Value, at: number) => b.op1("gather", { axis: at }, [x, indices], origin);
    const rank = v.shape.length;
    if (producer.op === "transpose") {
      const { perm } = producer.attrs;
      return [b.op1("transpose", { perm: [...perm] }, [gather(producer.inputs[0], perm[axis])], origin)];
    }
    if (!onlyGathered(v, node)) return undefined;
    if (producer.op === "matmul" && axis === rank - 1 && rank >= 2) {
      const [a, m] = producer.inputs;
      if (m.shape.length < 2) return undefined;
      return [b.op1("matmul", {}, [a, gather(m, m.shape.length - 1)], origin)];
    }
    if (ELEMENTWISE.has(producer.op)) {
      // Each operand that has the axis at full size is gathered; one that broadcasts along it is read as it is.
      // All are checked before any gather is made, so a refusal leaves no node behind.
      const axes = producer.inputs.map((x) => {
        const at = axis - (rank - x.shape.length);
        if (at < 0 || (isStatic(x.shape[at]) && x.shape[at] === 1)) return "broadcast";
        return dimEq(x.shape[at], v.shape[axis]) ? at : undefined;
      });
      if (axes.includes(undefined)) return undefined;
      const operands = producer.inputs.map((x, i) => (axes[i] === "broadcast" ? x : gather(x, axes[i] as number)));
      return [b.op1(producer.op as "add", {}, operands, origin)];
    }
    return undefined;
  };
}

export function stridedWindowRows(graph: Graph): boolean {
  const convs = rewriteGraph(graph, gatherConvRows(new Map()));
  const results = resultsOf(graph);
  const gathers = rewriteGraph(graph, gatherThroughProducer(readersOf(graph), results));
  return convs || gathers;
}
