// A product over x's second axis written with that axis moved to the front and the batch to second place
// (transpose, reshape [T, B * M, C], matmul with a [T, C, K] stack, reshape, transpose back: MViTv2's
// relative-position terms) keeps the batch in front throughout: a broadcast matmul [B, T, M, C] @ [T, C, K] between
// transposes that leave the batch first. Values kept (the reference interpreter before and after).
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { type Dim, dimMul, dimToString, sym } from "../../src/compiler/ir/dim.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { ONNX_RUNTIME_REWRITES } from "../../src/compiler/ir/passes/index.js";
import { at, optimisedKeepingValues, products, random } from "../helpers/ir.js";

const B = sym("B");
const PASS = "batch kept leading through stacked products";
const [H, T, Y, C, K] = [2, 3, 4, 8, 5];

interface Options {
  /** The batch axis: symbolic (a run-time batch) or a number. */
  batch?: Dim;
  /** The shape of w (default [T, C, K]). */
  stack?: number[];
  /** The final transpose leaves the batch second. */
  batchStaysSecond?: boolean;
  /** The moved-to-front x is also a result of the graph. */
  frontReadTwice?: boolean;
}

/** x [B, H, T, Y, C]: per t, x[:, :, t] as rows [B * H * Y, C] @ W[t] -> [B, H, T, Y, K]. */
function relativeTerm(o: Options = {}): { graph: Graph; feeds: Record<string, ReturnType<typeof random>> } {
  const batch = o.batch ?? B;
  const b = new GraphBuilder("Relative");
  const x = b.input("x", "f32", [batch, H, T, Y, C], at(1));
  const w = b.constant(random("f32", o.stack ?? [T, C, K], 2), at(2));
  const front = b.op1("transpose", { perm: [2, 0, 1, 3, 4] }, [x], at(3));
  const rows = b.op1("reshape", { shape: [T, dimMul(batch, H * Y), C] as Dim[] }, [front], at(4));
  const product = b.op1("matmul", {}, [rows, w], at(5));
  const back = b.op1("reshape", { shape: [T, batch, H, Y, K] as Dim[] }, [product], at(6));
  const perm = o.batchStaysSecond ? [2, 1, 0, 3, 4] : [1, 2, 0, 3, 4];
  b.output("out", b.op1("transpose", { perm }, [back], at(7)));
  if (o.frontReadTwice) b.output("front", front);
  return { graph: b.graph, feeds: { x: random("f32", [2, H, T, Y, C], 1) } };
}

/** The passes a graph for the WGSL target runs (the pass is made for its run-time batch). */
const forWgsl = (graph: Graph, feeds: Record<string, ReturnType<typeof random>>, skip: string[] = []) =>
  optimisedKeepingValues(graph, feeds, [...ONNX_RUNTIME_REWRITES, ...skip]);

/** Each transpose's output shape, in graph order. */
const transposed = (g: Graph) =>
  g.nodes.filter((n) => n.op === "transpose").map((n) => n.outputs[0].shape.map(dimToString).join(", "));

describe("batch kept leading through stacked products", () => {
  it("multiplies with the batch in front: a broadcast matmul, and transposes that leave the batch first", () => {
    const { graph, feeds } = relativeTerm();
    const g = forWgsl(graph, feeds);
    expect(products(g)).toEqual([`[B, ${T}, ${H * Y}, ${C}] @ [${T}, ${C}, ${K}]`]);
    expect(transposed(g)).toEqual([`B, ${T}, ${H}, ${Y}, ${C}`, `B, ${H}, ${T}, ${Y}, ${K}`]);
  });

  it("moves a static batch as well, so a run-time batch bundle plans the static bundle's kernels", () => {
    const { graph, feeds } = relativeTerm({ batch: 2 });
    expect(products(forWgsl(graph, feeds))).toEqual([`[2, ${T}, ${H * Y}, ${C}] @ [${T}, ${C}, ${K}]`]);
  });

  it("broadcasts a stack of one matrix, or a matrix, over the moved axis as before", () => {
    for (const stack of [
      [1, C, K],
      [C, K],
    ]) {
      const { graph, feeds } = relativeTerm({ stack });
      const w = stack.join(", ");
      expect(products(forWgsl(graph, feeds))).toEqual([`[B, ${T}, ${H * Y}, ${C}] @ [${w}]`]);
    }
  });

  it("the same graph without the pass multiplies [T, B * M, C] rows", () => {
    const { graph, feeds } = relativeTerm();
    expect(products(forWgsl(graph, feeds, [PASS]))).toEqual([`[${T}, ${H * Y}*B, ${C}] @ [${T}, ${C}, ${K}]`]);
  });

  it.each([
    ["the result keeps the batch second", { batchStaysSecond: true }],
    ["the moved x has another reader", { frontReadTwice: true }],
  ] as [string, Options][])("stays when %s", (_, o) => {
    const { graph, feeds } = relativeTerm(o);
    expect(products(forWgsl(graph, feeds))[0]).toMatch(/^\[3, /);
  });
});
