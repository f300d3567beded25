// Multiplies by a stack of matrices [T, C, K] in place instead of moving the stacked axis to the front and back.
// A batched product over an inner axis of x [P, T, Q] is written as transpose (T first) -> reshape [T, M, C] ->
// matmul with W [T, C, K] -> reshape [T, P, Q'] -> transpose back: two copies of x's size and the result's. A matmul
// broadcasts its batch axes, so reshape(x, [P, T, Q / C, C]) @ W gives the same products with x read where it lies
// (MViTv2's relative-position term along time: q's frames times the table of each frame, [B * H, T, H * W, C] @
// [T, C, T']). Applied only where each product has many rows (each (p, t) becomes one product of Q / C rows).
import type { GraphBuilder } from "../builder.js";
import { type Dim, dimEq, dimMul, isStatic, shapeEq } from "../dim.js";
import type { Graph, Node, Value } from "../ir.js";
import { originOf, readOnce, rewriteGraph } from "./rewrite.js";
import { stackedProductChain } from "./stacked-product-chain.js";

/** Fewest rows per product for the in-place form: below it the many small products cost more than the copies. */
const MIN_ROWS = 128;

const swapsFirstTwo = (n: Node<"transpose">) => n.attrs.perm.join() === "1,0,2";

function rewrite(node: Node, b: GraphBuilder, readOnce: (v: Value) => boolean): Value[] | undefined {
  const chain = stackedProductChain(node, readOnce, (front, last) => swapsFirstTwo(front) && swapsFirstTwo(last));
  if (!chain) return undefined;
  const { x, rows, w, split, product, back } = chain;
  if (w.shape.length !== 3) return undefined;
  if (x.shape.length !== 3 || rows.shape.length !== 3) return undefined;
  const [p, t, q] = x.shape;
  const [, c, k] = w.shape;
  const [stack, m] = rows.shape;
  // The stacked axis is x's second, the rows of each product are whole [C] pieces of x's last axis, and the result
  // goes back to [P, T, (Q / C) * K] in that order.
  if (!isStatic(q) || !isStatic(c) || !isStatic(k) || q % c !== 0 || q / c < MIN_ROWS) return undefined;
  if (!dimEq(stack, t) || !dimEq(w.shape[0], t) || !dimEq(m, dimMul(p, q / c)) || !dimEq(rows.shape[2], c))
    return undefined;
  if (!shapeEq(back.outputs[0].shape, [t, p, (q / c) * k] as Dim[])) return undefined;
  const origin = originOf(product);
  const pieces = b.op1("reshape", { shape: [p, t, q / c, c] }, [x], originOf(split));
  const inPlace = b.op1("matmul", {}, [pieces, w], origin);
  return [b.op1("reshape", { shape: [...node.outputs[0].shape] }, [inPlace], originOf(node))];
}

export function stackedProductsInPlace(graph: Graph): boolean {
  const once = readOnce(graph);
  return rewriteGraph(graph, (node, b) => rewrite(node, b, once));
}
