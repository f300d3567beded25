// Kernel counts for `netc inspect` and golden tests: how many dispatches a model compiles to, by anchor op.
import type { Diagnostic } from "../../diagnostics/diagnostics.js";
import type { Graph } from "../../compiler/ir/ir.js";
import type { CompileWgslOptions } from "./compile.js";
import { DEFAULT_LIMITS } from "./limits.js";
import { chunkSizes, memoryOptions } from "./memory.js";
import { planKernels } from "./plan.js";
import { prepareGraph } from "./prepare.js";

export interface WgslKernelStats {
  kernels: number;
  /** Kernels by anchor op (a fused matmul + bias + gelu counts as one `matmul`). */
  histogram: Record<string, number>;
  /** IR nodes computed inside kernels (anchors and epilogues) or inlined into them. */
  fusedNodes: number;
}

/** Plans the kernels without generating code or weights. */
export function wgslKernelStats(
  graph: Graph,
  opts: Pick<CompileWgslOptions, "debugOutputs" | "precision" | "limits"> = {},
): { stats?: WgslKernelStats; diagnostics: Diagnostic[] } {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const { prepared, diagnostics } = prepareGraph(graph, opts.debugOutputs);
  if (!prepared) return { diagnostics };
  const memory = memoryOptions(limits, opts.precision ?? "f32");
  const { plan, diagnostics: planned } = planKernels(prepared, {
    maxStorageBindings: limits.maxStorageBuffersPerShaderStage,
    chunksOf: (v) => chunkSizes(v, memory).length,
  });
  if (!plan) return { diagnostics: planned };
  const histogram: Record<string, number> = {};
  for (const k of plan.kernels) histogram[k.anchor.op] = (histogram[k.anchor.op] ?? 0) + 1;
  const fusedNodes = plan.kernels.reduce((s, k) => s + 1 + k.epilogue.length, 0) + plan.inlined.size;
  return { stats: { kernels: plan.kernels.length, histogram, fusedNodes }, diagnostics: [] };
}
