// Rows strided windows skip, never computed: an MViT-like k/v pool (a channels-first projection of the tokens,
// reshaped to [B, C*T, H, W], then a grouped conv whose stride is at least its kernel) reads only the rows its
// windows cover, so the projection runs on those tokens only; every output keeps its value (the reference
// interpreter, before and after the whole pipeline, and onnxruntime for one pooled graph). The kept counts are
// counted here from the geometry (the set of rows some window reads), not taken from the pass.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { dimToString, sym } from "../../src/compiler/ir/dim.js";
import type { Graph, OpName, OpNode, Value } from "../../src/compiler/ir/ir.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { runPasses } from "../../src/compiler/ir/passes/index.js";
import { emitOnnx } from "../../src/backends/onnx/emit.js";
import { runOnnx } from "../../src/backends/onnx/run.js";
import { at, expectClose, optimisedKeepingValues, products, random, tensor } from "../helpers/ir.js";

const B = sym("B");
const PASS = "rows strided windows skip, never computed";
/** Input channels of the tokens, channels of the projection. */
const [K, C] = [3, 4];

const nodesOf = <K extends OpName>(g: Graph, op: K) => g.nodes.filter((n) => n.op === op) as OpNode<K>[];
const shapeOf = (v: Value) => v.shape.map(dimToString).join(", ");

/** Rows of an axis of `size` some window reads (dilation 1), counted as a set. */
function rowsRead(size: number, kernel: number, stride: number, padBegin: number, padEnd: number): number {
  const out = Math.floor((size + padBegin + padEnd - kernel) / stride) + 1;
  const rows = new Set<number>();
  for (let o = 0; o < out; o++)
    for (let j = 0; j < kernel; j++) {
      const r = o * stride - padBegin + j;
      if (r >= 0 && r < size) rows.add(r);
    }
  return rows.size;
}

interface Pool {
  /** Spatial sizes of the conv input. */
  sizes: number[];
  /** Token groups folded into the channels (MViT's time). */
  lead?: number;
  kernel?: number[];
  strides: number[];
  /** Begin pads then end pads (ONNX order); 1 everywhere unless given. */
  pads?: number[];
  dilations?: number[];
  /** Projection channels and the reshape's channel axis, when they differ from the usual split. */
  channels?: number;
  reshapeTo?: number[];
}

const tokensOf = (p: Pool) => (p.lead ?? 1) * p.sizes.reduce((n, s) => n * s, 1);

/** x [B, N, K] -> W^T @ x^T + b[C, 1] [B, C, N] (channels-first) -> the conv input, returns the projection. */
function projection(b: GraphBuilder, x: Value, tokens: number, seed: number, channels = C) {
  const xt = b.op1("transpose", { perm: [0, 2, 1] }, [x], at(3));
  const w = b.constant(random("f32", [channels, K], seed), at(2));
  const y = b.op1("matmul", {}, [w, xt], at(4, "proj"));
  const bias = b.constant(random("f32", [channels, 1], seed + 1), at(2));
  const out = b.op1("add", {}, [y, bias], at(5, "proj"));
  expect(shapeOf(out)).toBe(`B, ${channels}, ${tokens}`);
  return out;
}

/** reshape(v) to [B, C*L, S..] and the pooling conv (depthwise over C*L), as MViT's k and v pools. */
function pool(b: GraphBuilder, v: Value, p: Pool, seed: number) {
  const d = p.sizes.length;
  const inChannels = p.reshapeTo?.[0] ?? (p.channels ?? C) * (p.lead ?? 1);
  const spatial = p.reshapeTo?.slice(1) ?? p.sizes;
  const input = b.op1("reshape", { shape: [B, inChannels, ...spatial] }, [v], at(6, "pool"));
  const kernel = p.kernel ?? Array(d).fill(3);
  const w = b.constant(random("f32", [inChannels, 1, ...kernel], seed), at(2));
  const bias = b.constant(random("f32", [inChannels], seed + 1), at(2));
  const attrs = {
    strides: p.strides,
    pads: p.pads ?? Array(2 * d).fill(1),
    dilations: p.dilations ?? Array(d).fill(1),
    groups: inChannels,
  };
  return b.op1("conv", attrs, [input, w, bias], at(7, "pool"));
}

/** One pooled projection of the tokens x [B, N, K]. */
function pooled(p: Pool, o: { alsoResult?: boolean; alsoRead?: boolean } = {}) {
  const b = new GraphBuilder("Pooled");
  const x = b.input("x", "f32", [B, tokensOf(p), K], at(1));
  const v = projection(b, x, tokensOf(p), 2, p.channels);
  b.output("pooled", pool(b, v, p, 4));
  if (o.alsoResult) b.output("v", v);
  if (o.alsoRead) b.output("exp_v", b.op1("exp", {}, [v], at(8)));
  return b.graph;
}

const inputFor = (g: Graph) => random("f32", [2, g.inputs[0].value.shape[1] as number, K], 1);
const optimised = (g: Graph, skip: string[] = []) => optimisedKeepingValues(g, { x: inputFor(g) }, skip);

/** Tokens kept for a pool: the lead groups times the rows read on every axis. */
function keptTokens(p: Pool): number {
  const d = p.sizes.length;
  const kernel = p.kernel ?? Array(d).fill(3);
  const pads = p.pads ?? Array(2 * d).fill(1);
  return p.sizes.reduce((n, s, i) => n * rowsRead(s, kernel[i], p.strides[i], pads[i], pads[d + i]), p.lead ?? 1);
}

const product = (tokens: number, channels = C) => `[${channels}, ${K}] @ [B, ${K}, ${tokens}]`;

describe("rows strided windows skip, never computed: MViT-like k/v pools", () => {
  it.each<[string, Pool]>([
    ["3x3 stride 4, 16x16, 2 frames", { sizes: [16, 16], lead: 2, strides: [4, 4] }],
    ["3x3 stride 8, 16x16, 2 frames", { sizes: [16, 16], lead: 2, strides: [8, 8] }],
    ["3x3 stride 3 = kernel, 6x6 (the last row is read by no window)", { sizes: [6, 6], strides: [3, 3] }],
    ["anisotropic strides [4, 1], 12x5", { sizes: [12, 5], lead: 2, strides: [4, 1] }],
  ])("%s: the projection runs on the rows the windows read", (_, p) => {
    const kept = keptTokens(p);
    expect(kept).toBeLessThanOrEqual(0.75 * tokensOf(p));
    const g = optimised(pooled(p));
    expect(products(g)).toEqual([product(kept)]);
    // The tokens are gathered once, before the projection (its input x, transposed after).
    const gathers = nodesOf(g, "gather");
    expect(gathers.map((n) => [n.inputs[0] === g.inputs[0].value, n.attrs.axis])).toEqual([[true, 1]]);
  });

  it.each<[string, Pool]>([
    ["stride 4", { sizes: [16, 16], lead: 2, strides: [4, 4] }],
    ["stride 8", { sizes: [16, 16], lead: 2, strides: [8, 8] }],
  ])("without the pass (%s) the whole product stays", (_, p) => {
    const g = optimised(pooled(p), [PASS]);
    expect(products(g)).toEqual([product(tokensOf(p))]);
    expect(nodesOf(g, "gather")).toEqual([]);
  });

  it("the whole pipeline reaches its fixed point (no pass moves the gather back)", () => {
    const g = pooled({ sizes: [16, 16], lead: 2, strides: [8, 8] });
    const { diagnostics, rounds } = runPasses(g);
    expect(diagnostics).toEqual([]);
    expect(rounds).toBeLessThan(10);
  });

  it("k and v pooled alike share one gather of the tokens; pools of two geometries gather twice", () => {
    for (const [strides, gathers] of [
      [[8, 8], 1],
      [[4, 4], 2],
    ] as const) {
      const b = new GraphBuilder("KV");
      const p: Pool = { sizes: [16, 16], lead: 2, strides: [8, 8] };
      const x = b.input("x", "f32", [B, tokensOf(p), K], at(1));
      b.output("k", pool(b, projection(b, x, tokensOf(p), 2), p, 4));
      b.output("v", pool(b, projection(b, x, tokensOf(p), 6), { ...p, strides: [...strides] }, 8));
      const g = optimised(b.graph);
      expect(nodesOf(g, "gather")).toHaveLength(gathers);
      expect(products(g).sort()).toEqual(
        [product(keptTokens(p)), product(keptTokens({ ...p, strides: [...strides] }))].sort(),
      );
    }
  });
});

describe("rows strided windows skip, never computed: where it stays", () => {
  it.each<[string, Pool]>([
    ["stride < kernel on every axis", { sizes: [8, 8], lead: 2, strides: [2, 2] }],
    ["dilation 2", { sizes: [16, 16], strides: [8, 8], dilations: [2, 2] }],
    ["a kept share over 75% (3x3 stride 3 on 9x9: 8 of 9 rows)", { sizes: [9, 9], strides: [3, 3] }],
    [
      "a reshape whose spatial axes take channels, not tokens ([B, 8, 9] -> [B, 2, 6, 6])",
      { sizes: [3, 3], channels: 8, reshapeTo: [2, 6, 6], strides: [4, 4] },
    ],
  ])("%s", (_, p) => {
    const g = optimised(pooled(p));
    expect(products(g)).toEqual([product(tokensOf(p), p.channels)]);
    expect(nodesOf(g, "gather")).toEqual([]);
  });

  it("a kept share of exactly 75% applies (3 of 4 rows on one axis)", () => {
    const p: Pool = { sizes: [4, 5], kernel: [3, 1], strides: [4, 1], pads: [0, 0, 0, 0] };
    expect(keptTokens(p)).toBe(15);
    expect(products(optimised(pooled(p)))).toEqual([product(15)]);
  });

  it.each([
    ["also read by another op", { alsoRead: true }],
    ["also a graph result", { alsoResult: true }],
  ])("the projection %s: computed whole, the gather stays below it", (_, o) => {
    const p: Pool = { sizes: [16, 16], lead: 2, strides: [8, 8] };
    const g = optimised(pooled(p, o));
    expect(products(g)).toEqual([product(tokensOf(p))]);
    const gathers = nodesOf(g, "gather");
    expect(gathers.map((n) => [shapeOf(n.inputs[0]), shapeOf(n.outputs[0])])).toEqual([
      [`B, ${C}, ${tokensOf(p)}`, `B, ${C}, ${keptTokens(p)}`],
    ]);
  });
});

describe("rows strided windows skip, never computed: edge geometries", () => {
  /** The pooled graph's conv after the pipeline: its input's spatial sizes, strides and pads. */
  const convAfter = (p: Pool) => {
    const g = optimised(pooled(p));
    const [conv] = nodesOf(g, "conv");
    return { g, sizes: conv.inputs[0].shape.slice(2), strides: conv.attrs.strides, pads: conv.attrs.pads };
  };

  it("odd sizes: the last window runs past the end and keeps its end pad", () => {
    // 9 rows, windows at -1, 3, 7: rows 0-1, 3-5, 7-8 read, the last window's third row is padding.
    const p: Pool = { sizes: [9, 9], lead: 2, strides: [4, 4] };
    const { g, sizes, strides, pads } = convAfter(p);
    expect({ sizes, strides, pads }).toEqual({ sizes: [7, 7], strides: [3, 3], pads: [1, 1, 1, 1] });
    expect(products(g)).toEqual([product(keptTokens(p))]);
  });

  it("windows fully inside, no padding", () => {
    const p: Pool = { sizes: [16, 11], strides: [8, 8], pads: [0, 0, 0, 0] };
    const { g, sizes, strides, pads } = convAfter(p);
    expect({ sizes, strides, pads }).toEqual({ sizes: [6, 6], strides: [3, 3], pads: [0, 0, 0, 0] });
    expect(products(g)).toEqual([product(36)]);
  });

  it("one output position per axis", () => {
    const p: Pool = { sizes: [8, 8], lead: 2, strides: [8, 8], pads: [0, 0, 0, 0] };
    const { g, sizes } = convAfter(p);
    expect(sizes).toEqual([3, 3]);
    expect(nodesOf(g, "conv")[0].outputs[0].shape.slice(2)).toEqual([1, 1]);
    expect(products(g)).toEqual([product(18)]);
  });

  it("one output position: the window's end pad, now past no row it skips, is dropped", () => {
    // 3 rows, one window from -1 to 1 (stride 4): rows 0-1 read, the window padded before only; 2 of 3 x 2 kept.
    const p: Pool = { sizes: [3, 2], strides: [4, 4] };
    const { g, sizes, pads } = convAfter(p);
    expect(keptTokens(p)).toBe(4);
    expect({ sizes, pads }).toEqual({ sizes: [2, 2], pads: [1, 1, 0, 1] });
    expect(products(g)).toEqual([product(4)]);
  });

  it("a 3-D conv input [B, C, T, H, W] from [B, C, T*H*W]", () => {
    const p: Pool = { sizes: [4, 9, 9], kernel: [1, 3, 3], strides: [1, 4, 4], pads: [0, 1, 1, 0, 1, 1] };
    const { g, sizes, strides } = convAfter(p);
    expect({ sizes, strides }).toEqual({ sizes: [4, 7, 7], strides: [1, 3, 3] });
    expect(products(g)).toEqual([product(4 * 7 * 7)]);
  });
});

describe("a gather moved up", () => {
  const N = 10;
  const x = random("f32", [2, N, K], 1);
  /** gather(f(W^T @ x^T), indices, axis 2) for x [B, N, K], with f an optional broadcast op. */
  function taken(indices: { shape: number[]; values: number[] }, o: { add?: boolean } = {}) {
    const b = new GraphBuilder("Taken");
    const input = b.input("x", "f32", [B, N, K], at(1));
    const xt = b.op1("transpose", { perm: [0, 2, 1] }, [input], at(2));
    let y = b.op1("matmul", {}, [b.constant(random("f32", [C, K], 2), at(3)), xt], at(3));
    if (o.add) y = b.op1("add", {}, [y, b.constant(random("f32", [C, 1], 3), at(4))], at(4));
    const idx = b.constant(tensor("i64", indices.shape, indices.values), at(5));
    b.output("rows", b.op1("gather", { axis: 2 }, [y, idx], at(6)));
    return b.graph;
  }

  it.each([false, true])("fewer rows than the axis: above the matmul and the transpose (bias add: %s)", (add) => {
    const g = optimisedKeepingValues(taken({ shape: [3], values: [7, 0, 7] }, { add }), { x });
    expect(products(g)).toEqual([product(3)]);
    expect(nodesOf(g, "gather").map((n) => [n.inputs[0] === g.inputs[0].value, n.attrs.axis])).toEqual([[true, 1]]);
  });

  it.each([
    ["2-D indices", { shape: [2, 2], values: [1, 2, 3, 4] }],
    ["as many indices as the axis", { shape: [N], values: [9, 8, 7, 6, 5, 4, 3, 2, 1, 0] }],
  ])("%s: stays below the matmul", (_, indices) => {
    const g = optimisedKeepingValues(taken(indices, { add: true }), { x });
    expect(products(g)).toEqual([product(N)]);
    expect(nodesOf(g, "gather").map((n) => shapeOf(n.inputs[0]))).toEqual([`B, ${C}, ${N}`]);
  });

  it("a gather of a gather that is a result: the product it reads, now a result too, is not computed twice", () => {
    const b = new GraphBuilder("Twice");
    const input = b.input("x", "f32", [B, N, K], at(1));
    const xt = b.op1("transpose", { perm: [0, 2, 1] }, [input], at(2));
    const y = b.op1("matmul", {}, [b.constant(random("f32", [C, K], 2), at(3)), xt], at(3));
    const first = b.op1("gather", { axis: 2 }, [y, b.constant(tensor("i64", [5], [0, 2, 4, 6, 8]), at(4))], at(4));
    b.output("five", first);
    b.output("two", b.op1("gather", { axis: 2 }, [first, b.constant(tensor("i64", [2], [4, 1]), at(5))], at(5)));
    const g = optimisedKeepingValues(b.graph, { x });
    expect(products(g)).toEqual([product(5)]);
  });

  it("a broadcast operand of an add is read as it is, a full one is gathered with the other", () => {
    const b = new GraphBuilder("Operands");
    const input = b.input("x", "f32", [B, C, N], at(1));
    const full = b.input("z", "f32", [C, N], at(1));
    const sum = b.op1(
      "add",
      {},
      [b.op1("mul", {}, [input, full], at(2)), b.constant(random("f32", [1], 3), at(2))],
      at(3),
    );
    const idx = b.constant(tensor("i64", [2], [3, 1]), at(4));
    b.output("rows", b.op1("gather", { axis: 2 }, [sum, idx], at(5)));
    const g = optimisedKeepingValues(b.graph, { x: random("f32", [2, C, N], 1), z: random("f32", [C, N], 2) });
    expect(
      nodesOf(g, "gather")
        .map((n) => shapeOf(n.inputs[0]))
        .sort(),
    ).toEqual([`${C}, ${N}`, `B, ${C}, ${N}`]);
    expect(nodesOf(g, "mul").map((n) => shapeOf(n.outputs[0]))).toEqual([`B, ${C}, 2`]);
  });
});

describe("rows strided windows skip, never computed: onnxruntime", () => {
  it("a pooled graph through the pass runs in onnxruntime (its i64 index table), values as interpreted", async () => {
    const g = pooled({ sizes: [9, 9], lead: 2, strides: [4, 4] });
    const inputs = new Map([["x", inputFor(g)]]);
    const expected = interpret(g, inputs, new Map()).outputs;
    expect(runPasses(g).diagnostics).toEqual([]);
    const gathers = nodesOf(g, "gather");
    expect(gathers.map((n) => n.inputs[1].dtype)).toEqual(["i64"]);
    const { bytes, diagnostics } = emitOnnx(g);
    expect(diagnostics).toEqual([]);
    const got = await runOnnx(bytes!, inputs);
    for (const [name, t] of expected) expectClose(got.get(name)!, t, 1e-5, name);
  });
});
