// Lowers one computing IR node to ONNX nodes, op by op (sources are handled by emit.ts).
import type { OpName } from "../../compiler/ir/ir.js";
import type { NodeEmitter } from "./context.js";
import { lowerCast, lowerClip, lowerGelu, lowerRelu, ONE_TO_ONE } from "./lower-elementwise.js";
import { lowerConcat, lowerExpand, lowerGather, lowerGatherElements, lowerPad, lowerReshape, lowerSlice, lowerTranspose } from "./lower-layout.js";
import { lowerAttention, lowerAvgPool, lowerBatchNorm, lowerConv, lowerLayerNorm, lowerMaxPool, lowerResize } from "./lower-nn.js";
import { lowerLstm } from "./lower-recurrent.js";
import { lowerArgmax, lowerReduce, lowerSoftmax } from "./lower-reduce.js";
import { lowerSampleLinear, lowerTopk } from "./lower-select.js";

type Lowering = (e: NodeEmitter) => void;

const LOWERINGS: Partial<Record<OpName, Lowering>> = {
  relu: lowerRelu,
  gelu: lowerGelu,
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
  const simple = ONE_TO_ONE[op];
  if (simple) return e.emit(simple, e.inputs, [e.out()]);
  const lower = LOWERINGS[op];
  if (!lower) throw new Error(`the ONNX backend has no lowering for ${op}`);
  lower(e);
}
