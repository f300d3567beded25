// The classes a profile sums kernel time by: what kind of work a kernel does, from the op that anchors it.
import type { AnchorOp, KernelKind } from "./ops.js";

export type KernelClass = "conv" | "matmul" | "attention" | "norm" | "pool" | "reduce" | "recurrent" | "pointwise";

/** Every op that anchors a kernel family other than pointwise, with its class (the type keeps it complete). */
const CLASS_OF_ANCHOR: { readonly [O in AnchorOp<Exclude<KernelKind, "pointwise">>]: KernelClass } = {
  conv: "conv",
  matmul: "matmul",
  attention: "attention",
  layer_norm: "norm",
  softmax: "norm",
  max_pool: "pool",
  avg_pool: "pool",
  reduce: "reduce",
  argmax: "reduce",
  topk: "reduce",
  lstm: "recurrent",
};

/**
 * The class of a kernel anchored on `anchorOp` (a manifest kernel's `ops[0]`). Ops that anchor no kernel family
 * of their own (elementwise, layout, gather) are stored by pointwise kernels.
 */
export function kernelClassOf(anchorOp: string): KernelClass {
  return Object.hasOwn(CLASS_OF_ANCHOR, anchorOp)
    ? CLASS_OF_ANCHOR[anchorOp as keyof typeof CLASS_OF_ANCHOR]
    : "pointwise";
}
