// Moves a transpose above a reshape when that lets it merge with the transpose before the reshape:
// transpose(reshape(transpose(x))) -> reshape(transpose(x)), one pass over the data instead of two. It applies when
// the reshape only splits or merges runs of neighbouring axes (aligned groups of equal size) and the transpose moves
// whole groups; layout conversions around a computation (tokens -> frames -> tokens) then cost one transpose each.
import type { GraphBuilder } from "../builder.js";
import { type Dim, dimEq, dimProduct, dimSubstitute } from "../dim.js";
import type { Graph, Node, Value } from "../ir.js";
import { originOf, rewriteGraph } from "./rewrite.js";

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

function rewriteTranspose(node: Node, b: GraphBuilder): Value[] | undefined {
  if (node.op !== "transpose") return undefined;
  const reshaped = node.inputs[0];
  if (reshaped.producer.op !== "reshape") return undefined;
  const source = reshaped.producer.inputs[0];
  if (source.producer.op !== "transpose") return undefined;
  const groups = alignedGroups(source.shape, reshaped.shape);
  if (!groups) return undefined;
  // The transpose must list each group's axes together and in order; it then permutes the groups.
  const { perm } = node.attrs;
  const order: number[] = [];
  for (let k = 0; k < perm.length; ) {
    const g = groups.findIndex((gr) => gr.to[0] === perm[k]);
    if (g < 0 || groups[g].to.some((axis, m) => perm[k + m] !== axis)) return undefined;
    order.push(g);
    k += groups[g].to.length;
  }
  const origin = originOf(node);
  const moved = b.op1("transpose", { perm: order.flatMap((g) => groups[g].from) }, [source], origin);
  return [b.op1("reshape", { shape: [...node.outputs[0].shape] }, [moved], origin)];
}

export function transposeThroughReshape(graph: Graph): boolean {
  return rewriteGraph(graph, rewriteTranspose);
}
