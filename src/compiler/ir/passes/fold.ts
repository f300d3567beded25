// Constant folding: a node whose inputs are all constants is evaluated by the reference interpreter's kernels
// and replaced by constants. Parameters are never folded (a checkpoint may replace them).
import type { HostTensor } from "../../../util/tensor.js";
import { type Dim, isStatic } from "../dim.js";
import { staticNumel } from "../infer.js";
import type { Graph, Node, Value } from "../ir.js";
import { evalOp } from "../ops/index.js";
import { KernelError } from "../interp/numeric.js";
import { originOf, rewriteGraph } from "./rewrite.js";

export interface FoldOptions {
  /** Largest folded constant, in elements (default 16 Mi). */
  maxElements?: number;
}

/** Results up to this many elements may exceed their inputs' size (small broadcasts are worth folding). */
const SMALL_RESULT = 4096;

const constValue = (v: Value): HostTensor | undefined =>
  v.producer.op === "const" ? v.producer.attrs.value : undefined;

/** Folding must never turn small constants into a big one (an expand of a scalar, a broadcast outer sum). */
function worthFolding(node: Node, inputs: HostTensor[], maxElements: number): boolean {
  const sizes = node.outputs.map((v) => staticNumel(v.shape));
  if (sizes.some((s) => s === undefined || s > maxElements)) return false;
  const produced = sizes.reduce((a: number, s) => a + s!, 0);
  const consumed = inputs.reduce((a, t) => a + t.data.length, 0);
  return produced <= Math.max(consumed, SMALL_RESULT);
}

/** Shape attributes of a foldable node are its static output shapes (worthFolding checked them). */
function staticShape(shape: readonly Dim[]): number[] {
  return shape.map((d) => {
    if (!isStatic(d)) throw new Error("constant folding met a symbolic shape");
    return d;
  });
}

export function foldConstants(graph: Graph, opts: FoldOptions = {}): boolean {
  const maxElements = opts.maxElements ?? 16 * 1024 * 1024;
  return rewriteGraph(graph, (node, b) => {
    if (node.op === "input" || node.op === "param" || node.op === "const") return undefined;
    const inputs = node.inputs.map(constValue);
    if (inputs.some((t) => t === undefined)) return undefined;
    const values = inputs as HostTensor[];
    if (!worthFolding(node, values, maxElements)) return undefined;
    let results: HostTensor[];
    try {
      results = evalOp(node.op, node.attrs, values, staticShape);
    } catch (e) {
      if (e instanceof KernelError) return undefined; // leave the failure to run time, where it is reported
      throw e;
    }
    return results.map((t) => b.constant(t, originOf(node)));
  });
}
