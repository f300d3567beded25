// Lowers one computing IR node to ONNX nodes, op by op (sources are handled by emit.ts).
import { type BinaryOp, type CustomOnnxOp, elementwiseRow, type UnaryOp } from "../../compiler/ir/elementwise-ops.js";
import type { OpName } from "../../compiler/ir/ir.js";
import { LoweringError, type NodeEmitter } from "./context.js";
import { lowerCast, lowerClip, lowerGelu, lowerRelu } from "./lower-elementwise.js";
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
  gelu: lowerGelu,
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
  if (row.onnx === "none") throw new LoweringError(`${op} has no ONNX lowering`);
  if (row.onnx !== "custom") return e.emit(row.onnx.op, e.inputs, [e.out()]);
  if (!Object.hasOwn(CUSTOM, op)) throw new LoweringError(`${op} has no ONNX lowering`);
  (CUSTOM[op as CustomOnnxOp] as Lowering)(e);
}
