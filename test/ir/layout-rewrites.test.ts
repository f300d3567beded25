// The layout rewrites for onnxruntime's CPU kernels: a depthwise 3-D conv becomes per-frame depthwise 2-D convs with
// time shifts, and a transpose moves above a reshape to merge with the transpose before it. Each shows the pattern
// rewritten (ops counted before and after) and every output unchanged (the reference interpreter, before and after).
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { dimMul, dimProduct, dimSubstitute, sym } from "../../src/compiler/ir/dim.js";
import type { Graph, Node, Value } from "../../src/compiler/ir/ir.js";
import {
  depthwiseBatchIntoChannels,
  depthwiseConv3dAs2d,
  runPasses,
  sliceThroughTranspose,
  transposeThroughReshape,
} from "../../src/compiler/ir/passes/index.js";
import { compileToGraph } from "../../src/driver.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { at, expectClose, optimisedKeepingValues, random } from "../helpers/ir.js";

const B = sym("B");
const ranks = (g: Graph, op: string) => g.nodes.filter((n) => n.op === op).map((n) => n.inputs[0].shape.length);

const optimised = optimisedKeepingValues;

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
    // One transpose, [0, 1, 2, 5, 3, 4] of the 6-D tokens, written in its smallest form: [(B 2 3), (4 5), 6].
    expect(ranks(graph, "transpose")).toEqual([3]);
    expect(graph.nodes.find((n) => n.op === "transpose")!.attrs).toEqual({ perm: [0, 2, 1] });
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

describe("MViT's per-head pooling: heads into the channels, slices above the head split", () => {
  const [T, S, HEADS, D] = [2, 4, 2, 16]; // frames, grid side, heads, head width
  const N = 1 + T * S * S;
  /** Tokens [B, 1 + T*S*S, heads * d] -> heads -> class token kept, the rest pooled by a depthwise 3-D conv. */
  function headPool() {
    const b = new GraphBuilder("HeadPool");
    const x = b.input("x", "f32", [B, N, HEADS * D], at(1));
    const op = (name: Parameters<GraphBuilder["op1"]>[0], attrs: object, ins: Value[]) =>
      b.op1(name, attrs as never, ins, at(2, "pool"));
    const heads = op("transpose", { perm: [0, 2, 1, 3] }, [op("reshape", { shape: [B, N, HEADS, D] }, [x])]);
    const cls = op("slice", { axis: 2, start: 0, end: 1, step: 1 }, [heads]);
    const rest = op("slice", { axis: 2, start: 1, end: N, step: 1 }, [heads]);
    const grid = op("reshape", { shape: [dimMul(B, HEADS), D, T, S, S] }, [
      op("transpose", { perm: [0, 1, 5, 2, 3, 4] }, [op("reshape", { shape: [B, HEADS, T, S, S, D] }, [rest])]),
    ]);
    const w = b.constant(random("f32", [D, 1, 3, 3, 3], 2), at(3));
    const attrs = { strides: [1, 2, 2], pads: [1, 1, 1, 1, 1, 1], dilations: [1, 1, 1], groups: D };
    const pooled = op("conv", attrs, [grid, w]);
    const L = T * (S / 2) * (S / 2);
    const tokens = op("transpose", { perm: [0, 1, 3, 2] }, [op("reshape", { shape: [B, HEADS, D, L] }, [pooled])]);
    b.output("y", op("concat", { axis: 2 }, [cls, tokens]));
    return { graph: b.graph, inputs: { x: random("f32", [2, N, HEADS * D], 1) } };
  }
  /** The permutations of the transposes that move every unpooled token (B = 1). */
  const one = new Map([["B", 1]]);
  const fullTransposes = (g: Graph) =>
    g.nodes.flatMap((n) =>
      n.op === "transpose" && (dimSubstitute(dimProduct(n.inputs[0].shape), one) as number) >= T * S * S * HEADS * D
        ? [(n as Node<"transpose">).attrs.perm.join(",")]
        : [],
    );

  it("moves all tokens once, in the NHWC -> NCHW transpose the convs read; the heads split after pooling", () => {
    const { graph, inputs } = headPool();
    expect(fullTransposes(graph)).toEqual(["0,2,1,3", "0,1,5,2,3,4"]);
    optimised(graph, inputs);
    expect(fullTransposes(graph)).toEqual(["0,3,1,2"]);
    // One depthwise 2-D conv per temporal tap, over both heads' channels.
    expect(graph.nodes.filter((n) => n.op === "conv").map((n) => [n.inputs[0].shape[1], n.attrs.groups])).toEqual(
      Array(3).fill([HEADS * D, HEADS * D]),
    );
  });

  it("without the two rewrites the head split moves every token a second time", () => {
    const { graph } = headPool();
    const skip = ["depthwise conv: batch into channels", "slice through transpose"];
    expect(runPasses(graph, { skip }).diagnostics).toEqual([]);
    expect(fullTransposes(graph)).toEqual(["0,2,1,3", "0,3,1,2"]);
  });

  it("folds only a static factor of a 3-D conv's batch, and only for depthwise convs", () => {
    const plain = conv3d({ kernel: [3, 3, 3], strides: [1, 1, 1], pads: [1, 1, 1, 1, 1, 1] }); // batch B
    const grouped = headPool();
    for (const n of grouped.graph.nodes) if (n.op === "conv") n.attrs.groups = D / 2; // a grouped conv, not depthwise
    expect(depthwiseBatchIntoChannels(plain.graph)).toBe(false);
    expect(depthwiseBatchIntoChannels(grouped.graph)).toBe(false);
    expect(depthwiseBatchIntoChannels(headPool().graph)).toBe(true);
  });

  it("slices move above a transpose only when every reader of the transpose is a slice", () => {
    const b = new GraphBuilder("Slices");
    const x = b.input("x", "f32", [2, 3, 4], at(1));
    const t = b.op1("transpose", { perm: [2, 0, 1] }, [x], at(2));
    b.output("a", b.op1("slice", { axis: 0, start: 1, end: 4, step: 1 }, [t], at(3)));
    b.output("t", t);
    expect(sliceThroughTranspose(b.graph)).toBe(false);
    const { graph, inputs } = headPool();
    expect(sliceThroughTranspose(graph)).toBe(true);
    expect(graph.nodes.filter((n) => n.op === "slice").map((n) => n.inputs[0].producer.op)).toEqual([
      "reshape",
      "reshape",
    ]);
    optimised(graph, inputs);
  });

  it("reads a slice's axis counted from the end as the transposed axis it is", () => {
    const b = new GraphBuilder("NegativeAxis");
    const x = b.input("x", "f32", [2, 3, 4], at(1));
    const t = b.op1("transpose", { perm: [2, 0, 1] }, [x], at(2));
    b.output("a", b.op1("slice", { axis: -1, start: 1, end: 3, step: 1 }, [t], at(3)));
    const inputs = { x: random("f32", [2, 3, 4], 5) };
    const before = interpret(b.graph, new Map(Object.entries(inputs)), new Map()).outputs.get("a")!;
    expect(sliceThroughTranspose(b.graph)).toBe(true);
    // The transposed axis -1 is x's axis 1 (3 long): the slice now reads x there.
    const slice = b.graph.nodes.find((n) => n.op === "slice")!;
    expect([slice.inputs[0].producer.op, slice.attrs]).toEqual(["input", { axis: 1, start: 1, end: 3, step: 1 }]);
    expectClose(interpret(b.graph, new Map(Object.entries(inputs)), new Map()).outputs.get("a")!, before, 0, "a");
  });
});

describe("transpose through reshape, onnxruntime's layouts", () => {
  it("splits an axis before the inner transpose when the outer one separates its parts", () => {
    // [B, L, H*C] -> [B, H*C, L] -> [B, H, C, L] -> [B, H, L, C]: one transpose of [B, L, H, C].
    const b = new GraphBuilder("Merge");
    const x = b.input("x", "f32", [B, 5, 6], at(1));
    const channelsFirst = b.op1("transpose", { perm: [0, 2, 1] }, [x], at(2));
    const split = b.op1("reshape", { shape: [B, 2, 3, 5] }, [channelsFirst], at(3));
    b.output("y", b.op1("transpose", { perm: [0, 1, 3, 2] }, [split], at(4)));
    const g = optimised(b.graph, { x: random("f32", [2, 5, 6], 1) });
    expect(g.nodes.filter((n) => n.op === "transpose").map((n) => [n.inputs[0].shape.length, n.attrs.perm])).toEqual([
      [4, [0, 2, 1, 3]],
    ]);
  });

  it("keeps a 4-D NHWC -> NCHW transpose that only convs read (onnxruntime reorders it with the conv input)", () => {
    const b = new GraphBuilder("Images");
    const x = b.input("x", "f32", [B, 16, 2, 4, 4], at(1)); // [B, C, T, H, W]
    const channelsLast = b.op1("transpose", { perm: [0, 2, 3, 4, 1] }, [x], at(2));
    const frames = b.op1("reshape", { shape: [dimMul(B, 2), 4, 4, 16] }, [channelsLast], at(3));
    const images = b.op1("transpose", { perm: [0, 3, 1, 2] }, [frames], at(5));
    const w = b.constant(random("f32", [16, 1, 3, 3], 2), at(6));
    const attrs = { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], groups: 16 };
    b.output("y", b.op1("conv", attrs, [images, w], at(7)));
    const g = optimised(b.graph, { x: random("f32", [2, 16, 2, 4, 4], 1) });
    // Merged through the reshape it would be one 5-D transpose [0, 2, 1, 3, 4] that onnxruntime copies. The first
    // one, [0, 2, 3, 4, 1] of [B, C, T, H, W], is written in its smallest form: [B, C, (T H W)] -> [B, (T H W), C].
    expect(g.nodes.filter((n) => n.op === "transpose").map((n) => n.attrs.perm)).toEqual([
      [0, 2, 1],
      [0, 3, 1, 2],
    ]);
  });
});
