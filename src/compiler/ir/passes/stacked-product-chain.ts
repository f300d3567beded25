// The form in which models write a batched product over an inner axis: transpose (that axis first) -> reshape ->
// matmul with a stack of matrices -> reshape -> transpose back (MViTv2's relative-position terms). Two passes
// rewrite it: stacked-products-in-place.ts (onnxruntime) and batch-leading-products.ts (WGSL).
import type { Node, Value } from "../ir.js";

export interface StackedProductChain {
  /** The tensor the chain starts from. */
  x: Value;
  /** transpose(x), reshape(front) as the product's rows, matmul(rows, w), reshape(product), transpose(back). */
  front: Node<"transpose">;
  split: Node;
  product: Node;
  back: Node;
  last: Node<"transpose">;
  rows: Value;
  w: Value;
}

/**
 * Matches the chain from its last transpose `node` up to x, each value between read only by the next node; `ends`
 * checks the two transposes' permutations.
 */
export function stackedProductChain(
  node: Node,
  readOnce: (v: Value) => boolean,
  ends: (front: Node<"transpose">, last: Node<"transpose">) => boolean,
): StackedProductChain | undefined {
  if (node.op !== "transpose") return undefined;
  const back = node.inputs[0].producer;
  if (back.op !== "reshape" || !readOnce(node.inputs[0])) return undefined;
  const product = back.inputs[0].producer;
  if (product.op !== "matmul" || !readOnce(back.inputs[0])) return undefined;
  const [rows, w] = product.inputs;
  const split = rows.producer;
  if (split.op !== "reshape" || !readOnce(rows)) return undefined;
  const front = split.inputs[0].producer;
  if (front.op !== "transpose" || !readOnce(split.inputs[0]) || !ends(front, node)) return undefined;
  return { x: front.inputs[0], front, split, product, back, last: node, rows, w };
}
