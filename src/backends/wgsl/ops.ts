// The op families the WGSL planner distinguishes. Elementwise ops are scalar expressions as their op-registry rows
// say; every other op is placed in a family here, and an op without one does not compile.
import { type BinaryOp, elementwiseRow, type UnaryOp } from "../../compiler/ir/elementwise-ops.js";
import type { Node, OpName } from "../../compiler/ir/ir.js";

/** The kernel families, by what anchors them. */
export type KernelKind =
  | "pointwise"
  | "matmul"
  | "conv"
  | "pool"
  | "reduce"
  | "argmax"
  | "softmax"
  | "layer_norm"
  | "attention"
  | "topk"
  | "lstm";

type Family = { kernel: KernelKind } | "scalar" | "layout" | "gather" | "source";

const FAMILY = {
  input: "source",
  param: "source",
  const: "source",
  where: "scalar",
  cast: "scalar",
  clip: "scalar",
  batch_norm: "scalar",
  matmul: { kernel: "matmul" },
  conv: { kernel: "conv" },
  max_pool: { kernel: "pool" },
  avg_pool: { kernel: "pool" },
  reduce: { kernel: "reduce" },
  argmax: { kernel: "argmax" },
  softmax: { kernel: "softmax" },
  layer_norm: { kernel: "layer_norm" },
  attention: { kernel: "attention" },
  topk: { kernel: "topk" },
  lstm: { kernel: "lstm" },
  transpose: "layout",
  reshape: "layout",
  expand: "layout",
  slice: "layout",
  concat: "layout",
  pad: "layout",
  gather: "gather",
  gather_elements: "gather",
  sample_linear: "gather",
  resize: "gather",
} as const satisfies { readonly [K in Exclude<OpName, UnaryOp | BinaryOp>]: Family };

/** The ops that anchor kernels of kind K (the table's); any op can anchor a pointwise kernel (one that must be stored). */
export type AnchorOp<K extends KernelKind> = K extends "pointwise"
  ? OpName
  : { [O in keyof typeof FAMILY]: (typeof FAMILY)[O] extends { readonly kernel: K } ? O : never }[keyof typeof FAMILY];

/** A kernel's kind with its anchor, typed by it (so each kernel family reads its anchor's attributes typed). */
export type Anchored = { [K in KernelKind]: { readonly kind: K; readonly anchor: Node<AnchorOp<K>> } }[KernelKind];

/** The kernel a node anchors of its own, by its family; undefined for a node that anchors none. */
export function anchoredBy(node: Node): Anchored | undefined {
  const f = familyOf(node.op);
  // FAMILY places node.op in this kernel, which is what AnchorOp says.
  return typeof f === "object" ? ({ kind: f.kernel, anchor: node } as Anchored) : undefined;
}

/** The family of an op; undefined for an op the backend cannot compute (a registered op without a WGSL lowering). */
function familyOf(op: string): Family | undefined {
  const row = elementwiseRow(op);
  if (row) return row.wgsl === "none" && !row.decompose ? undefined : "scalar";
  return Object.hasOwn(FAMILY, op) ? FAMILY[op as keyof typeof FAMILY] : undefined;
}

/** The kernel an op always anchors, for ops that always anchor one of their own. */
export function anchoredKernel(op: string): KernelKind | undefined {
  const f = familyOf(op);
  return typeof f === "object" ? f.kernel : undefined;
}

/** Ops computed as one expression per element (elementwise ops, where, cast, clip, batch_norm). */
export const isScalarOp = (op: string): boolean => familyOf(op) === "scalar";
export const isLayoutOp = (op: string): boolean => familyOf(op) === "layout";
export const isGatherOp = (op: string): boolean => familyOf(op) === "gather";
/** Whether the backend can compute the op at all (else it refuses the node with a diagnostic). */
export const isSupported = (op: string): boolean => familyOf(op) !== undefined;

/** Ops whose value at an index is an expression of their inputs' values: they can be inlined into consumers. */
export const isFusible = (op: string): boolean => isScalarOp(op) || isLayoutOp(op) || isGatherOp(op);

/** Scalar ops that cost several loads per element (transcendentals; batch_norm's square root and division). */
export const isExpensive = (op: string): boolean => op === "batch_norm" || elementwiseRow(op)?.expensive === true;
