// Query rows that a zero-padded attention bias leaves out are computed as an attention of their own (MViTv2's class
// token: its bias row is padding). Values kept (the reference interpreter before and after the pipeline); the rows
// apart, the class token's attention takes no bias and the others a bias padded along the keys only.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { sym } from "../../src/compiler/ir/dim.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { runPasses } from "../../src/compiler/ir/passes/index.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { at, expectClose, optimisedKeepingValues, random } from "../helpers/ir.js";
import { inOnnxruntime } from "../helpers/ort.js";

const B = sym("B");
const PASS = "attention rows outside a padded bias computed apart";
const [HEADS, QUERIES, KEYS, D] = [2, 6, 5, 4];

interface Options {
  /** Zero rows of the bias before and after the queries (default [1, 0]: a leading class token). */
  queryPad?: [number, number];
  /** Zero columns of the bias before and after the keys (default [1, 0]). */
  keyPad?: [number, number];
  /** The padding value (default 0). */
  padValue?: number;
  /** The bias has one row of heads and batch items, broadcast over both (default: [B, HEADS, ...]). */
  sharedBias?: boolean;
}

/** attention(q, k, v, pad(bias)) with q [B, H, pad + QUERIES, D] and k, v [B, H, pad + KEYS, D]. */
function paddedBias(o: Options = {}): { graph: Graph; feeds: Record<string, ReturnType<typeof random>> } {
  const [qBefore, qAfter] = o.queryPad ?? [1, 0];
  const [kBefore, kAfter] = o.keyPad ?? [1, 0];
  const [queries, keys] = [qBefore + QUERIES + qAfter, kBefore + KEYS + kAfter];
  const b = new GraphBuilder("PaddedBias");
  const q = b.input("q", "f32", [B, HEADS, queries, D], at(1));
  const k = b.input("k", "f32", [B, HEADS, keys, D], at(2));
  const v = b.input("v", "f32", [B, HEADS, keys, D], at(3));
  const biasLead = o.sharedBias ? [1, 1] : [B, HEADS];
  const inner = b.input("bias", "f32", [...biasLead, QUERIES, KEYS], at(4));
  const pads = [0, 0, qBefore, kBefore, 0, 0, qAfter, kAfter];
  const bias = b.op1("pad", { pads, value: o.padValue ?? 0 }, [inner], at(5));
  b.output("out", b.op1("attention", { scale: 0.5 }, [q, k, v, bias], at(6)));
  const feeds = {
    q: random("f32", [2, HEADS, queries, D], 1),
    k: random("f32", [2, HEADS, keys, D], 2),
    v: random("f32", [2, HEADS, keys, D], 3),
    bias: random("f32", o.sharedBias ? [1, 1, QUERIES, KEYS] : [2, HEADS, QUERIES, KEYS], 4),
  };
  return { graph: b.graph, feeds };
}

/** Each attention as (query rows, whether it takes a bias), in graph order. */
const attentions = (g: Graph) =>
  g.nodes.filter((n) => n.op === "attention").map((n) => [n.inputs[0].shape[2], n.inputs.length === 4]);

describe("attention rows outside a padded bias computed apart", () => {
  it("computes the class row without a bias and the other rows with the bias unpadded along the queries", () => {
    const { graph, feeds } = paddedBias();
    const g = optimisedKeepingValues(graph, feeds);
    expect(attentions(g)).toEqual([
      [1, false],
      [QUERIES, true],
    ]);
    const biased = g.nodes.find((n) => n.op === "attention" && n.inputs.length === 4)!;
    expect(biased.inputs[3].shape.slice(2)).toEqual([QUERIES, 1 + KEYS]);
  });

  it("handles padding after the queries and none on the keys", () => {
    const { graph, feeds } = paddedBias({ queryPad: [1, 2], keyPad: [0, 0] });
    const g = optimisedKeepingValues(graph, feeds);
    expect(attentions(g)).toEqual([
      [1, false],
      [QUERIES, true],
      [2, false],
    ]);
    expect(g.nodes.some((n) => n.op === "pad")).toBe(false);
  });

  it("pads rows on both sides of the queries and the keys, a bias shared by the heads; the scale kept", () => {
    const { graph, feeds } = paddedBias({ queryPad: [2, 1], keyPad: [1, 2], sharedBias: true });
    const g = optimisedKeepingValues(graph, feeds);
    expect(attentions(g)).toEqual([
      [2, false],
      [QUERIES, true],
      [1, false],
    ]);
    const nodes = g.nodes.filter((n) => n.op === "attention");
    expect(nodes.map((n) => n.op === "attention" && n.attrs.scale)).toEqual([0.5, 0.5, 0.5]);
    expect(nodes[1].inputs[3].shape).toEqual([1, 1, QUERIES, 1 + KEYS + 2]);
  });

  it("leaves the pipeline at a fixed point", () => {
    const { graph } = paddedBias({ queryPad: [1, 1] });
    expect(runPasses(graph).diagnostics).toEqual([]);
    const ops = graph.nodes.map((n) => n.op);
    expect(runPasses(graph).rounds).toBe(2);
    expect(graph.nodes.map((n) => n.op)).toEqual(ops);
  });

  it("the same graph without the pass keeps one attention over the padded bias", () => {
    const { graph, feeds } = paddedBias();
    expect(attentions(optimisedKeepingValues(graph, feeds, [PASS]))).toEqual([[1 + QUERIES, true]]);
  });

  it.each([
    ["the bias pads only the keys", { queryPad: [0, 0] }],
    ["the padding is not zero", { padValue: -1 }],
  ] as [string, Options][])("stays when %s", (_, o) => {
    const { graph, feeds } = paddedBias(o);
    const rows = (o.queryPad ?? [1, 0]).reduce((a, c) => a + c, QUERIES);
    expect(attentions(optimisedKeepingValues(graph, feeds))).toEqual([[rows, true]]);
  });
});

describe("attention rows outside a padded bias computed apart, in onnxruntime", () => {
  it("gives the interpreter's values", async () => {
    const { graph, feeds } = paddedBias({ queryPad: [1, 1], keyPad: [1, 1] });
    const expected = interpret(graph, new Map(Object.entries(feeds)), new Map()).outputs.get("out")!;
    const g = optimisedKeepingValues(graph, feeds);
    expect(attentions(g)).toHaveLength(3);
    expectClose((await inOnnxruntime(g, feeds)).get("out")!, expected, 1e-5, "out");
  });
});
