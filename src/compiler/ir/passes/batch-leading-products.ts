// Keeps a leading axis (the batch) leading through a batched product over another axis. MViTv2's
// relative-position terms are written as transpose (the product's axis first, the batch second) -> reshape
// [N, B * M, C] -> matmul with a stack [N, C, K] -> reshape [N, B, ..., K] -> transpose (the batch first again).
// A WGSL bundle with a run-time batch runs every kernel of a value whose batch is not its first axis at the largest
// batch (backends/wgsl/batch.ts), so those products cost the largest batch's time at every batch. A matmul
// broadcasts its batch axes, so [B, N, M, C] @ [N, C, K] gives the same products with the batch in front
// throughout: the same copies and multiply-adds, and kernels that run only the batch given.
import type { GraphBuilder } from "../builder.js";
import { dimEq, dimProduct, isStatic } from "../dim.js";
import type { Graph, Node, Value } from "../ir.js";
import { originOf, readOnce, rewriteGraph } from "./rewrite.js";
import { stackedProductChain } from "./stacked-product-chain.js";

/** The permutation that reads the same elements once the first two axes of its input have swapped. */
const withFirstTwoSwapped = (perm: readonly number[]) => perm.map((a) => (a === 0 ? 1 : a === 1 ? 0 : a));

function rewrite(node: Node, b: GraphBuilder, readOnce: (v: Value) => boolean): Value[] | undefined {
  // x's first axis second in the product's operand, and first again in the result.
  const chain = stackedProductChain(
    node,
    readOnce,
    (front, last) => front.attrs.perm[1] === 0 && last.attrs.perm[0] === 1,
  );
  if (!chain) return undefined;
  const { x, front, rows, w, split, product, back, last } = chain;
  if (rows.shape.length !== 3) return undefined;
  const moved = front.outputs[0].shape;
  const [batch, stack] = [x.shape[0], moved[0]];
  const result = back.outputs[0].shape;
  // The stack must be static and w free of the batch, so that w broadcasts over it. A static first axis is moved
  // too (its products and copies are the same sizes either way), so that a bundle with a run-time batch plans the
  // same kernels as the static bundle at its largest batch.
  if (!isStatic(stack) || w.shape.some((d) => !isStatic(d))) return undefined;
  if (w.shape.length === 3 ? !dimEq(w.shape[0], stack) && w.shape[0] !== 1 : w.shape.length !== 2) return undefined;
  // The reshapes keep the stack first and split the batch off second; what lies between holds the same elements.
  const [inner, innerOut] = [dimProduct(moved.slice(2, -1)), dimProduct(result.slice(2, -1))];
  if (!isStatic(inner) || inner !== innerOut || result.length < 3) return undefined;
  if (!dimEq(rows.shape[0], stack) || !dimEq(rows.shape[2], moved[moved.length - 1])) return undefined;
  if (!dimEq(result[0], stack) || !dimEq(result[1], batch)) return undefined;
  const leading = b.op1(
    "transpose",
    { perm: [0, front.attrs.perm[0], ...front.attrs.perm.slice(2)] },
    [x],
    originOf(front),
  );
  const pieces = b.op1("reshape", { shape: [batch, stack, inner, rows.shape[2]] }, [leading], originOf(split));
  const products = b.op1("matmul", {}, [pieces, w], originOf(product));
  const unsplit = b.op1("reshape", { shape: [batch, stack, ...result.slice(2)] }, [products], originOf(back));
  return [b.op1("transpose", { perm: withFirstTwoSwapped(last.attrs.perm) }, [unsplit], originOf(last))];
}

export function batchLeadingProducts(graph: Graph): boolean {
  const once = readOnce(graph);
  return rewriteGraph(graph, (node, b) => rewrite(node, b, once));
}
