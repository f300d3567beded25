// The IR optimisation pipeline, run to a fixed point with the verifier after every pass.
import type { Diagnostic } from "../../../diagnostics/diagnostics.js";
import type { Graph } from "../ir.js";
import { verifyGraph } from "../verify.js";
import { foldAttentionBias } from "./attention-bias.js";
import { attentionPaddedRows } from "./attention-padded-rows.js";
import { attentionQueryParts } from "./attention-query-parts.js";
import { batchLeadingProducts } from "./batch-leading-products.js";
import { biasBelowMaxPool } from "./bias-below-max-pool.js";
import { opsPerConcatPart } from "./concat-parts.js";
import { eliminateCommonSubexpressions } from "./cse.js";
import { eliminateDeadCode } from "./dce.js";
import { depthwiseConv3dBanded } from "./depthwise-banded.js";
import { depthwiseBatchIntoChannels } from "./depthwise-batch-channels.js";
import { depthwiseConv3dAs2d } from "./depthwise-conv3d.js";
import { foldConstants } from "./fold.js";
import { projectionsChannelsFirst } from "./projection-channels-first.js";
import { residualNormRows } from "./residual-norm-rows.js";
import { simplify } from "./simplify.js";
import { stackedProductsInPlace } from "./stacked-products-in-place.js";
import { stackedPartsReduced } from "./stacked-reduce.js";
import { sliceThroughTranspose } from "./slice-transpose.js";
import { stridedWindowRows } from "./strided-window-rows.js";
import { canonicalTransposes } from "./transpose-canonical.js";
import { transposeThroughReshape } from "./transpose-reshape.js";

export { foldAttentionBias } from "./attention-bias.js";
export { attentionPaddedRows } from "./attention-padded-rows.js";
export { attentionQueryParts } from "./attention-query-parts.js";
export { batchLeadingProducts } from "./batch-leading-products.js";
export { biasBelowMaxPool } from "./bias-below-max-pool.js";
export { opsPerConcatPart } from "./concat-parts.js";
export { eliminateCommonSubexpressions } from "./cse.js";
export { eliminateDeadCode } from "./dce.js";
export { depthwiseConv3dBanded } from "./depthwise-banded.js";
export { depthwiseBatchIntoChannels } from "./depthwise-batch-channels.js";
export { depthwiseConv3dAs2d } from "./depthwise-conv3d.js";
export { type FoldOptions, foldConstants } from "./fold.js";
export { projectionsChannelsFirst } from "./projection-channels-first.js";
export { residualNormRows } from "./residual-norm-rows.js";
export { simplify } from "./simplify.js";
export { stackedProductsInPlace } from "./stacked-products-in-place.js";
export { stackedPartsReduced } from "./stacked-reduce.js";
export { sliceThroughTranspose } from "./slice-transpose.js";
export { stridedWindowRows } from "./strided-window-rows.js";
export { canonicalTransposes } from "./transpose-canonical.js";
export { transposeThroughReshape } from "./transpose-reshape.js";

export interface PassOptions {
  /** Run the verifier before the pipeline and after every pass (default true). */
  verify?: boolean;
  /** Passed to the verifier: hand-built graphs may lack spans. */
  requireSpans?: boolean;
  /** Largest folded constant, in elements. */
  foldMaxElements?: number;
  /** Bound on pipeline rounds; each round runs every pass once. */
  maxRounds?: number;
  /** Names of passes not to run (benchmarks measure each rewrite on and off). */
  skip?: readonly string[];
}

export interface PassResult {
  diagnostics: Diagnostic[];
  /** Rounds run until nothing changed. */
  rounds: number;
}

interface Pass {
  name: string;
  run: (graph: Graph) => boolean;
  /** Joins only once the other passes have reached their fixed point (its output would hide their patterns). */
  late?: boolean;
}

/** Left out when the ONNX graph runs attention as onnxruntime's MultiHeadAttention, which holds no scores. */
export const ATTENTION_QUERY_PARTS = "attention queries in cache-sized parts";

/** The rewrites that change how a result is computed for speed (each measured in docs/benchmarks.md). */
export const SPEED_REWRITES = [
  "attention rows outside a padded bias computed apart",
  "attention-bias folding",
  "depthwise 3-D conv as 2-D convs",
  "depthwise 3-D conv as a banded 2-D conv",
  "transpose through reshape",
  "depthwise conv: batch into channels",
  "slice through transpose",
  "transposes in their smallest form",
  "projections written channels-first",
  "rows strided windows skip, never computed",
  "residual sums normalised as rows",
  "per-channel bias added after max pooling",
  "row-wise ops taken per concatenated part",
  "stacked products read in place",
  ATTENTION_QUERY_PARTS,
] as const;

/**
 * The speed rewrites are made for onnxruntime's CPU kernels; a graph for the WGSL target is compiled without them
 * (its kernels run a depthwise 3-D conv in one pass, and the run-time batch needs constants that do not depend on
 * the batch, which a folded expand of attention-bias folding's key columns would).
 */
export const ONNX_RUNTIME_REWRITES: readonly string[] = SPEED_REWRITES;

/** Made for the WGSL back end's run-time batch; a graph for any other target is compiled without them. */
export const WGSL_REWRITES: readonly string[] = [
  "batch kept leading through stacked products",
  "stacked parts reduced as their sum",
];

/** Runs the passes in place until none changes the graph; stops at the first verifier failure. */
export function runPasses(graph: Graph, opts: PassOptions = {}): PassResult {
  const pipeline: Pass[] = [
    { name: "dead-code elimination", run: eliminateDeadCode },
    { name: "algebraic simplification", run: simplify },
    { name: "attention rows outside a padded bias computed apart", run: attentionPaddedRows },
    { name: "attention-bias folding", run: foldAttentionBias },
    { name: "depthwise conv: batch into channels", run: depthwiseBatchIntoChannels },
    { name: "depthwise 3-D conv as a banded 2-D conv", run: depthwiseConv3dBanded },
    { name: "depthwise 3-D conv as 2-D convs", run: depthwiseConv3dAs2d },
    { name: "slice through transpose", run: sliceThroughTranspose },
    { name: "transpose through reshape", run: transposeThroughReshape },
    { name: "transposes in their smallest form", run: canonicalTransposes, late: true },
    { name: "stacked products read in place", run: stackedProductsInPlace, late: true },
    { name: "batch kept leading through stacked products", run: batchLeadingProducts },
    { name: "stacked parts reduced as their sum", run: stackedPartsReduced },
    { name: "projections written channels-first", run: projectionsChannelsFirst, late: true },
    { name: "rows strided windows skip, never computed", run: stridedWindowRows, late: true },
    { name: "residual sums normalised as rows", run: residualNormRows, late: true },
    { name: "per-channel bias added after max pooling", run: biasBelowMaxPool, late: true },
    { name: ATTENTION_QUERY_PARTS, run: attentionQueryParts, late: true },
    { name: "row-wise ops taken per concatenated part", run: opsPerConcatPart },
    { name: "constant folding", run: (g: Graph) => foldConstants(g, { maxElements: opts.foldMaxElements }) },
    { name: "common-subexpression elimination", run: eliminateCommonSubexpressions },
  ].filter((p) => !opts.skip?.includes(p.name));
  const check = (after?: string): Diagnostic[] =>
    opts.verify === false ? [] : verifyGraph(graph, { requireSpans: opts.requireSpans, after });
  const initial = check();
  if (initial.length > 0) return { diagnostics: initial, rounds: 0 };
  const maxRounds = opts.maxRounds ?? 20;
  let withLate = false;
  for (let round = 1; round <= maxRounds; round++) {
    let changed = false;
    for (const pass of pipeline) {
      if (pass.late && !withLate) continue;
      changed = pass.run(graph) || changed;
      const ds = check(pass.name);
      if (ds.length > 0) return { diagnostics: ds, rounds: round };
    }
    if (!changed && withLate) return { diagnostics: [], rounds: round };
    withLate ||= !changed;
  }
  return { diagnostics: [], rounds: maxRounds };
}
