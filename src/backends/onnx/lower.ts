// Lowers one computing IR node to ONNX nodes, op by op (sources are handled by emit.ts).
import { type BinaryOp, type CustomOnnxOp, elementwiseRow, type UnaryOp } from "../../compiler/ir/elementwise-ops.js";
import type { OpName } from "../../compiler/ir/ir.js";
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

/** Every other computing op (sources are emit.ts's): an op without an entry does not compile. */
const LOWERINGS: { readonly [K in Exclude<OpName, UnaryOp | BinaryOp | "input" | "param" | "const">]: Lowering<K> } = {
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

export function lowerNode(e: NodeEmitter): void {
  const op = e.node.op;
  const row = elementwiseRow(op);
  if (!row) {
    if (!Object.hasOwn(LOWERINGS, op)) throw new LoweringError(`the ONNX backend has no lowering for ${op}`);
    return (LOWERINGS[op as keyof typeof LOWERINGS] as Lowering)(e);
  }
  const { onnx } = row;
  if (onnx === "custom" && Object.hasOwn(CUSTOM, op)) return (CUSTOM[op as CustomOnnxOp] as Lowering)(e);
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
