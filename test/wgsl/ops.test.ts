// Every core op as a WGSL kernel, against onnxruntime (CPU) on the same IR graph, within 1e-3. All cases share
// one graph, so their pipelines compile in one batch on one device (pipeline creation dominates on SwiftShader).
import { afterAll, describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { BINARY, UNARY } from "../../src/compiler/ir/elementwise-ops.js";
import type { OpName } from "../../src/compiler/ir/ir.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { at } from "../helpers/ir.js";
import { OP_CASES } from "./cases.js";
import { maxAbsDiff, runBoth, TOLERANCE, tryGpu } from "./helpers.js";

/** Every computing op of the IR (sources are bound, not computed). */
const CORE_OPS: OpName[] = [
  ...(Object.keys(UNARY) as OpName[]),
  ...(Object.keys(BINARY) as OpName[]),
  "where",
  "cast",
  "clip",
  "matmul",
  "reduce",
  "argmax",
  "softmax",
  "layer_norm",
  "attention",
  "transpose",
  "reshape",
  "expand",
  "slice",
  "concat",
  "pad",
  "gather",
  "gather_elements",
  "conv",
  "max_pool",
  "avg_pool",
  "topk",
  "sample_linear",
  "lstm",
  "resize",
];

/** All cases in one graph: case i's inputs are `c<i>_<name>`, its params `c<i>.<path>`, its outputs `c<i>_y<j>`. */
function combinedGraph() {
  const b = new GraphBuilder("ops");
  const inputs = new Map<string, HostTensor>();
  const params = new Map<string, HostTensor>();
  OP_CASES.forEach((c, i) => {
    const x: Record<string, ReturnType<GraphBuilder["input"]>> = {};
    for (const [name, t] of Object.entries(c.inputs)) {
      x[name] = b.input(`c${i}_${name}`, t.dtype, t.shape, at(i + 1));
      inputs.set(`c${i}_${name}`, t);
    }
    for (const [path, t] of Object.entries(c.params ?? {})) {
      x[path] = b.param({ path: `c${i}.${path}`, dtype: t.dtype, shape: t.shape, unused: false, span: at(i + 1).span });
      params.set(`c${i}.${path}`, t);
    }
    c.build(b, x, i + 1).forEach((v, j) => b.output(`c${i}_y${j}`, v));
  });
  return { graph: b.graph, inputs, params };
}

const { gpu, reason } = await tryGpu();

describe.skipIf(!gpu)(`every core op on WebGPU${reason ? ` (skipped: ${reason})` : ""}`, () => {
  const { graph, inputs, params } = combinedGraph();
  const results = runBoth(gpu!, graph, inputs, params);
  afterAll(() => gpu?.release());

  it("covers every computing op of the IR", () => {
    const used = new Set(graph.nodes.map((n) => n.op));
    expect(CORE_OPS.filter((op) => !used.has(op))).toEqual([]);
  });

  it.each(OP_CASES.map((c, i) => [c.name, i] as const))(
    "%s",
    async (_name, i) => {
      const { got, expected } = await results;
      for (const [name, want] of expected) {
        if (!name.startsWith(`c${i}_`)) continue;
        expect(maxAbsDiff(got[name], want), name).toBeLessThanOrEqual(TOLERANCE);
      }
    },
    300_000,
  );
});
