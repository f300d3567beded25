// The layout rewrites for onnxruntime's CPU kernels: a depthwise 3-D conv becomes per-frame depthwise 2-D convs with
// time shifts, and a transpose moves above a reshape to merge with the transpose before it. Each shows the pattern
// rewritten (ops counted before and after) and every output unchanged (the reference interpreter, before and after).
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { dimMul, sym } from "../../src/compiler/ir/dim.js";
import type { Graph, Value } from "../../src/compiler/ir/ir.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { depthwiseConv3dAs2d, runPasses, transposeThroughReshape } from "../../src/compiler/ir/passes/index.js";
import { verifyGraph } from "../../src/compiler/ir/verify.js";
import { compileToGraph } from "../../src/driver.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { at, expectClose, random } from "../helpers/ir.js";

const B = sym("B");
const ranks = (g: Graph, op: string) => g.nodes.filter((n) => n.op === op).map((n) => n.inputs[0].shape.length);

/** Runs the whole pipeline; every output must keep its value. */
function optimised(g: Graph, inputs: Record<string, HostTensor>): Graph {
  const feeds = new Map(Object.entries(inputs));
  const before = interpret(g, feeds, new Map()).outputs;
  expect(runPasses(g, { verify: true }).diagnostics).toEqual([]);
  expect(verifyGraph(g)).toEqual([]);
  const after = interpret(g, feeds, new Map()).outputs;
  for (const [name, t] of before) expectClose(after.get(name)!, t, 1e-5, name);
  return g;
}

interface ConvCase {
  kernel: number[];
  strides: number[];
  pads: number[];
  bias?: boolean;
  groups?: number;
}

/** x [B, 8, 5, 6, 6] through one 3-D conv with 8 output channels. */
function conv3d(c: ConvCase): { graph: Graph; inputs: Record<string, HostTensor> } {
  const b = new GraphBuilder("Pool");
  const channels = 8;
  const groups = c.groups ?? channels;
  const x = b.input("x", "f32", [B, channels, 5, 6, 6], at(1));
  const w = b.constant(random("f32", [channels, channels / groups, ...c.kernel], 2), at(2));
  const ins: Value[] = [x, w];
  if (c.bias) ins.push(b.constant(random("f32", [channels], 3), at(3)));
  const attrs = { strides: c.strides, pads: c.pads, dilations: [1, 1, 1], groups };
  b.output("y", b.op1("conv", attrs, ins, at(4, "pool")));
  return { graph: b.graph, inputs: { x: random("f32", [2, channels, 5, 6, 6], 1) } };
}

describe("depthwise 3-D conv as 2-D convs", () => {
  it.each([
    [
      "MViT's pooling (3x3x3, stride 1x2x2, padding 1)",
      { kernel: [3, 3, 3], strides: [1, 2, 2], pads: [1, 1, 1, 1, 1, 1] },
    ],
    ["with a bias and stride 1", { kernel: [3, 3, 3], strides: [1, 1, 1], pads: [1, 1, 1, 1, 1, 1], bias: true }],
    ["a bias no tap covers alone", { kernel: [2, 1, 1], strides: [1, 1, 1], pads: [1, 0, 0, 1, 0, 0], bias: true }],
    ["an even temporal kernel, uneven padding", { kernel: [2, 3, 1], strides: [1, 3, 1], pads: [0, 1, 0, 1, 0, 0] }],
    ["no temporal padding", { kernel: [3, 1, 1], strides: [1, 1, 1], pads: [0, 0, 0, 0, 0, 0], bias: true }],
  ] as const)("%s: one 2-D conv per temporal tap, same values", (_name, c) => {
    const { graph, inputs } = conv3d({ ...c, kernel: [...c.kernel], strides: [...c.strides], pads: [...c.pads] });
    expect(ranks(graph, "conv")).toEqual([5]);
    optimised(graph, inputs);
    expect(ranks(graph, "conv")).toEqual(Array(c.kernel[0]).fill(4));
  });

  it("leaves grouped (not depthwise) and temporally strided convs alone", () => {
    const grouped = conv3d({ kernel: [3, 3, 3], strides: [1, 1, 1], pads: [1, 1, 1, 1, 1, 1], groups: 2 });
    const strided = conv3d({ kernel: [3, 3, 3], strides: [2, 1, 1], pads: [1, 1, 1, 1, 1, 1] });
    expect(depthwiseConv3dAs2d(grouped.graph)).toBe(false);
    expect(depthwiseConv3dAs2d(strided.graph)).toBe(false);
  });
});

describe("transpose through reshape", () => {
  /** Tokens [B, heads, t, h, w, c] -> frames [(B heads), c, t, h, w] -> [(B heads), t, c, h, w]. */
  function tokensToFrames(last: number[]) {
    const b = new GraphBuilder("Frames");
    const x = b.input("x", "f32", [B, 2, 3, 4, 5, 6], at(1));
    const channelsFirst = b.op1("transpose", { perm: [0, 1, 5, 2, 3, 4] }, [x], at(2));
    const merged = b.op1("reshape", { shape: [dimMul(B, 2), 6, 3, 4, 5] }, [channelsFirst], at(3));
    b.output("y", b.op1("transpose", { perm: last }, [merged], at(4)));
    return { graph: b.graph, inputs: { x: random("f32", [2, 2, 3, 4, 5, 6], 1) } };
  }

  it("merges the transposes on both sides of a reshape that only merges axes", () => {
    const { graph, inputs } = tokensToFrames([0, 2, 1, 3, 4]);
    expect(ranks(graph, "transpose")).toEqual([6, 5]);
    optimised(graph, inputs);
    expect(ranks(graph, "transpose")).toEqual([6]);
    expect(graph.nodes.find((n) => n.op === "transpose")!.attrs).toEqual({ perm: [0, 1, 2, 5, 3, 4] });
  });

  it("leaves a reshape that mixes axes alone", () => {
    const b = new GraphBuilder("Split");
    const x = b.input("x", "f32", [2, 3, 4], at(1));
    const t = b.op1("transpose", { perm: [0, 2, 1] }, [x], at(2));
    const mixed = b.op1("reshape", { shape: [4, 6] }, [t], at(3)); // [2, 4, 3] -> [4, 6]: no aligned groups
    b.output("y", b.op1("transpose", { perm: [1, 0] }, [mixed], at(4)));
    expect(transposeThroughReshape(b.graph)).toBe(false);
  });
});

describe("the onnxruntime rewrites and the target", () => {
  const source = `model Pool()(x: f32[B, 8, 4, 6, 6]) -> (y: f32[B, 8, 4, 3, 3]) {
  param w: f32[8, 1, 3, 3, 3]
  return conv(x, w, stride = [1, 2, 2], padding = [1, 1, 1], groups = 8)
}
`;
  const convRanks = (target?: "onnx" | "wgsl") =>
    ranks(compileToGraph(source, { file: "pool.net", target }).graph!, "conv");

  it("ONNX gets per-frame 2-D convs; a graph for WGSL keeps its one 3-D conv", () => {
    expect(convRanks()).toEqual([4, 4, 4]);
    expect(convRanks("onnx")).toEqual([4, 4, 4]);
    expect(convRanks("wgsl")).toEqual([5]);
  });
});
