// One entry point from a planned kernel to its WGSL module, by kernel family.
import type { KernelKind } from "../ops.js";
import type { PlannedKernel } from "../plan.js";
import { attentionKernel } from "./attention.js";
import { matmulKernel } from "./matmul.js";
import { layerNormKernel, softmaxKernel } from "./norm.js";
import { pointwiseKernel } from "./pointwise.js";
import { argmaxKernel, reduceKernel } from "./reduce.js";
import { lstmKernel } from "./recurrent.js";
import { topkKernel } from "./select.js";
import { convKernel, poolKernel } from "./window.js";
import { type CodegenContext, type KernelModule, KernelWriter } from "./writer.js";

const FAMILIES: Record<KernelKind, (w: KernelWriter, k: PlannedKernel) => KernelModule> = {
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
  return FAMILIES[kernel.kind](new KernelWriter(ctx, kernel), kernel);
}

export { type CodegenContext, DispatchTooLarge, type KernelModule } from "./writer.js";
