// The op families the WGSL planner distinguishes.
import { BINARY_OPS, type OpName, UNARY_OPS } from "../../compiler/ir/ir.js";

/** The kernel families, by what anchors them. */
export type KernelKind = "pointwise" | "matmul" | "conv" | "pool" | "reduce" | "argmax" | "softmax" | "layer_norm" | "attention" | "topk" | "lstm";

/** Ops that always anchor a kernel of their own. */
export const KERNEL_OPS: ReadonlyMap<OpName, KernelKind> = new Map<OpName, KernelKind>([
  ["matmul", "matmul"],
  ["conv", "conv"],
  ["max_pool", "pool"],
  ["avg_pool", "pool"],
  ["reduce", "reduce"],
  ["argmax", "argmax"],
  ["softmax", "softmax"],
  ["layer_norm", "layer_norm"],
  ["attention", "attention"],
  ["topk", "topk"],
  ["lstm", "lstm"],
]);

export const SCALAR_OPS: ReadonlySet<OpName> = new Set<OpName>([...UNARY_OPS, ...BINARY_OPS, "where", "cast", "clip", "batch_norm"]);
export const LAYOUT_OPS: ReadonlySet<OpName> = new Set<OpName>(["transpose", "reshape", "expand", "slice", "concat", "pad"]);
export const GATHER_OPS: ReadonlySet<OpName> = new Set<OpName>(["gather", "gather_elements", "sample_linear", "resize"]);

/** Ops whose value at an index is an expression of their inputs' values: they can be inlined into consumers. */
export const FUSIBLE_OPS: ReadonlySet<OpName> = new Set<OpName>([...SCALAR_OPS, ...LAYOUT_OPS, ...GATHER_OPS]);

export const EXPENSIVE_OPS: ReadonlySet<OpName> = new Set<OpName>(["exp", "log", "tanh", "sigmoid", "erf", "gelu", "sin", "cos", "pow", "sqrt", "batch_norm"]);
