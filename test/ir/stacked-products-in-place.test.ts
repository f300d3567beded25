// A batched product over x's second axis, written with that axis moved to the front and back (transpose, reshape,
// matmul with a [T, C, K] stack, reshape, transpose: MViTv2's relative-position term along time), becomes one
// broadcast matmul that reads x where it lies. Values kept (the reference interpreter before and after).
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { type Dim, dimMul, sym } from "../../src/compiler/ir/dim.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { at, optimisedKeepingValues, products, random } from "../helpers/ir.js";

const B = sym("B");
const PASS = "stacked products read in place";
const [T, C, K] = [4, 8, 3];

interface Options {
  /** Rows of each product (default 128, the pass's smallest). */
  rows?: number;
  /** The moved-to-front x is also a result of the graph. */
  frontReadTwice?: boolean;
}

/** x [B, T, rows * C] -> per t: x[:, t] as [B * rows, C] rows @ W[t] -> [B, T, rows * K], via two transposes. */
function stacked(o: Options = {}): { graph: Graph; feeds: Record<string, ReturnType<typeof random>> } {
  const rows = o.rows ?? 128;
  const b = new GraphBuilder("Stacked");
  const x = b.input("x", "f32", [B, T, rows * C], at(1));
  const w = b.constant(random("f32", [T, C, K], 2), at(2));
  const front = b.op1("transpose", { perm: [1, 0, 2] }, [x], at(3));
  const split = b.op1("reshape", { shape: [T, dimMul(B, rows), C] as Dim[] }, [front], at(4));
  const product = b.op1("matmul", {}, [split, w], at(5));
  const back = b.op1("reshape", { shape: [T, B, rows * K] as Dim[] }, [product], at(6));
  b.output("out", b.op1("transpose", { perm: [1, 0, 2] }, [back], at(7)));
  if (o.frontReadTwice) b.output("front", front);
  return { graph: b.graph, feeds: { x: random("f32", [2, T, rows * C], 1) } };
}

const transposes = (g: Graph) => g.nodes.filter((n) => n.op === "transpose").length;

describe("stacked products read in place", () => {
  it("multiplies x's pieces by the stack in place: one broadcast matmul, no transpose", () => {
    const { graph, feeds } = stacked();
    const g = optimisedKeepingValues(graph, feeds);
    expect(transposes(g)).toBe(0);
    expect(products(g)).toEqual([`[B, ${T}, 128, ${C}] @ [${T}, ${C}, ${K}]`]);
  });

  it("the same graph without the pass keeps both transposes", () => {
    const { graph, feeds } = stacked();
    expect(transposes(optimisedKeepingValues(graph, feeds, [PASS]))).toBe(2);
  });

  it.each([
    ["each product has fewer than 128 rows", { rows: 64 }],
    ["the moved x has another reader", { frontReadTwice: true }],
  ] as [string, Options][])("stays when %s", (_, o) => {
    const { graph, feeds } = stacked(o);
    expect(transposes(optimisedKeepingValues(graph, feeds))).toBe(2);
  });
});
