// A row-wise op over a concat that a reader slices apart is computed per part (MViTv2's pooled q: the class token
// joined to the pooled tokens, normalised, and the tokens sliced back out; also a softmax over another axis and a
// unary elementwise op), and a slice that takes whole parts of a concat becomes those parts. Values kept (the
// reference interpreter before and after the pipeline).
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { sym } from "../../src/compiler/ir/dim.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { runPasses } from "../../src/compiler/ir/passes/index.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { at, expectClose, optimisedKeepingValues, random } from "../helpers/ir.js";
import { inOnnxruntime } from "../helpers/ort.js";

const B = sym("B");
const PASS = "row-wise ops taken per concatenated part";
const [HEADS, N, D] = [2, 12, 8];

interface Options {
  /** The norm's first normalised axis (default 3: the last; 2 normalises over tokens and channels). */
  normAxis?: number;
  /** Where the reader's slice starts and ends along the token axis (default 1 to N + 1: the tokens). */
  slice?: [number, number];
  /** The concat is also a result of the graph. */
  concatReadTwice?: boolean;
  /** The normalised result is also a result (a reader that needs every part). */
  normReadWhole?: boolean;
  /** The concat, norm and slice axes written counted from the end (-2, -1, -2). */
  axesFromEnd?: boolean;
}

/** cls [B, H, 1, D] and tokens [B, H, N, D] -> norm(concat) -> the tokens sliced out again, plus 1 (any reader). */
function pooledQuery(o: Options = {}): Graph {
  const b = new GraphBuilder("PooledQuery");
  const cls = b.input("cls", "f32", [B, HEADS, 1, D], at(1));
  const tokens = b.input("tokens", "f32", [B, HEADS, N, D], at(2));
  const tokenAxis = o.axesFromEnd ? -2 : 2;
  const joined = b.op1("concat", { axis: tokenAxis }, [cls, tokens], at(3));
  const axis = o.normAxis ?? 3;
  const affine = axis === 3 ? [D] : [N + 1, D];
  const gamma = b.constant(random("f32", affine, 3, 0.5, 1.5), at(4));
  const beta = b.constant(random("f32", affine, 4), at(4));
  const normAxis = o.axesFromEnd ? axis - 4 : axis;
  const normed = b.op1("layer_norm", { axis: normAxis, eps: 1e-6 }, [joined, gamma, beta], at(5));
  const [start, end] = o.slice ?? [1, N + 1];
  const sliced = b.op1("slice", { axis: tokenAxis, start, end, step: 1 }, [normed], at(6));
  b.output("out", b.op1("add", {}, [sliced, b.constant(random("f32", [], 5), at(7))], at(7)));
  if (o.concatReadTwice) b.output("joined", joined);
  if (o.normReadWhole) b.output("normed", normed);
  return b.graph;
}

const feeds = { cls: random("f32", [2, HEADS, 1, D], 10), tokens: random("f32", [2, HEADS, N, D], 11) };
const count = (g: Graph, op: string) => g.nodes.filter((n) => n.op === op).length;
/** The shapes the norms run over, as strings. */
const norms = (g: Graph) =>
  g.nodes
    .filter((n) => n.op === "layer_norm")
    .map((n) => n.inputs[0].shape.map((d) => (typeof d === "number" ? d : "B")).join(","));

describe("row-wise ops taken per concatenated part", () => {
  it("normalises the class token and the tokens apart; the slice of the tokens is their norm, no copy left", () => {
    const g = optimisedKeepingValues(pooledQuery(), feeds);
    expect(norms(g)).toEqual([`B,${HEADS},${N},${D}`]);
    expect(count(g, "slice") + count(g, "concat")).toBe(0);
  });

  it("reads axes counted from the end as the same axes", () => {
    const g = optimisedKeepingValues(pooledQuery({ axesFromEnd: true }), feeds);
    expect(norms(g)).toEqual([`B,${HEADS},${N},${D}`]);
    expect(count(g, "slice") + count(g, "concat")).toBe(0);
  });

  it("leaves the pipeline at a fixed point", () => {
    const g = pooledQuery({ normReadWhole: true });
    expect(runPasses(g).diagnostics).toEqual([]);
    const ops = g.nodes.map((n) => n.op);
    expect(runPasses(g).rounds).toBe(2);
    expect(g.nodes.map((n) => n.op)).toEqual(ops);
  });

  it("keeps the concat of the normed parts for a reader that needs them all", () => {
    const g = optimisedKeepingValues(pooledQuery({ normReadWhole: true }), feeds);
    expect(norms(g)).toEqual([`B,${HEADS},1,${D}`, `B,${HEADS},${N},${D}`]);
    expect([count(g, "slice"), count(g, "concat")]).toEqual([0, 1]);
  });

  it("the same graph without the pass normalises the concat and slices it", () => {
    const g = optimisedKeepingValues(pooledQuery(), feeds, [PASS]);
    expect(norms(g)).toEqual([`B,${HEADS},${N + 1},${D}`]);
    expect([count(g, "slice"), count(g, "concat")]).toEqual([1, 1]);
  });

  it.each([
    ["the norm reduces over the concat's axis", { normAxis: 2 }],
    ["the slice cuts into a part", { slice: [2, N + 1] }],
    ["the concat has another reader", { concatReadTwice: true }],
    ["the norm reduces over the concat's axis, counted from the end", { normAxis: 2, axesFromEnd: true }],
  ] as [string, Options][])("stays when %s", (_, o) => {
    const g = optimisedKeepingValues(pooledQuery(o), feeds);
    expect(count(g, "layer_norm")).toBe(1);
    expect(count(g, "slice")).toBe(1);
  });

  it.each([
    ["a softmax over the channels", "softmax", { axis: 3 }, 1],
    ["an exp", "exp", {}, 1],
    ["a softmax over the concat's own axis", "softmax", { axis: 2 }, 2],
    // Axes counted from the end name the same axes: -1 is the channels, -2 the concat's.
    ["a softmax over the channels counted from the end", "softmax", { axis: -1 }, 1],
    ["a softmax over the concat's own axis counted from the end", "softmax", { axis: -2 }, 2],
    ["a gelu with the tanh approximation (its attributes kept)", "gelu", { approximate: "tanh" }, 1],
    ["a relu", "relu", {}, 1],
  ] as const)("takes %s per part when it is row-wise across the concat", (_, op, attrs, opsLeft) => {
    const b = new GraphBuilder("RowWise");
    const cls = b.input("cls", "f32", [B, HEADS, 1, D], at(1));
    const tokens = b.input("tokens", "f32", [B, HEADS, N, D], at(2));
    const joined = b.op1("concat", { axis: 2 }, [cls, tokens], at(3));
    const y = b.op1(op, attrs as never, [joined], at(4));
    b.output("out", b.op1("slice", { axis: 2, start: 1, end: N + 1, step: 1 }, [y], at(5)));
    const g = optimisedKeepingValues(b.graph, feeds);
    // Per part, only the tokens' op is left (the class token's is dead); across the concat's axis, op and slice stay.
    expect(count(g, op) + count(g, "slice")).toBe(opsLeft);
    expect(count(g, "concat")).toBe(opsLeft - 1);
  });

  it("passes over a concat read by an op of another rank", () => {
    const b = new GraphBuilder("Reduced");
    const cls = b.input("cls", "f32", [B, HEADS, 1, D], at(1));
    const tokens = b.input("tokens", "f32", [B, HEADS, N, D], at(2));
    const joined = b.op1("concat", { axis: 2 }, [cls, tokens], at(3));
    const summed = b.op1("reduce", { kind: "sum", axes: [1, 2, 3], keepdims: false }, [joined], at(4));
    b.output("out", summed);
    expect(count(optimisedKeepingValues(b.graph, feeds), "reduce")).toBe(1);
  });

  it("a slice taking several whole parts of a concat becomes the concat of those parts", () => {
    const b = new GraphBuilder("Parts");
    const parts = [3, 4, 5].map((n, i) => b.input(`p${i}`, "f32", [B, n], at(1)));
    const joined = b.op1("concat", { axis: 1 }, parts, at(2));
    b.output("out", b.op1("slice", { axis: 1, start: 3, end: 12, step: 1 }, [joined], at(3)));
    const inputs = { p0: random("f32", [2, 3], 1), p1: random("f32", [2, 4], 2), p2: random("f32", [2, 5], 3) };
    const g = optimisedKeepingValues(b.graph, inputs);
    expect(count(g, "slice")).toBe(0);
    expect(g.nodes.find((n) => n.op === "concat")?.inputs.map((v) => v.shape[1])).toEqual([4, 5]);
  });

  /** p0 [B, 0], p1 [B, 3], p2 [B, 4] joined on axis 1, sliced along it. */
  function slicedParts(slice: { start: number; end: number; step: number }): Graph {
    const b = new GraphBuilder("Parts");
    const parts = [0, 3, 4].map((n, i) => b.input(`p${i}`, "f32", [B, n], at(1)));
    const joined = b.op1("concat", { axis: 1 }, parts, at(2));
    b.output("out", b.op1("slice", { axis: 1, ...slice }, [joined], at(3)));
    return b.graph;
  }
  const partFeeds = { p0: random("f32", [2, 0], 1), p1: random("f32", [2, 3], 2), p2: random("f32", [2, 4], 3) };

  it.each([
    ["the first part after an empty one", { start: 0, end: 3, step: 1 }, "p1"],
    ["the last part, up to the very end", { start: 3, end: 7, step: 1 }, "p2"],
  ])("a slice taking %s becomes that part", (_, slice, part) => {
    const g = optimisedKeepingValues(slicedParts(slice), partFeeds);
    expect([count(g, "slice"), count(g, "concat")]).toEqual([0, 0]);
    const source = g.outputs[0].value.producer;
    expect(source.op === "input" && source.attrs.name).toBe(part);
  });

  it("a slice stays when its step is not 1", () => {
    const g = optimisedKeepingValues(slicedParts({ start: 3, end: 7, step: 2 }), partFeeds);
    expect([count(g, "slice"), count(g, "concat")]).toEqual([1, 1]);
  });
});

describe("row-wise ops taken per concatenated part, in onnxruntime", () => {
  it("gives the interpreter's values", async () => {
    const expected = interpret(pooledQuery({ normReadWhole: true }), new Map(Object.entries(feeds)), new Map()).outputs;
    const g = optimisedKeepingValues(pooledQuery({ normReadWhole: true }), feeds);
    expect(norms(g)).toHaveLength(2);
    const actual = await inOnnxruntime(g, feeds);
    for (const name of ["out", "normed"]) expectClose(actual.get(name)!, expected.get(name)!, 1e-5, name);
  });
});
