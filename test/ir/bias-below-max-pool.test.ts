// A per-channel bias added before a strided max pool moves below it: max(x + c) = max(x) + c over each window, bit
// for bit (rounding is monotonic). Checked on MViTv2's skip-path shape (channels-first projection output, reshaped
// into the pooled grid) and on a plain 4-D pool; the values before and after the pipeline must be identical.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { type Dim, sym } from "../../src/compiler/ir/dim.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { runPasses } from "../../src/compiler/ir/passes/index.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { at, expectClose, optimisedKeepingValues, random } from "../helpers/ir.js";
import { inOnnxruntime } from "../helpers/ort.js";

const B = sym("B");
const PASS = "per-channel bias added after max pooling";
const [C, T, H, W] = [6, 2, 8, 8];

interface Options {
  /** The addend's shape, right-aligned to the sum [B, C, T * H * W] (default [C, 1]: one value per channel). */
  addend?: number[];
  /** The pool's strides (default [1, 2, 2]). */
  strides?: number[];
  /** The sum is also a result of the graph. */
  sumReadTwice?: boolean;
  /** The grid the sum is reshaped into (default [B, C, T, H, W]). */
  grid?: Dim[];
  /** The grid is also a result of the graph. */
  gridReadTwice?: boolean;
  /** A second pool (2x2, no padding) reads the same sum. */
  twoPools?: boolean;
}

/** y [B, C, T*H*W] + addend -> reshape [B, C, T, H, W] -> 3x3 max pool over h and w (MViTv2's skip path). */
function skipPath(o: Options = {}): Graph {
  const b = new GraphBuilder("SkipPool");
  const y = b.input("y", "f32", [B, C, T * H * W], at(1));
  const addend = b.constant(random("f32", o.addend ?? [C, 1], 2), at(2));
  const sum = b.op1("add", {}, [y, addend], at(3));
  const grid = b.op1("reshape", { shape: o.grid ?? [B, C, T, H, W] }, [sum], at(4));
  const strides = o.strides ?? [1, 2, 2];
  b.output("out", b.op1("max_pool", { kernel: [1, 3, 3], strides, pads: [0, 1, 1, 0, 1, 1] }, [grid], at(5)));
  if (o.sumReadTwice) b.output("sum", sum);
  if (o.gridReadTwice) b.output("grid", grid);
  if (o.twoPools)
    b.output("out2", b.op1("max_pool", { kernel: [1, 2, 2], strides, pads: [0, 0, 0, 0, 0, 0] }, [grid], at(6)));
  return b.graph;
}

const feeds = { y: random("f32", [2, C, T * H * W], 10) };
/** The order of the add and the pool in the optimised graph. */
const order = (g: Graph) => g.nodes.filter((n) => n.op === "add" || n.op === "max_pool").map((n) => n.op);

/** The graph's results before and after the full pipeline, which must agree bit for bit. */
function identicalAfterPasses(g: Graph, inputs: Record<string, HostTensor>, skip: string[] = []): Graph {
  const before = interpret(g, new Map(Object.entries(inputs)), new Map()).outputs;
  optimisedKeepingValues(g, inputs, skip);
  const after = interpret(g, new Map(Object.entries(inputs)), new Map()).outputs;
  for (const [name, t] of before)
    expect(Array.from(after.get(name)!.data as Float32Array), name).toEqual(Array.from(t.data as Float32Array));
  return g;
}

describe("per-channel bias added after max pooling", () => {
  it("moves a per-channel bias below a strided pool through the reshape into the grid, bit for bit", () => {
    const g = identicalAfterPasses(skipPath(), feeds);
    expect(order(g)).toEqual(["max_pool", "add"]);
    const add = g.nodes.find((n) => n.op === "add")!;
    expect(add.inputs.map((v) => v.shape.length)).toEqual([5, 5]);
  });

  it("moves it below a 4-D pool with no reshape", () => {
    const b = new GraphBuilder("Pool2d");
    const x = b.input("x", "f32", [B, C, H, W], at(1));
    const sum = b.op1("add", {}, [b.constant(random("f32", [1, C, 1, 1], 3), at(2)), x], at(3));
    b.output("out", b.op1("max_pool", { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] }, [sum], at(4)));
    expect(order(identicalAfterPasses(b.graph, { x: random("f32", [2, C, H, W], 11) }))).toEqual(["max_pool", "add"]);
  });

  it("the same graph without the pass keeps the add above the pool", () => {
    expect(order(identicalAfterPasses(skipPath(), feeds, [PASS]))).toEqual(["add", "max_pool"]);
  });

  it.each([
    ["the addend varies along the pooled positions", { addend: [C, T * H * W] }],
    ["the addend is one value per position, shared by the channels", { addend: [T * H * W] }],
    ["the pool does not shrink the tensor (stride 1)", { strides: [1, 1, 1] }],
    ["the sum has another reader", { sumReadTwice: true }],
    ["the grid is also a result", { gridReadTwice: true }],
    // Two channels share a row of the grid: each window's rows take two channels' biases.
    ["the reshape merges the channels into a pooled axis", { grid: [B, C / 2, T, 2 * H, W] }],
  ] as [string, Options][])("stays when %s", (_, o) => {
    expect(order(identicalAfterPasses(skipPath(o), feeds))).toEqual(["add", "max_pool"]);
  });

  it("stays when two pools read the sum", () => {
    expect(order(identicalAfterPasses(skipPath({ twoPools: true }), feeds))).toEqual(["add", "max_pool", "max_pool"]);
  });

  it.each([
    ["f32", [B, C, 1, 1] as Dim[]],
    ["f16", [1, C, 1, 1] as Dim[]],
  ] as const)("moves a run-time %s addend of shape %s, bit for bit", (dtype, shape) => {
    const b = new GraphBuilder("RunTimeBias");
    const x = b.input("x", dtype, [B, C, H, W], at(1));
    const c = b.input("c", dtype, shape, at(2));
    const sum = b.op1("add", {}, [x, c], at(3));
    b.output("out", b.op1("max_pool", { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, [sum], at(4)));
    const inputs = {
      x: random(dtype, [2, C, H, W], 12),
      c: random(
        dtype,
        shape.map((d) => (d === B ? 2 : (d as number))),
        13,
      ),
    };
    expect(order(identicalAfterPasses(b.graph, inputs))).toEqual(["max_pool", "add"]);
  });

  it("leaves the pipeline at a fixed point", () => {
    const g = skipPath();
    expect(runPasses(g).diagnostics).toEqual([]);
    const nodes = g.nodes.length;
    expect(runPasses(g).rounds).toBe(2);
    expect(g.nodes.length).toBe(nodes);
  });
});

describe("per-channel bias added after max pooling, in onnxruntime", () => {
  it("gives the interpreter's values", async () => {
    const expected = interpret(skipPath(), new Map(Object.entries(feeds)), new Map()).outputs.get("out")!;
    const g = optimisedKeepingValues(skipPath(), feeds);
    expect(order(g)).toEqual(["max_pool", "add"]);
    expectClose((await inOnnxruntime(g, feeds)).get("out")!, expected, 1e-5, "out");
  });
});
