// The op registry: one row per core op. Elementwise ops are rows of ../elementwise-ops.ts; every other op is a row
// of this folder's family tables, collected here into a table over the op union, so an op added to OpAttrs
// without a row does not compile. Elaboration, the verifier, the reference interpreter, constant folding and
// `netc inspect` all read an op through the functions below; the backends key their lowering tables by the same
// union (StructuralOp), each checked for totality by its own mapped type.
import type { HostTensor } from "../../../util/tensor.js";
import type { Dim } from "../dim.js";
import { type BinaryOp, binaryRow, elementwiseRow, type UnaryOp, unaryRow } from "../elementwise-ops.js";
import { fail, isFloat, isNumeric, broadcastShapes, sameDType, type TensorType } from "../infer.js";
import { binary, unary } from "../interp/elementwise.js";
import type { OpAttrs, OpName } from "../ir.js";
import { LAYOUT_OPS } from "./layout.js";
import { LINALG_OPS } from "./linalg.js";
import { RECURRENT_OPS } from "./recurrent.js";
import type { Operands, OpSpec, ShapeResolver } from "./row.js";
import { SCALAR_OPS } from "./scalar.js";
import { SELECT_OPS } from "./select.js";
import { SOURCE_OPS } from "./sources.js";
import { WINDOW_OPS } from "./window.js";

export type { MacCount, Operands, OpSpec, ShapeResolver } from "./row.js";
export { NO_MACS } from "./row.js";

/** Every core op that is not elementwise: the ops of this registry, and the keys of each backend's own table. */
export type StructuralOp = Exclude<OpName, UnaryOp | BinaryOp>;
/** The ops whose values the caller binds (a backend's graph inputs, weights and constants). */
export type SourceOp = "input" | "param" | "const";

/** The row of every non-elementwise core op: a missing row does not compile. */
export const CORE_OPS: { readonly [K in StructuralOp]: OpSpec<OpAttrs[K]> } = {
  ...SOURCE_OPS,
  ...SCALAR_OPS,
  ...LINALG_OPS,
  ...RECURRENT_OPS,
  ...LAYOUT_OPS,
  ...WINDOW_OPS,
  ...SELECT_OPS,
};

/**
 * Ops registered at run time (a test's scratch op): checked, interpreted and costed through the same functions.
 * They are not in OpName, so no backend table has an entry for them: a backend without a registered lowering
 * refuses them with a diagnostic at the `.net` line.
 */
/** Each registered row reads its own attribute type: every one is an OpSpec<never> (see opSpec). */
const registered = new Map<string, OpSpec<never>>();

/** Registers a non-elementwise op for the rest of the process (until the returned function removes it). */
export function registerOp<A>(name: string, spec: OpSpec<A>): () => void {
  if (isCoreOp(name) || elementwiseRow(name) || registered.has(name))
    throw new Error(`the op ${name} is already defined`);
  registered.set(name, spec);
  return () => void registered.delete(name);
}

/** Whether `op` names a non-elementwise core op (a key of CORE_OPS). */
export function isCoreOp(op: string): op is StructuralOp {
  return Object.hasOwn(CORE_OPS, op);
}

/**
 * The row of a non-elementwise op (core or registered); undefined for elementwise and unknown ops. A row reads the
 * attributes of a node of its op: OpAttrs[K] for a core op K (the table's type, which a name looked up at run time
 * cannot carry, hence the overload); a registered op's node carries the attributes its registration declared.
 */
export function opSpec<K extends OpName>(op: K): OpSpec<OpAttrs[K]> | undefined;
export function opSpec(op: string): OpSpec<never> | undefined;
export function opSpec(op: string): OpSpec<never> | undefined {
  return isCoreOp(op) ? CORE_OPS[op] : registered.get(op);
}

/** Checks the operand count against a row's operand list (names ending in `?` optional, `...` one or more). */
function checkOperands(op: string, operands: Operands, count: number): void {
  if (operands === "rule") return;
  const variadic = operands.some((o) => o.endsWith("..."));
  const lo = operands.filter((o) => !o.endsWith("?")).length;
  const hi = variadic ? Number.POSITIVE_INFINITY : operands.length;
  if (variadic && count < lo) fail(`${op} needs at least ${lo === 1 ? "one tensor" : `${lo} tensors`}`);
  if (count < lo || count > hi) fail(`${op} takes ${lo === hi ? lo : `${lo} to ${hi}`} inputs, got ${count}`);
}

/**
 * The result types of an op on operands of these types; throws InferError (phrased for the user) when they do not fit.
 */
export function inferOp<K extends OpName>(op: K, attrs: OpAttrs[K], ins: readonly TensorType[]): TensorType[] {
  const unary = unaryRow(op);
  if (unary) {
    checkOperands(op, ["x"], ins.length);
    const t = ins[0].dtype;
    const ok = unary.domain === "bool" ? t === "bool" : unary.domain === "numeric" ? isNumeric(t) : isFloat(t);
    if (!ok) fail(`${op} is not defined for ${t}`);
    return [{ dtype: ins[0].dtype, shape: ins[0].shape }];
  }
  const binary = binaryRow(op);
  if (binary) {
    checkOperands(op, ["a", "b"], ins.length);
    const dtype = sameDType(ins, op);
    if (binary.operands === "bool" && dtype !== "bool") fail(`${op} needs bool operands, got ${dtype}`);
    if ((binary.operands === "numeric" && !isNumeric(dtype)) || (binary.operands === "float" && !isFloat(dtype)))
      fail(`${op} is not defined for ${dtype}`);
    const shape = broadcastShapes(ins[0].shape, ins[1].shape);
    const broken = binary.check?.(ins[0].shape, ins[1].shape, shape);
    if (broken) fail(broken);
    return [{ dtype: binary.result === "bool" ? "bool" : dtype, shape }];
  }
  const spec = opSpec(op) ?? fail(`unknown op ${op}`);
  checkOperands(op, spec.operands, ins.length);
  return spec.infer(attrs, ins, { op });
}

/** Evaluates one computing op on concrete inputs by its reference semantics; sources are bound by the caller. */
export function evalOp<K extends OpName>(
  op: K,
  attrs: OpAttrs[K],
  ins: HostTensor[],
  resolve: ShapeResolver,
): HostTensor[] {
  const unaryOp = unaryRow(op);
  if (unaryOp) return [unary(unaryOp, ins[0], attrs)];
  const binaryOp = binaryRow(op);
  if (binaryOp) return [binary(binaryOp, ins[0], ins[1])];
  const evaluate = opSpec(op)?.evaluate;
  if (evaluate === undefined || evaluate === "source") throw new Error(`evalOp: ${op} is a source op or unknown`);
  return evaluate(attrs, ins, resolve);
}

/** Multiply-accumulates of one node (elementwise ops have none); `size` counts a shape's elements. */
export function macsOf<K extends OpName>(
  op: K,
  attrs: OpAttrs[K],
  ins: readonly (readonly Dim[])[],
  outs: readonly (readonly Dim[])[],
  size: (shape: readonly Dim[]) => number,
): number {
  return opSpec(op)?.macs(attrs, ins, outs, size) ?? 0;
}
