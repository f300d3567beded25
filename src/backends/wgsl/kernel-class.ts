// The classes a profile sums kernel time by: what kind of work a kernel does, from the op that anchors it.
import { anchoredKernel, type KernelKind } from "./ops.js";

export type KernelClass = "conv" | "matmul" | "attention" | "norm" | "pool" | "reduce" | "recurrent" | "pointwise";

const CLASS_OF_KIND: { readonly [K in KernelKind]: KernelClass } = {
  conv: "conv",
  matmul: "matmul",
  attention: "attention",
  layer_norm: "norm",
  softmax: "norm",
  pool: "pool",
  reduce: "reduce",
  argmax: "reduce",
  topk: "reduce",
  lstm: "recurrent",
  pointwise: "pointwise",
};

/**
 * The class of a kernel anchored on `anchorOp` (a manifest kernel's `ops[0]`). Ops that anchor no kernel family
 * of their own (elementwise, layout, gather) are stored by pointwise kernels.
 */
export function kernelClassOf(anchorOp: string): KernelClass {
  return CLASS_OF_KIND[anchoredKernel(anchorOp) ?? "pointwise"];
}
