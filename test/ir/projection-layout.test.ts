// Projections written channels-first: MViT's q, k, v projection, whose parts each lose the class token and are
// transposed for the pooling conv, becomes one channels-first product per part (W_part^T @ x^T) and a one-row
// product for the class token; every output keeps its value (the reference interpreter, before and after the whole
// pipeline). Where a reader needs the whole product, or no reader is channels-first, or parts overlap, it stays.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { dimToString, sym } from "../../src/compiler/ir/dim.js";
import type { Graph, Value } from "../../src/compiler/ir/ir.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { runPasses } from "../../src/compiler/ir/passes/index.js";
import { verifyGraph } from "../../src/compiler/ir/verify.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { at, expectClose, random } from "../helpers/ir.js";

const B = sym("B");
const PASS = "projections written channels-first";
/** Tokens: the class token and 8 others; channels per part, in 2 heads of 2. */
const [N, C, K] = [9, 4, 3];

/** Runs the whole pipeline (but the passes in `skip`); every output must keep its value. */
function optimised(g: Graph, x: HostTensor, skip: string[] = []): Graph {
  const feeds = new Map([["x", x]]);
  const before = interpret(g, feeds, new Map()).outputs;
  expect(runPasses(g, { verify: true, skip }).diagnostics).toEqual([]);
  expect(verifyGraph(g)).toEqual([]);
  const after = interpret(g, feeds, new Map()).outputs;
  for (const [name, t] of before) expectClose(after.get(name)!, t, 1e-5, name);
  return g;
}

/** Each matmul as `[lhs] @ [rhs]`. */
const products = (g: Graph) =>
  g.nodes.flatMap((n) =>
    n.op === "matmul" ? [n.inputs.map((v) => `[${v.shape.map(dimToString).join(", ")}]`).join(" @ ")] : [],
  );

interface Options {
  bias?: boolean;
  /** Also a result: the whole projection. */
  wholeAsResult?: boolean;
  /** The parts' tokens go to the results as they are, not transposed. */
  tokensMajor?: boolean;
}

/** x [B, 9, 3] -> x @ W^T + b [B, 9, 12] -> q, k, v: each split in heads, class token apart, the rest transposed. */
function mvitProjection(o: Options = {}) {
  const b = new GraphBuilder("Pooled");
  const x = b.input("x", "f32", [B, N, K], at(1));
  const w = b.constant(random("f32", [3 * C, K], 2), at(2));
  let y = b.op1("matmul", {}, [x, b.op1("transpose", { perm: [1, 0] }, [w], at(3))], at(3, "qkv"));
  if (o.bias !== false) y = b.op1("add", {}, [y, b.constant(random("f32", [3 * C], 3), at(4))], at(4, "qkv"));
  if (o.wholeAsResult) b.output("qkv", y);
  ["q", "k", "v"].forEach((name, i) => {
    const part = b.op1("slice", { axis: 2, start: i * C, end: (i + 1) * C, step: 1 }, [y], at(5 + i));
    const heads = b.op1("reshape", { shape: [B, N, 2, C / 2] }, [part], at(5 + i));
    const cls = b.op1("slice", { axis: 1, start: 0, end: 1, step: 1 }, [heads], at(8 + i));
    b.output(`${name}_cls`, b.op1("reshape", { shape: [B, 2, 1, C / 2] }, [cls], at(8 + i)));
    const rest = b.op1("slice", { axis: 1, start: 1, end: N, step: 1 }, [heads], at(11 + i));
    const tokens = b.op1("reshape", { shape: [B, N - 1, C] }, [rest], at(11 + i));
    b.output(name, o.tokensMajor ? tokens : b.op1("transpose", { perm: [0, 2, 1] }, [tokens], at(14 + i, "pool")));
  });
  return b.graph;
}

const x = random("f32", [2, N, K], 1);

describe("projections written channels-first", () => {
  it.each([
    ["with a bias", true],
    ["without a bias", false],
  ])("MViT's pooled q, k, v (%s): a channels-first product per part, one row for each class token", (_, bias) => {
    const g = optimised(mvitProjection({ bias }), x);
    expect(products(g).sort()).toEqual([
      ...Array(3).fill("[4, 3] @ [B, 3, 1]"),
      ...Array(3).fill("[4, 3] @ [B, 3, 8]"),
    ]);
    // The parts read the tokens without the class token once, transposed; no transpose of a part is left.
    const transposes = g.nodes.filter((n) => n.op === "transpose" && n.inputs[0].shape.length === 3);
    expect(transposes.map((n) => n.inputs[0].shape.map(dimToString).join())).toEqual(["B,8,3"]);
  });

  it("the same graph without the pass keeps the full product and the transposes of the parts", () => {
    const g = optimised(mvitProjection(), x, [PASS]);
    expect(products(g)).toEqual(["[B, 9, 3] @ [3, 12]"]);
  });

  it.each([
    ["the whole projection is also a result", { wholeAsResult: true }],
    ["no part is read channels-first", { tokensMajor: true }],
  ] as const)("stays when %s", (_, o) => {
    const g = optimised(mvitProjection(o), x);
    expect(products(g)).toEqual(["[B, 9, 3] @ [3, 12]"]);
  });

  it("stays when two readers read the same part (the product would be computed twice)", () => {
    const b = new GraphBuilder("Twice");
    const input: Value = b.input("x", "f32", [B, N, K], at(1));
    const w = b.constant(random("f32", [K, C], 2), at(2));
    const y = b.op1("matmul", {}, [input, w], at(3));
    b.output("t", b.op1("transpose", { perm: [0, 2, 1] }, [y], at(4)));
    b.output("exp", b.op1("exp", {}, [y], at(5)));
    const g = optimised(b.graph, x);
    expect(products(g)).toEqual(["[B, 9, 3] @ [3, 4]"]);
  });
});
