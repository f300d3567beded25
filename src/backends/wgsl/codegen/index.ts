// One entry point from a planned kernel to its WGSL module, by kernel family.
import type { KernelKind } from "../ops.js";
import type { KernelOf, PlannedKernel } from "../plan.js";
import { attentionKernel } from "./attention.js";
import { matmulKernel } from "./matmul.js";
import { layerNormKernel, softmaxKernel } from "./norm.js";
import { pointwiseKernel } from "./pointwise.js";
import { argmaxKernel, reduceKernel } from "./reduce.js";
import { lstmKernel } from "./recurrent.js";
import { topkKernel } from "./select.js";
import { convKernel, poolKernel } from "./window.js";
import { type CodegenContext, type KernelModule, KernelWriter } from "./writer.js";

const FAMILIES: { readonly [K in KernelKind]: (w: KernelWriter, k: KernelOf<K>) => KernelModule } = {
  pointwise: pointwiseKernel,
  matmul: matmulKernel,
  conv: convKernel,
  pool: poolKernel,
  reduce: reduceKernel,
  argmax: argmaxKernel,
  softmax: softmaxKernel,
  layer_norm: layerNormKernel,
  attention: attentionKernel,
  topk: topkKernel,
  lstm: lstmKernel,
};

export function generateKernel(ctx: CodegenContext, kernel: PlannedKernel): KernelModule {
  return generate(new KernelWriter(ctx, kernel), kernel);
}

/** The family's generator of a kernel of kind K, given the kernel typed by K. */
function generate<K extends KernelKind>(w: KernelWriter, kernel: KernelOf<K>): KernelModule {
  return FAMILIES[kernel.kind](w, kernel);
}

export {
  BatchDependent,
  type CodegenContext,
  DispatchTooLarge,
  type KernelModule,
  type RuntimeBatch,
} from "./writer.js";
