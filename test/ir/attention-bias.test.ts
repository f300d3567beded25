// The attention-bias folding pass: a factored bias (a sum of terms that each vary along few key axes, padded for a
// class token) becomes extra columns of q and k; the 8-D broadcast adds, the pad and the bias input disappear, and
// every output keeps its value. A dense bias, or one with too many columns, is left as it is.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { type Dim, sym } from "../../src/compiler/ir/dim.js";
import type { Graph, OpName, Value } from "../../src/compiler/ir/ir.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { foldAttentionBias, runPasses } from "../../src/compiler/ir/passes/index.js";
import { verifyGraph } from "../../src/compiler/ir/verify.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { at, expectClose, random } from "../helpers/ir.js";

const B = sym("B");
const HEADS = 2;
const WIDTH = 8;
const count = (g: Graph, op: OpName) => g.nodes.filter((n) => n.op === op).length;
const maxRank = (g: Graph) => Math.max(...g.nodes.flatMap((n) => n.outputs.map((v) => v.shape.length)));

/**
 * MViTv2's decomposed relative-position bias at toy size: q on a (qt, qh, qw) grid and k on a (kt, kh, kw) grid, each
 * with a class token in front; the bias is bt[.., kt] + bh[.., kh] + bw[.., kw] broadcast to 8-D, reshaped to
 * [B, heads, nq, nk] and zero-padded by one row and column.
 */
function mvitStyle(qGrid: number[], kGrid: number[], padded = true, rowsAfter = 0) {
  const b = new GraphBuilder("Rel");
  const nq = qGrid.reduce((a, c) => a * c);
  const nk = kGrid.reduce((a, c) => a * c);
  const extra = padded ? 1 : 0;
  const q = b.input("q", "f32", [B, HEADS, nq + extra + rowsAfter, WIDTH], at(1));
  const k = b.input("k", "f32", [B, HEADS, nk + extra, WIDTH], at(2));
  const v = b.input("v", "f32", [B, HEADS, nk + extra, WIDTH], at(3));
  const lead: Dim[] = [B, HEADS, ...qGrid];
  const terms = kGrid.map((size, axis) => {
    const term = b.input(`b${axis}`, "f32", [...lead, size], at(4));
    const broadcast = kGrid.map((s, a) => (a === axis ? s : 1));
    return b.op1("reshape", { shape: [...lead, ...broadcast] }, [term], at(5));
  });
  const sum = terms.slice(1).reduce((acc, t) => b.op1("add", {}, [acc, t], at(6)), terms[0]);
  let bias: Value = b.op1("reshape", { shape: [B, HEADS, nq, nk] }, [sum], at(7));
  if (padded) bias = b.op1("pad", { pads: [0, 0, 1, 1, 0, 0, rowsAfter, 0], value: 0 }, [bias], at(8));
  b.output("o", b.op1("attention", { scale: 1 / Math.sqrt(WIDTH) }, [q, k, v, bias], at(9, "attn")));
  const batch = 2;
  const inputs = new Map<string, HostTensor>([
    ["q", random("f32", [batch, HEADS, nq + extra + rowsAfter, WIDTH], 1)],
    ["k", random("f32", [batch, HEADS, nk + extra, WIDTH], 2)],
    ["v", random("f32", [batch, HEADS, nk + extra, WIDTH], 3)],
    ...kGrid.map((size, axis) => [`b${axis}`, random("f32", [batch, HEADS, ...qGrid, size], 4 + axis)] as const),
  ]);
  return { graph: b.graph, inputs };
}

/** The pass that would take the class token's row out of the bias before folding sees it. */
const ROWS_APART = "attention rows outside a padded bias computed apart";

/** Runs the whole pipeline (but the passes in `skip`); the outputs must not move. */
function rewritten(g: Graph, inputs: Map<string, HostTensor>, skip: string[] = []): Graph {
  const before = interpret(g, inputs, new Map()).outputs.get("o")!;
  const r = runPasses(g, { verify: true, skip });
  expect(r.diagnostics).toEqual([]);
  expect(verifyGraph(g)).toEqual([]);
  expectClose(interpret(g, inputs, new Map()).outputs.get("o")!, before, 1e-5, "attention output");
  return g;
}

describe("attention-bias folding", () => {
  it("turns a padded decomposed relative-position bias into extra q and k columns", () => {
    const { graph, inputs } = mvitStyle([2, 3, 3], [3, 4, 4]);
    expect([count(graph, "add"), count(graph, "pad"), maxRank(graph)]).toEqual([2, 1, 8]);
    rewritten(graph, inputs, [ROWS_APART]);
    const attention = graph.nodes.filter((n) => n.op === "attention");
    expect(attention).toHaveLength(1);
    // No bias input: q and k carry 3 + 4 + 4 = 11 more columns; no 8-D tensor and no add remain.
    expect(attention[0].inputs.map((v) => v.shape.at(-1))).toEqual([WIDTH + 11, WIDTH + 11, WIDTH]);
    expect([count(graph, "add"), maxRank(graph)]).toEqual([0, 6]);
    // The one pad left gives the class-token row its zero columns ([B, 2, 18, 11] -> [B, 2, 19, 11]).
    expect(graph.nodes.filter((n) => n.op === "pad").map((n) => n.outputs[0].shape.slice(2))).toEqual([[19, 11]]);
    expect(attention[0].span?.line).toBe(9);
  });

  it("after the class token's row is taken apart, folds the unpadded rows' bias and leaves no pad", () => {
    const { graph, inputs } = mvitStyle([2, 3, 3], [3, 4, 4]);
    rewritten(graph, inputs);
    const attention = graph.nodes.filter((n) => n.op === "attention");
    expect(attention.map((n) => [n.inputs[0].shape[2], n.inputs.map((v) => v.shape.at(-1))])).toEqual([
      [1, [WIDTH, WIDTH, WIDTH]],
      [18, [WIDTH + 11, WIDTH + 11, WIDTH]],
    ]);
    expect([count(graph, "add"), count(graph, "pad"), maxRank(graph)]).toEqual([0, 0, 6]);
  });

  it.each([
    ["with", [], 3],
    ["without", [ROWS_APART], 1],
  ] as [string, string[], number][])(
    "folds a bias padded by rows before and after the queries %s the rows apart",
    (_, skip, n) => {
      const { graph, inputs } = mvitStyle([2, 3, 3], [3, 4, 4], true, 2);
      rewritten(graph, inputs, skip);
      const attention = graph.nodes.filter((n) => n.op === "attention");
      expect(attention.map((n) => n.inputs.length)).toEqual(Array(n).fill(3));
      expect(count(graph, "add")).toBe(0);
    },
  );

  it("rewrites an unpadded bias too", () => {
    const { graph, inputs } = mvitStyle([2, 2, 2], [2, 5, 5], false);
    rewritten(graph, inputs);
    expect([count(graph, "add"), count(graph, "pad")]).toEqual([0, 0]);
    expect(graph.nodes.find((n) => n.op === "attention")!.inputs).toHaveLength(3);
  });

  it("leaves a bias alone when its columns are not few against the keys", () => {
    const { graph } = mvitStyle([2, 2, 2], [2, 2, 2]); // 6 columns for 8 keys
    expect(foldAttentionBias(graph)).toBe(false);
    expect(graph.nodes.find((n) => n.op === "attention")!.inputs).toHaveLength(4);
  });

  it("leaves a dense bias alone", () => {
    const b = new GraphBuilder("Dense");
    const q = b.input("q", "f32", [B, 2, 5, 4], at(1));
    const k = b.input("k", "f32", [B, 2, 40, 4], at(2));
    const bias = b.input("bias", "f32", [B, 2, 5, 40], at(3));
    b.output("o", b.op1("attention", { scale: 0.5 }, [q, k, k, bias], at(4)));
    expect(foldAttentionBias(b.graph)).toBe(false);
  });
});
