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
import { at, optimisedKeepingValues, random } from "../helpers/ir.js";

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
}

/** y [B, C, T*H*W] + addend -> reshape [B, C, T, H, W] -> 3x3 max pool over h and w (MViTv2's skip path). */
function skipPath(o: Options = {}): Graph {
  const b = new GraphBuilder("SkipPool");
  const y = b.input("y", "f32", [B, C, T * H * W], at(1));
  const addend = b.constant(random("f32", o.addend ?? [C, 1], 2), at(2));
  const sum = b.op1("add", {}, [y, addend], at(3));
  const grid = b.op1("reshape", { shape: [B, C, T, H, W] as Dim[] }, [sum], at(4));
  const strides = o.strides ?? [1, 2, 2];
  b.output("out", b.op1("max_pool", { kernel: [1, 3, 3], strides, pads: [0, 1, 1, 0, 1, 1] }, [grid], at(5)));
  if (o.sumReadTwice) b.output("sum", sum);
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
  ] as [string, Options][])("stays when %s", (_, o) => {
    expect(order(identicalAfterPasses(skipPath(o), feeds))).toEqual(["add", "max_pool"]);
  });

  it("leaves the pipeline at a fixed point", () => {
    const g = skipPath();
    expect(runPasses(g).diagnostics).toEqual([]);
    const nodes = g.nodes.length;
    expect(runPasses(g).rounds).toBe(2);
    expect(g.nodes.length).toBe(nodes);
  });
});
