// Lowers one computing IR node to ONNX nodes, op by op (sources are handled by emit.ts): elementwise ops as their
// op-registry rows say, every other op by this backend's table, keyed by the registry's op union.
import { type CustomOnnxOp, elementwiseRow } from "../../compiler/ir/elementwise-ops.js";
import type { OpName } from "../../compiler/ir/ir.js";
import { isCoreOp, type SourceOp, type StructuralOp } from "../../compiler/ir/ops/index.js";
import { LoweringError, type NodeEmitter } from "./context.js";
import { lowerCast, lowerClip, lowerDecomposition, lowerRelu } from "./lower-elementwise.js";
import { attr } from "./proto.js";
import {
  lowerConcat,
  lowerExpand,
  lowerGather,
  lowerGatherElements,
  lowerPad,
  lowerReshape,
  lowerSlice,
  lowerTranspose,
} from "./lower-layout.js";
import {
  lowerAttention,
  lowerAvgPool,
  lowerBatchNorm,
  lowerConv,
  lowerLayerNorm,
  lowerMaxPool,
  lowerResize,
} from "./lower-nn.js";
import { lowerLstm } from "./lower-recurrent.js";
import { lowerArgmax, lowerReduce, lowerSoftmax } from "./lower-reduce.js";
import { lowerSampleLinear, lowerTopk } from "./lower-select.js";

type Lowering<K extends OpName = OpName> = (e: NodeEmitter<K>) => void;

/** Elementwise ops lower as their registry row says; these are the rows that say "custom". */
const CUSTOM: { readonly [K in CustomOnnxOp]: Lowering<K> } = {
  relu: lowerRelu,
};

/** The registry's non-elementwise ops that compute (sources are emit.ts's). */
type ComputingOp = Exclude<StructuralOp, SourceOp>;

/** Every non-elementwise computing op: an op without an entry does not compile. */
const LOWERINGS: { readonly [K in ComputingOp]: Lowering<K> } = {
  where: (e) => e.emit("Where", e.inputs, [e.out()]),
  matmul: (e) => e.emit("MatMul", e.inputs, [e.out()]),
  cast: lowerCast,
  clip: lowerClip,
  reduce: lowerReduce,
  argmax: lowerArgmax,
  softmax: lowerSoftmax,
  layer_norm: lowerLayerNorm,
  batch_norm: lowerBatchNorm,
  attention: lowerAttention,
  lstm: lowerLstm,
  transpose: lowerTranspose,
  reshape: lowerReshape,
  expand: lowerExpand,
  slice: lowerSlice,
  concat: lowerConcat,
  pad: lowerPad,
  gather: lowerGather,
  gather_elements: lowerGatherElements,
  conv: lowerConv,
  max_pool: lowerMaxPool,
  avg_pool: lowerAvgPool,
  resize: lowerResize,
  topk: lowerTopk,
  sample_linear: lowerSampleLinear,
};

/** Lowerings of ops registered at run time (a test's scratch op); an op without one is refused with NET5001. */
const registered = new Map<string, Lowering>();

/** Adds the lowering of a registered op; returns the function that removes it again. */
export function registerOnnxLowering(op: string, lowering: Lowering): () => void {
  registered.set(op, lowering);
  return () => void registered.delete(op);
}

const isComputingOp = (e: NodeEmitter): e is NodeEmitter<ComputingOp> =>
  isCoreOp(e.node.op) && e.node.op !== "input" && e.node.op !== "param" && e.node.op !== "const";

/** The table's lowering of op K, called with K's emitter (so the lowering reads K's attributes). */
function lowerCore<K extends ComputingOp>(op: K, e: NodeEmitter<K>): void {
  LOWERINGS[op](e);
}

function lowerCustom<K extends CustomOnnxOp>(op: K, e: NodeEmitter<K>): void {
  CUSTOM[op](e);
}

const isCustom = (e: NodeEmitter): e is NodeEmitter<CustomOnnxOp> => Object.hasOwn(CUSTOM, e.node.op);

export function lowerNode(e: NodeEmitter): void {
  const op = e.node.op;
  const row = elementwiseRow(op);
  if (!row) {
    if (isComputingOp(e)) return lowerCore(e.node.op, e);
    const lowering = registered.get(op);
    if (!lowering) throw new LoweringError(`the ONNX backend has no lowering for ${op}`);
    return lowering(e);
  }
  const { onnx } = row;
  if (onnx === "custom" && isCustom(e)) return lowerCustom(e.node.op, e);
  if (typeof onnx === "object" && e.opset >= (onnx.since ?? 0)) {
    const attrs = Object.entries(onnx.attrs?.(e.node.attrs) ?? {}).map(([name, value]) => attr.string(name, value));
    return e.emit(onnx.op, e.inputs, [e.out()], attrs);
  }
  // No ONNX op for it (in this opset): its decomposition into primitive ops, where the registry declares one.
  if (row.decompose)
    return lowerDecomposition(
      e,
      row.decompose(
        e.inputs.map((_, index) => ({ kind: "operand", index })),
        e.node.attrs,
      ),
    );
  throw new LoweringError(
    typeof onnx === "object" ? `${op} needs ONNX opset ${onnx.since} or later` : `${op} has no ONNX lowering`,
  );
}
