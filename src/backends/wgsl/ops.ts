// How the WGSL backend computes each op: its lowering table, keyed by the op registry's union of non-elementwise
// ops (an op without an entry does not compile), beside the elementwise registry rows' scalar expressions. An op
// is a source, a scalar expression per element, an inlined index map (layout or gather), or the anchor of a kernel
// family; a registered op (a test's scratch op) is computed only where a lowering was registered for it.
import { elementwiseRow } from "../../compiler/ir/elementwise-ops.js";
import type { Node, OpName } from "../../compiler/ir/ir.js";
import { isCoreOp, type StructuralOp } from "../../compiler/ir/ops/index.js";
import * as bodies from "./codegen/expr.js";
import { broadcastIndex } from "./codegen/indexing.js";
import { batchNormExpr, castExpr, clipExpr, elementwiseExpr } from "./codegen/scalar-ops.js";
import type { KernelWriter } from "./codegen/writer.js";

/** The kernel families, each with the ops that anchor it (any op anchors a pointwise kernel: one that is stored). */
interface KernelAnchors {
  pointwise: OpName;
  matmul: "matmul";
  conv: "conv";
  pool: "max_pool" | "avg_pool";
  reduce: "reduce";
  argmax: "argmax";
  softmax: "softmax";
  layer_norm: "layer_norm";
  attention: "attention";
  topk: "topk";
  lstm: "lstm";
}
export type KernelKind = keyof KernelAnchors;
export type AnchorOp<K extends KernelKind> = KernelAnchors[K];

/** A kernel's kind with its anchor, typed by it (so each kernel family reads its anchor's attributes typed). */
export type Anchored = { [K in KernelKind]: { readonly kind: K; readonly anchor: Node<AnchorOp<K>> } }[KernelKind];

/** The element expression of a scalar op from its operands' element expressions (each evaluated once). */
type ScalarExpr<N> = (node: N, operands: readonly string[], use: (helper: string) => void) => string;

/** How WGSL computes one op, given its nodes of type N. */
export type WgslLowering<N> =
  | "source"
  | {
      readonly scalar: ScalarExpr<N>;
      /** Costs several loads per element, so fused kernels avoid recomputing it per consumer. */
      readonly expensive: boolean;
      /** The shape operand k broadcasts from, where it is not the operand's own. */
      readonly operandShape?: (node: N, k: number) => number[];
    }
  | {
      /** Recomputed by index arithmetic in every kernel that reads it: layout ops are free, gathers read an index. */
      readonly inline: "layout" | "gather";
      /** The body of `fn vN(i: u32) -> T`: the element at flat index i. */
      readonly body: (node: N, w: KernelWriter) => string;
      /** Reads several values per element (interpolation): stored rather than recomputed by a kernel's operand. */
      readonly interpolates?: boolean;
    }
  /** Anchors a kernel of its family (each entry says which, typed by the family's anchor ops). */
  | { readonly anchors: (node: N) => Anchored };

const WGSL_OPS: { readonly [K in StructuralOp]: WgslLowering<Node<K>> } = {
  input: "source",
  param: "source",
  const: "source",
  where: { scalar: (_, [c, x, y]) => `select(${y}, ${x}, ${c})`, expensive: false },
  cast: { scalar: (n, [x], use) => castExpr(x, n.inputs[0].dtype, n.attrs.to, use), expensive: false },
  clip: { scalar: (n, [x]) => clipExpr(x, n.outputs[0].dtype, n.attrs), expensive: false },
  // A square root and a division per element.
  batch_norm: {
    scalar: batchNormExpr,
    expensive: true,
    // The per-channel parameters line up with axis 1 of x (as [C, 1, ..., 1]) rather than with its last axis.
    operandShape: (n, k) => {
      const shape = n.inputs[k].shape as number[];
      return k === 0 ? shape : [shape[0], ...new Array<number>(n.inputs[0].shape.length - 2).fill(1)];
    },
  },
  matmul: { anchors: (anchor) => ({ kind: "matmul", anchor }) },
  conv: { anchors: (anchor) => ({ kind: "conv", anchor }) },
  max_pool: { anchors: (anchor) => ({ kind: "pool", anchor }) },
  avg_pool: { anchors: (anchor) => ({ kind: "pool", anchor }) },
  reduce: { anchors: (anchor) => ({ kind: "reduce", anchor }) },
  argmax: { anchors: (anchor) => ({ kind: "argmax", anchor }) },
  softmax: { anchors: (anchor) => ({ kind: "softmax", anchor }) },
  layer_norm: { anchors: (anchor) => ({ kind: "layer_norm", anchor }) },
  attention: { anchors: (anchor) => ({ kind: "attention", anchor }) },
  topk: { anchors: (anchor) => ({ kind: "topk", anchor }) },
  lstm: { anchors: (anchor) => ({ kind: "lstm", anchor }) },
  transpose: { inline: "layout", body: bodies.transposeBody },
  reshape: { inline: "layout", body: bodies.reshapeBody },
  expand: { inline: "layout", body: bodies.expandBody },
  slice: { inline: "layout", body: bodies.sliceBody },
  concat: { inline: "layout", body: bodies.concatBody },
  pad: { inline: "layout", body: bodies.padBody },
  gather: { inline: "gather", body: bodies.gatherBody },
  gather_elements: { inline: "gather", body: bodies.gatherElementsBody },
  sample_linear: { inline: "gather", body: bodies.sampleLinearBody, interpolates: true },
  resize: { inline: "gather", body: bodies.resizeBody, interpolates: true },
};

/** Lowerings of ops registered at run time (a test's scratch op); an op without one is refused with NET7003. */
const registered = new Map<string, WgslLowering<Node>>();

/** Adds the WGSL lowering of a registered op; returns the function that removes it again. */
export function registerWgslLowering(op: string, lowering: WgslLowering<Node>): () => void {
  registered.set(op, lowering);
  return () => void registered.delete(op);
}

const isCoreNode = (node: Node): node is Node<StructuralOp> => isCoreOp(node.op);

/** The table's entry of op K, typed by K (so its functions take K's nodes). */
function coreLowering<K extends StructuralOp>(op: K): WgslLowering<Node<K>> {
  return WGSL_OPS[op];
}

/** An op's lowering as data (what kind of thing it is); undefined for an elementwise or unknown op. */
function loweringOf(op: string): WgslLowering<never> | undefined {
  return isCoreOp(op) ? coreLowering(op) : registered.get(op);
}

/** The kernel a node anchors of its own, by its entry; undefined for a node that anchors none. */
export function anchoredBy(node: Node): Anchored | undefined {
  if (isCoreNode(node)) return coreAnchored(node.op, node);
  const lowering = registered.get(node.op);
  return typeof lowering === "object" && "anchors" in lowering ? lowering.anchors(node) : undefined;
}

function coreAnchored<K extends StructuralOp>(op: K, node: Node<K>): Anchored | undefined {
  const lowering = coreLowering(op);
  return typeof lowering === "object" && "anchors" in lowering ? lowering.anchors(node) : undefined;
}

/** Whether an op always anchors a kernel of its own. */
export function anchorsKernel(op: string): boolean {
  const lowering = loweringOf(op);
  return typeof lowering === "object" && "anchors" in lowering;
}

/** Ops computed as one expression per element: elementwise ops (their rows' expressions) and scalar entries. */
export function isScalarOp(op: string): boolean {
  const row = elementwiseRow(op);
  if (row) return row.wgsl !== "none" || row.decompose !== undefined;
  const lowering = loweringOf(op);
  return typeof lowering === "object" && "scalar" in lowering;
}

const inlineKind = (op: string) => {
  const lowering = loweringOf(op);
  return typeof lowering === "object" && "inline" in lowering ? lowering : undefined;
};
export const isLayoutOp = (op: string): boolean => inlineKind(op)?.inline === "layout";
export const isGatherOp = (op: string): boolean => inlineKind(op)?.inline === "gather";
/** Whether an op reads several values per element (see WgslLowering). */
export const interpolates = (op: string): boolean => inlineKind(op)?.interpolates === true;

/** Whether the backend can compute the op at all (else it refuses the node with a diagnostic). */
export const isSupported = (op: string): boolean =>
  elementwiseRow(op) ? isScalarOp(op) : loweringOf(op) !== undefined;

/** Ops whose value at an index is an expression of their inputs' values: they can be inlined into consumers. */
export const isFusible = (op: string): boolean => isScalarOp(op) || isLayoutOp(op) || isGatherOp(op);

/** Scalar ops that cost several loads per element (transcendentals; batch_norm's square root and division). */
export function isExpensive(op: string): boolean {
  const row = elementwiseRow(op);
  if (row) return row.expensive;
  const lowering = loweringOf(op);
  return typeof lowering === "object" && "scalar" in lowering && lowering.expensive;
}

/** The element expression of a scalar node given its operands' element expressions. */
export function scalarExpr(node: Node, operands: readonly string[], use: (helper: string) => void): string {
  const row = elementwiseRow(node.op);
  if (row) return elementwiseExpr(row, node, operands, use);
  if (isCoreNode(node)) return coreScalarExpr(node.op, node, operands, use);
  const lowering = registered.get(node.op);
  if (typeof lowering === "object" && "scalar" in lowering) return lowering.scalar(node, operands, use);
  throw new Error(`${node.op} is not a scalar op of the WGSL backend (a compiler bug)`);
}

function coreScalarExpr<K extends StructuralOp>(
  op: K,
  node: Node<K>,
  operands: readonly string[],
  use: (helper: string) => void,
): string {
  const lowering = coreLowering(op);
  if (typeof lowering === "object" && "scalar" in lowering) return lowering.scalar(node, operands, use);
  throw new Error(`${op} is not a scalar op of the WGSL backend (a compiler bug)`);
}

/** The shape operand k of a scalar node broadcasts from: its own, unless the op's entry says otherwise. */
export function operandShape(node: Node, k: number): number[] {
  const own = node.inputs[k].shape as number[];
  if (!isCoreNode(node)) return own;
  return coreOperandShape(node.op, node, k) ?? own;
}

function coreOperandShape<K extends StructuralOp>(op: K, node: Node<K>, k: number): number[] | undefined {
  const lowering = coreLowering(op);
  return typeof lowering === "object" && "scalar" in lowering ? lowering.operandShape?.(node, k) : undefined;
}

/** The body of an inlined node's function (see WgslLowering's `body`); scalar ops read their operands there. */
export function inlineBody(w: KernelWriter, node: Node): string {
  if (isScalarOp(node.op)) {
    const out = node.outputs[0].shape as number[];
    const operands = node.inputs.map((v, k) => w.read(v, broadcastIndex(out, operandShape(node, k), "i")));
    return `  return ${scalarExpr(node, operands, w.use)};`;
  }
  const body = isCoreNode(node) ? coreBody(node.op, node, w) : registeredBody(node, w);
  if (body === undefined) throw new Error(`${node.op} cannot be inlined (a compiler bug)`);
  return body;
}

function coreBody<K extends StructuralOp>(op: K, node: Node<K>, w: KernelWriter): string | undefined {
  const lowering = coreLowering(op);
  return typeof lowering === "object" && "inline" in lowering ? lowering.body(node, w) : undefined;
}

function registeredBody(node: Node, w: KernelWriter): string | undefined {
  const lowering = registered.get(node.op);
  return typeof lowering === "object" && "inline" in lowering ? lowering.body(node, w) : undefined;
}
