// Convolutions on WebGPU: which take the tiled implicit-matrix-product kernel (codegen/conv-gemm.ts) and which
// the per-thread kernel of four channels at four pixels (codegen/window.ts), the generated WGSL of one (a golden:
// UPDATE_GOLDEN=1 rewrites it; review the diff), and the numbers of shapes chosen to straddle the tiles, slices
// and pixel blocks (stride, padding, dilation, groups, 1-D to 3-D, odd sizes, batches over 1) against
// onnxruntime on the same graph, within 1e-3.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileWgsl } from "../../src/backends/wgsl/index.js";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { compileToGraph } from "../../src/driver.js";
import type { OpAttrs } from "../../src/compiler/ir/ir.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { at, random } from "../helpers/ir.js";
import { boundedWeights, loadGraph, runBoth, maxAbsDiff, onnxReference, TOLERANCE, tryGpu } from "./helpers.js";

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  attrs: OpAttrs["conv"];
  bias?: boolean;
  /** A relu after the convolution (fused as its epilogue). */
  relu?: boolean;
  tiled: boolean;
  /** The tile's width in pixels, where tiled (32, or 16 and 8 for few pixels). */
  width?: number;
}

const conv2 = (strides: number[], pads: number[], dilations: number[], groups = 1) => ({
  strides,
  pads,
  dilations,
  groups,
});

const CASES: ConvCase[] = [
  {
    name: "2-D 3x3 padded, odd plane, batch 2, 40 channels (a tile and a sliver), bias",
    x: [2, 16, 17, 19],
    w: [40, 16, 3, 3],
    attrs: conv2([1, 1], [1, 1, 1, 1], [1, 1]),
    bias: true,
    tiled: true,
    // 40 x 646 outputs: 64 x 16 tiles cover 64 x 656, 32 x 32 tiles 64 x 672.
    width: 16,
  },
  {
    name: "2-D stride 2, dilation 2, asymmetric pads",
    x: [1, 32, 33, 29],
    w: [48, 32, 3, 3],
    attrs: conv2([2, 2], [2, 1, 1, 2], [2, 2]),
    tiled: true,
  },
  {
    name: "2-D four groups of 16 channels, batch 3, relu epilogue",
    x: [3, 32, 13, 13],
    w: [64, 8, 3, 3],
    attrs: conv2([1, 1], [1, 1, 1, 1], [1, 1], 4),
    bias: true,
    relu: true,
    tiled: true,
  },
  {
    name: "2-D 4x4 stride 3 unpadded, ragged edge (no bounds check)",
    x: [2, 32, 40, 40],
    w: [32, 32, 4, 4],
    attrs: conv2([3, 3], [0, 0, 0, 0], [1, 1]),
    tiled: true,
  },
  {
    name: "2-D 3x3 over a 3x3 plane: fewer pixels than a tile, a deep reduction",
    x: [1, 256, 3, 3],
    w: [64, 256, 3, 3],
    attrs: conv2([1, 1], [1, 1, 1, 1], [1, 1]),
    tiled: true,
    width: 16,
  },
  {
    name: "2-D 3x3 over 2x2 planes, batch 2, 256 channels: 8-pixel tiles",
    x: [2, 64, 2, 2],
    w: [256, 64, 3, 3],
    attrs: conv2([1, 1], [1, 1, 1, 1], [1, 1]),
    bias: true,
    tiled: true,
    width: 8,
  },
  {
    name: "3-D 3x3x3 stride (1, 2, 2), batch 2, relu epilogue",
    x: [2, 8, 5, 9, 9],
    w: [24, 8, 3, 3, 3],
    attrs: conv2([1, 2, 2], [1, 1, 1, 1, 1, 1], [1, 1, 1]),
    relu: true,
    tiled: true,
  },
  {
    name: "3-D 1x1x1 stride 2 (a ResNet shortcut), batch 3",
    x: [3, 64, 4, 12, 12],
    w: [128, 64, 1, 1, 1],
    attrs: conv2([2, 2, 2], [0, 0, 0, 0, 0, 0], [1, 1, 1]),
    tiled: true,
    // 128 x 216 outputs: 128 x 8 tiles cover them exactly.
    width: 8,
  },
  {
    name: "1-D kernel 5 padded, batch 4",
    x: [4, 32, 64],
    w: [40, 32, 5],
    attrs: conv2([1], [2, 2], [1]),
    bias: true,
    tiled: true,
  },
  {
    name: "3-D depthwise (one channel per group: the per-thread kernel)",
    x: [1, 32, 4, 14, 14],
    w: [32, 1, 3, 3, 3],
    attrs: conv2([1, 1, 1], [1, 1, 1, 1, 1, 1], [1, 1, 1], 32),
    tiled: false,
  },
  {
    name: "3-D depthwise stride (1, 2, 2), batch 2 (IFDD's pooling), 7 pixels a row: a ragged pixel block",
    x: [2, 16, 2, 14, 14],
    w: [16, 1, 3, 3, 3],
    attrs: conv2([1, 2, 2], [1, 1, 1, 1, 1, 1], [1, 1, 1], 16),
    bias: true,
    tiled: false,
  },
  {
    name: "2-D depthwise dilation 2, asymmetric pads, relu epilogue",
    x: [1, 8, 11, 13],
    w: [8, 1, 3, 3],
    attrs: conv2([1, 1], [2, 1, 1, 2], [2, 2], 8),
    relu: true,
    tiled: false,
  },
  {
    name: "2-D grouped, two channels a group, 5x5 stride 3, rows of 3 pixels",
    x: [2, 6, 9, 9],
    w: [6, 2, 5, 5],
    attrs: conv2([3, 3], [2, 2, 1, 1], [1, 1], 3),
    tiled: false,
  },
  {
    name: "1-D grouped, eight channels a group (four per thread), unpadded, ragged",
    x: [1, 16, 23],
    w: [16, 8, 3],
    attrs: conv2([2], [0, 0], [1], 2),
    bias: true,
    tiled: false,
  },
  {
    name: "1-D kernel 15, dilation 2, padded (a long window: looped, one pixel a thread)",
    x: [2, 4, 40],
    w: [8, 4, 15],
    attrs: conv2([1], [7, 7], [2]),
    bias: true,
    tiled: false,
  },
  {
    name: "2-D small (under a million multiply-adds: the per-thread kernel)",
    x: [1, 4, 8, 8],
    w: [8, 4, 3, 3],
    attrs: conv2([1, 1], [1, 1, 1, 1], [1, 1]),
    tiled: false,
  },
];

/** All cases in one graph (their pipelines compile in one batch): case i reads `x<i>` and writes `y<i>`. */
function casesGraph(cases: readonly ConvCase[]) {
  const b = new GraphBuilder("convs");
  const inputs = new Map<string, HostTensor>();
  const params = new Map<string, HostTensor>();
  cases.forEach((c, i) => {
    const line = i + 1;
    const x = b.input(`x${i}`, "f32", c.x, at(line));
    inputs.set(`x${i}`, random("f32", c.x, 300 + i, -1, 1));
    const fanIn = c.w.slice(1).reduce((a, d) => a * d, 1);
    const bound = Math.sqrt(3 / fanIn);
    const param = (path: string, t: HostTensor) => {
      params.set(path, t);
      return b.param({ path, dtype: "f32", shape: t.shape, unused: false, span: at(line).span });
    };
    const operands = [x, param(`c${i}.weight`, random("f32", c.w, 400 + i, -bound, bound))];
    if (c.bias) operands.push(param(`c${i}.bias`, random("f32", [c.w[0]], 500 + i)));
    const y = b.op1("conv", c.attrs, operands, at(line, `c${i}`));
    b.output(`y${i}`, c.relu ? b.op1("relu", {}, [y], at(line, `c${i}`)) : y);
  });
  return { graph: b.graph, inputs, params };
}

describe("which convolutions are tiled implicit matrix products", () => {
  const { graph } = casesGraph(CASES);
  const { program, diagnostics } = compileWgsl(graph);
  it("compiles", () => expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]));

  it.each(CASES.map((c, i) => [c.name, i, c] as const))("%s", (_name, i, c) => {
    const kernel = program!.manifest.kernels.find((k) => k.scope === `c${i}`)!;
    expect(kernel.ops[0]).toBe("conv");
    const code = program!.shaders.get(kernel.shader)!;
    expect(code.includes("var<workgroup> tileX")).toBe(c.tiled);
    if (c.tiled) expect(code).toContain(`var<workgroup> tileX: array<f32, ${16 * (c.width ?? 32)}>;`);
  });

  it("generates the WGSL of the golden (2-D stride 2, dilation 2, asymmetric pads)", () => {
    const kernel = program!.manifest.kernels.find((k) => k.scope === "c1")!;
    const code = program!.shaders.get(kernel.shader)!;
    const golden = join(__dirname, "golden", "conv-gemm-2d.wgsl");
    if (process.env.UPDATE_GOLDEN) writeFileSync(golden, code);
    expect(existsSync(golden), `${golden} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
    expect(code).toBe(readFileSync(golden, "utf8"));
  });
});

const { gpu, reason } = await tryGpu();

describe.skipIf(!gpu)(`convolutions on WebGPU${reason ? ` (skipped: ${reason})` : ""}`, () => {
  const { graph, inputs, params } = casesGraph(CASES);
  const results = runBoth(gpu!, graph, inputs, params);
  afterAll(() => gpu?.release());

  it.each(CASES.map((c, i) => [c.name, i] as const))(
    `%s matches onnxruntime within ${TOLERANCE}`,
    async (_, i) => {
      const { got, expected } = await results;
      expect(maxAbsDiff(got[`y${i}`], expected.get(`y${i}`)!)).toBeLessThanOrEqual(TOLERANCE);
    },
    300_000,
  );

  const m3dfelCase = "models/m3dfel.net, 3 instances of 2 frames at 16x16, seeded weights";
  it(`M3DFEL's 3-D ResNet-18 (${m3dfelCase}) within ${TOLERANCE} of onnxruntime on every output and tap`, async () => {
    const file = "models/m3dfel.net";
    const overrides = { B: "1", num_classes: "11", num_frames: "6", instance_length: "2", crop_size: "16" };
    const front = compileToGraph(readFileSync(file, "utf8"), { file, overrides, target: "wgsl" });
    expect(front.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const graph = front.graph!;
    const weights = boundedWeights(graph, 600);
    const inputs = new Map([["video", random("f32", [1, 6, 3, 16, 16], 601, -2, 2)]]);
    const { model } = await loadGraph(gpu!, graph, { weights, debugOutputs: true });
    const got = await model.run(Object.fromEntries(inputs));
    model.destroy();
    const expected = await onnxReference(graph, inputs, { weights, debugOutputs: true });
    expect([...expected.keys()]).toEqual(expect.arrayContaining(["logits", "instances"]));
    for (const [name, want] of expected) expect(maxAbsDiff(got[name], want), name).toBeLessThanOrEqual(TOLERANCE);
  }, 600_000);
});
