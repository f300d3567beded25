// Moves a transpose above a reshape when that lets it merge with the transpose before the reshape:
// transpose(reshape(transpose(x))) -> reshape(transpose(x)), one pass over the data instead of two. It applies when
// the reshape only splits or merges runs of neighbouring axes (aligned groups of equal size) and the transpose moves
// whole groups; layout conversions around a computation (tokens -> frames -> tokens) then cost one transpose each.
import type { GraphBuilder } from "../builder.js";
import { type Dim, dimEq, dimProduct, dimSubstitute } from "../dim.js";
import type { Graph, Node, Value } from "../ir.js";
import { originOf, readersOf, rewriteGraph } from "./rewrite.js";

/** A stand-in size for symbolic dims while pairing up axes; each pairing is then checked symbolically. */
const PROBE = 7919;

/**
 * The aligned groups of a reshape from `from` to `to`: pairs of runs [fromStart, fromEnd) and [toStart, toEnd) with
 * equal products, covering both shapes in order; undefined when the reshape mixes data across such runs.
 */
function alignedGroups(from: readonly Dim[], to: readonly Dim[]): { from: number[]; to: number[] }[] | undefined {
  const probe = (d: Dim) => {
    const v = dimSubstitute(d, new Map([...symbolsOf(d)].map((s) => [s, PROBE])));
    return typeof v === "number" ? v : Number.NaN;
  };
  const groups: { from: number[]; to: number[] }[] = [];
  let i = 0;
  let j = 0;
  while (i < from.length || j < to.length) {
    const g = { from: [] as number[], to: [] as number[] };
    let a = 1;
    let c = 1;
    // Take axes from the side with the smaller product until both sides have some and the products agree.
    while (g.from.length === 0 || g.to.length === 0 || a !== c) {
      if (i < from.length && (a <= c || j >= to.length)) {
        a *= probe(from[i]);
        g.from.push(i++);
      } else if (j < to.length) {
        c *= probe(to[j]);
        g.to.push(j++);
      } else return undefined; // size-1 axes left on one side only
    }
    const size = (shape: readonly Dim[], axes: number[]) => dimProduct(axes.map((k) => shape[k]));
    if (Number.isNaN(a) || !dimEq(size(from, g.from), size(to, g.to))) return undefined;
    groups.push(g);
  }
  return groups;
}

function symbolsOf(d: Dim): Set<string> {
  if (typeof d === "number") return new Set();
  return new Set([...d.terms.keys()].flatMap((k) => (k === "" ? [] : k.split("*"))));
}

/** The order of the groups the transpose lists, each group's axes together and in order; undefined otherwise. */
function groupOrder(groups: { from: number[]; to: number[] }[], perm: readonly number[]): number[] | undefined {
  const order: number[] = [];
  for (let k = 0; k < perm.length; ) {
    const g = groups.findIndex((gr) => gr.to[0] === perm[k]);
    if (g < 0 || groups[g].to.some((axis, m) => perm[k + m] !== axis)) return undefined;
    order.push(g);
    k += groups[g].to.length;
  }
  return order;
}

/**
 * When the reshape splits single axes that the transpose then separates ([B, H*C, L] -> [B, H, C, L] -> [B, H, L, C]),
 * the split is done on x before the inner transpose instead: x reshaped, then one transpose for both. Returns that
 * reshape's shape and the composed permutation, or undefined when the groups still do not line up.
 */
function splitFirst(inner: Node<"transpose">, reshaped: Value, perm: readonly number[]) {
  const source = inner.outputs[0];
  const x = inner.inputs[0];
  const groups = alignedGroups(source.shape, reshaped.shape);
  if (!groups) return undefined;
  const splitOf = new Map<number, Dim[]>(); // x axis -> the sizes it splits into
  for (const g of groups)
    if (g.from.length === 1 && g.to.length > 1)
      splitOf.set(
        inner.attrs.perm[g.from[0]],
        g.to.map((t) => reshaped.shape[t]),
      );
  if (splitOf.size === 0) return undefined;
  const newAxes: number[][] = [];
  const xShape: Dim[] = [];
  x.shape.forEach((d, j) => {
    const parts = splitOf.get(j) ?? [d];
    newAxes.push(parts.map((_, m) => xShape.length + m));
    xShape.push(...parts);
  });
  const innerPerm = inner.attrs.perm.flatMap((j) => newAxes[j]);
  const refined = alignedGroups(
    innerPerm.map((j) => xShape[j]),
    reshaped.shape,
  );
  const order = refined && groupOrder(refined, perm);
  if (!refined || !order) return undefined;
  return { xShape, perm: order.flatMap((g) => refined[g].from).map((a) => innerPerm[a]) };
}

function rewriteTranspose(node: Node, b: GraphBuilder, keep: ReadonlySet<Node>): Value[] | undefined {
  if (node.op !== "transpose" || keep.has(node)) return undefined;
  const reshaped = node.inputs[0];
  if (reshaped.producer.op !== "reshape") return undefined;
  const source = reshaped.producer.inputs[0];
  if (source.producer.op !== "transpose") return undefined;
  const groups = alignedGroups(source.shape, reshaped.shape);
  if (!groups) return undefined;
  const { perm } = node.attrs;
  const origin = originOf(node);
  const out = [...node.outputs[0].shape];
  const order = groupOrder(groups, perm);
  if (order) {
    const moved = b.op1("transpose", { perm: order.flatMap((g) => groups[g].from) }, [source], origin);
    return [b.op1("reshape", { shape: out }, [moved], origin)];
  }
  const split = splitFirst(source.producer, reshaped, perm);
  if (!split) return undefined;
  const x = b.op1("reshape", { shape: split.xShape }, [source.producer.inputs[0]], origin);
  return [b.op1("reshape", { shape: out }, [b.op1("transpose", { perm: split.perm }, [x], origin)], origin)];
}

/**
 * A 4-D NHWC -> NCHW transpose read only by convs stays where it is: onnxruntime converts it while reordering the
 * images to blocked channels for the conv, where merged into a transpose before a reshape it would be a copy.
 */
export function feedsConvAsNchw(graph: Graph): Set<Node> {
  const readers = readersOf(graph);
  const nchw = (n: Node) => n.op === "transpose" && n.attrs.perm.join() === "0,3,1,2";
  return new Set(graph.nodes.filter((n) => nchw(n) && (readers.get(n.outputs[0]) ?? []).every((r) => r.op === "conv")));
}

export function transposeThroughReshape(graph: Graph): boolean {
  const keep = feedsConvAsNchw(graph);
  return rewriteGraph(graph, (node, b) => rewriteTranspose(node, b, keep));
}
