// The rewrites that remove copies from onnxruntime's graph: a depthwise 3-D conv as one grouped 2-D conv with the
// frames in the channels (a banded filter), and every transpose in its smallest form (unit axes dropped, neighbouring
// axes merged). Each shows the pattern rewritten and every output unchanged (the reference interpreter, before and
// after the whole pipeline).
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { sym } from "../../src/compiler/ir/dim.js";
import type { Graph, Value } from "../../src/compiler/ir/ir.js";
import { canonicalTransposes, depthwiseConv3dBanded, SPEED_REWRITES } from "../../src/compiler/ir/passes/index.js";
import { compileToGraph } from "../../src/driver.js";
import { at, random, optimisedKeepingValues } from "../helpers/ir.js";

const B = sym("B");
const BANDED = "depthwise 3-D conv as a banded 2-D conv";
const SMALLEST = "transposes in their smallest form";

const optimised = optimisedKeepingValues;

const convs = (g: Graph) =>
  g.nodes.flatMap((n) => (n.op === "conv" ? [{ rank: n.inputs[0].shape.length, groups: n.attrs.groups }] : []));

describe("depthwise 3-D conv as a banded 2-D conv", () => {
  interface Case {
    channels: number;
    frames: number;
    kernel: number[];
    strides: number[];
    pads: number[];
    bias?: boolean;
  }
  /** x [B, C, T, 6, 6] through one depthwise 3-D conv. */
  function pool(c: Case) {
    const b = new GraphBuilder("Pool");
    const x = b.input("x", "f32", [B, c.channels, c.frames, 6, 6], at(1));
    const ins: Value[] = [x, b.constant(random("f32", [c.channels, 1, ...c.kernel], 2), at(2))];
    if (c.bias) ins.push(b.constant(random("f32", [c.channels], 3), at(3)));
    const attrs = { strides: c.strides, pads: c.pads, dilations: [1, 1, 1], groups: c.channels };
    b.output("y", b.op1("conv", attrs, ins, at(4, "pool")));
    return { graph: b.graph, inputs: { x: random("f32", [2, c.channels, c.frames, 6, 6], 1) } };
  }

  it.each([
    [
      "MViT's pooling (8 frames, 3x3x3, stride 1x2x2)",
      { kernel: [3, 3, 3], strides: [1, 2, 2], pads: [1, 1, 1, 1, 1, 1] },
    ],
    ["with a bias, stride 1", { kernel: [3, 3, 3], strides: [1, 1, 1], pads: [1, 1, 1, 1, 1, 1], bias: true }],
    ["an even temporal kernel, uneven padding", { kernel: [2, 3, 1], strides: [1, 3, 1], pads: [0, 1, 0, 1, 1, 0] }],
  ] as const)("%s: one grouped 2-D conv, 2 channels x 8 frames per group, same values", (_name, c) => {
    const { graph, inputs } = pool({
      channels: 4,
      frames: 8,
      ...c,
      kernel: [...c.kernel],
      strides: [...c.strides],
      pads: [...c.pads],
    });
    optimised(graph, inputs);
    expect(convs(graph)).toEqual([{ rank: 4, groups: 2 }]);
  });

  it("16 frames take one channel per group", () => {
    const { graph, inputs } = pool({
      channels: 3,
      frames: 16,
      kernel: [3, 3, 3],
      strides: [1, 1, 1],
      pads: [1, 1, 1, 1, 1, 1],
    });
    optimised(graph, inputs);
    expect(convs(graph)).toEqual([{ rank: 4, groups: 3 }]);
  });

  it("leaves clips without whole 16-channel groups, temporal strides and grouped convs to the tap form", () => {
    const base = { channels: 4, kernel: [3, 3, 3], pads: [1, 1, 1, 1, 1, 1] };
    expect(depthwiseConv3dBanded(pool({ ...base, frames: 6, strides: [1, 1, 1] }).graph)).toBe(false);
    expect(depthwiseConv3dBanded(pool({ ...base, frames: 4, strides: [1, 1, 1] }).graph)).toBe(false);
    expect(depthwiseConv3dBanded(pool({ ...base, channels: 3, frames: 8, strides: [1, 1, 1] }).graph)).toBe(false);
    expect(depthwiseConv3dBanded(pool({ ...base, frames: 8, strides: [2, 1, 1] }).graph)).toBe(false);
    const grouped = pool({ ...base, frames: 8, strides: [1, 1, 1] });
    for (const n of grouped.graph.nodes) if (n.op === "conv") n.attrs.groups = 2;
    expect(depthwiseConv3dBanded(grouped.graph)).toBe(false);
    // Left alone, the per-tap rewrite makes one depthwise 2-D conv per temporal tap.
    const taps = pool({ ...base, frames: 8, strides: [1, 1, 1] });
    optimised(taps.graph, taps.inputs, [BANDED]);
    expect(convs(taps.graph)).toEqual(Array(3).fill({ rank: 4, groups: 4 }));
  });
});

describe("transposes in their smallest form", () => {
  const transposes = (g: Graph) =>
    g.nodes.flatMap((n) =>
      n.op === "transpose" ? [`${n.attrs.perm.join(",")} of [${n.inputs[0].shape.length}]`] : [],
    );
  function chain(shape: (number | typeof B)[], perms: number[][], reshapes: (number | typeof B)[][] = []) {
    const b = new GraphBuilder("Layout");
    let v = b.input("x", "f32", shape, at(1));
    perms.forEach((perm, i) => {
      v = b.op1("transpose", { perm }, [v], at(2 + i));
      if (reshapes[i]) v = b.op1("reshape", { shape: reshapes[i] }, [v], at(2 + i));
    });
    b.output("y", v);
    const concrete = shape.map((d) => (typeof d === "number" ? d : 2));
    return { graph: b.graph, inputs: { x: random("f32", concrete, 1) } };
  }

  it("drops a unit axis between the two it swaps: [B, 5, 1, 4] -> [B, 4, 1, 5] is a 3-D transpose", () => {
    const { graph, inputs } = chain([B, 5, 1, 4], [[0, 3, 2, 1]]);
    optimised(graph, inputs);
    expect(transposes(graph)).toEqual(["0,2,1 of [3]"]);
  });

  it("merges axes that stay neighbours, and a transpose that only moves unit axes is a reshape", () => {
    const merged = chain([B, 2, 3, 4, 5], [[0, 3, 4, 1, 2]]);
    optimised(merged.graph, merged.inputs);
    expect(transposes(merged.graph)).toEqual(["0,2,1 of [3]"]);
    const unit = chain([B, 6, 1, 4], [[0, 2, 1, 3]]);
    optimised(unit.graph, unit.inputs);
    expect(transposes(unit.graph)).toEqual([]);
  });

  it("one head: frames -> channels first -> heads -> tokens is no transpose (the pooled q of MViT's block 0)", () => {
    // [B, T, H, W, C] -> [B, C, T, H, W] -> [B, 1, C, T*H*W] -> [B, 1, T*H*W, C]
    const { graph, inputs } = chain(
      [B, 2, 3, 3, 4],
      [
        [0, 4, 1, 2, 3],
        [0, 1, 3, 2],
      ],
      [[B, 1, 4, 18]],
    );
    optimised(graph, inputs, []);
    expect(transposes(graph)).toEqual([]);
    const without = chain(
      [B, 2, 3, 3, 4],
      [
        [0, 4, 1, 2, 3],
        [0, 1, 3, 2],
      ],
      [[B, 1, 4, 18]],
    );
    optimised(without.graph, without.inputs, [SMALLEST]);
    expect(transposes(without.graph)).toEqual(["0,4,1,2,3 of [5]", "0,1,3,2 of [4]"]);
  });

  it("keeps a 4-D NHWC -> NCHW transpose that only convs read (onnxruntime folds it into its reorder)", () => {
    const b = new GraphBuilder("Nchw");
    const x = b.input("x", "f32", [B, 5, 1, 8], at(1));
    const images = b.op1("transpose", { perm: [0, 3, 1, 2] }, [x], at(2));
    const w = b.constant(random("f32", [8, 1, 3, 1], 2), at(3));
    const attrs = { strides: [1, 1], pads: [1, 0, 1, 0], dilations: [1, 1], groups: 8 };
    b.output("y", b.op1("conv", attrs, [images, w], at(4)));
    expect(canonicalTransposes(b.graph)).toBe(false);
  });

  it("both are speed rewrites (measured on and off by bench/ifdd.ts, left out for WGSL)", () => {
    expect(SPEED_REWRITES).toEqual(expect.arrayContaining([BANDED, SMALLEST]));
    const source = `model Pool()(x: f32[B, 288, 4]) -> (y: f32[B, 4, 8, 3, 3]) {
  param w: f32[4, 1, 3, 3, 3]
  let frames = rearrange(x, "n (t h w) c -> n c t h w", t = 8, h = 6)
  return conv(frames, w, stride = [1, 2, 2], padding = [1, 1, 1], groups = 4)
}
`;
    const graphFor = (target: "onnx" | "wgsl") => compileToGraph(source, { file: "pool.net", target }).graph!;
    expect(convs(graphFor("onnx"))).toEqual([{ rank: 4, groups: 2 }]);
    expect(transposes(graphFor("onnx"))).toEqual(["0,2,1 of [3]"]);
    expect(convs(graphFor("wgsl"))).toEqual([{ rank: 5, groups: 4 }]);
    expect(transposes(graphFor("wgsl"))).toEqual(["0,4,1,2,3 of [5]"]);
  });
});
