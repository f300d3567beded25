// Projections written channels-first: MViT's q, k, v projection, whose parts each lose the class token and are
// transposed for the pooling conv, becomes one channels-first product per part (W_part^T @ x^T) and a one-row
// product for the class token; every output keeps its value (the reference interpreter, before and after the whole
// pipeline). Where a reader needs the whole product, or no reader is channels-first, or parts overlap, it stays.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { dimToString, sym } from "../../src/compiler/ir/dim.js";
import type { Graph, Value } from "../../src/compiler/ir/ir.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { at, optimisedKeepingValues, products, random } from "../helpers/ir.js";

const B = sym("B");
const PASS = "projections written channels-first";
/** Tokens: the class token and 8 others; channels per part, in 2 heads of 2. */
const [N, C, K] = [9, 4, 3];

/** The whole pipeline on a graph whose one input is x. */
const optimised = (g: Graph, x: HostTensor, skip: string[] = []) => optimisedKeepingValues(g, { x }, skip);

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

/** y = x @ w (+ bias) for x [batch, N, K] and w [K, channels], with the bias added as `biasAs` says. */
function projection(
  o: {
    batch?: number;
    channels?: number;
    dtype?: "f32" | "f16" | "f64";
    biasAs?: "y + b" | "b + y" | "y + b[1]" | "y + b[N, C]";
  } = {},
) {
  const [dtype, channels] = [o.dtype ?? "f32", o.channels ?? 3 * C];
  const b = new GraphBuilder("Projection");
  const input = b.input("x", dtype, [o.batch ?? B, N, K], at(1));
  let y = b.op1("matmul", {}, [input, b.constant(random(dtype, [K, channels], 2), at(2))], at(3));
  const bias = (shape: number[]) => b.constant(random(dtype, shape, 3), at(4));
  if (o.biasAs === "y + b") y = b.op1("add", {}, [y, bias([channels])], at(4));
  if (o.biasAs === "b + y") y = b.op1("add", {}, [bias([channels]), y], at(4));
  if (o.biasAs === "y + b[1]") y = b.op1("add", {}, [y, bias([1])], at(4));
  if (o.biasAs === "y + b[N, C]") y = b.op1("add", {}, [y, bias([N, channels])], at(4));
  const slice = (v: Value, axis: number, start: number, end: number, step = 1) =>
    b.op1("slice", { axis, start, end, step }, [v], at(5));
  const reshape = (v: Value, shape: (number | typeof B)[]) => b.op1("reshape", { shape }, [v], at(6));
  const channelsFirst = (v: Value) => b.op1("transpose", { perm: [0, 2, 1] }, [v], at(7));
  /** A reader that is not channels-first (a part that is a result itself keeps the whole product). */
  const exp = (v: Value) => b.op1("exp", {}, [v], at(8));
  return { b, input, y, slice, reshape, channelsFirst, exp };
}

describe("projections written channels-first: inputs at the edges", () => {
  const x2 = random("f32", [2, N, K], 1);
  const wholeProduct = "[B, 9, 3] @ [3, 12]";

  it.each(["y + b", "b + y"] as const)("a bias written %s: its part goes with each product", (biasAs) => {
    const { b, y, slice, channelsFirst, exp } = projection({ biasAs });
    b.output("q", channelsFirst(slice(slice(y, 2, 0, C), 1, 1, N)));
    b.output("k", exp(slice(y, 2, C, 3 * C)));
    const g = optimised(b.graph, x2);
    expect(products(g).sort()).toEqual(["[4, 3] @ [B, 3, 8]", "[B, 9, 3] @ [3, 8]"]);
  });

  it.each(["y + b[1]", "y + b[N, C]"] as const)(
    "a bias %s broadcast otherwise is a reader of the whole: stays",
    (biasAs) => {
      const { b, y, slice, channelsFirst } = projection({ biasAs });
      b.output("q", channelsFirst(slice(y, 2, 0, C)));
      const g = optimised(b.graph, x2);
      expect(products(g)).toEqual([wholeProduct]);
    },
  );

  it("a static batch: applies", () => {
    const { b, y, slice, channelsFirst, exp } = projection({ batch: 2, biasAs: "y + b" });
    b.output("q", channelsFirst(slice(y, 2, 0, C)));
    b.output("rest", exp(slice(y, 2, C, 3 * C)));
    const g = optimised(b.graph, x2);
    expect(products(g).sort()).toEqual(["[2, 9, 3] @ [3, 8]", "[4, 3] @ [2, 3, 9]"]);
  });

  it("a part covering y partly (channels never read): only the part is computed", () => {
    const { b, y, slice, channelsFirst } = projection({ biasAs: "y + b" });
    b.output("q", channelsFirst(slice(slice(y, 1, 2, 5), 2, C, 2 * C)));
    const g = optimised(b.graph, x2);
    expect(products(g)).toEqual(["[4, 3] @ [B, 3, 3]"]);
  });

  it("the class token read as it is: a one-row product beside the channels-first tokens", () => {
    const { b, y, slice, channelsFirst, exp } = projection({ biasAs: "y + b" });
    b.output("q", channelsFirst(slice(slice(y, 2, 0, C), 1, 1, N)));
    b.output("q_cls", exp(slice(slice(y, 2, 0, C), 1, 0, 1)));
    const g = optimised(b.graph, x2);
    expect(products(g).sort()).toEqual(["[4, 3] @ [B, 3, 1]", "[4, 3] @ [B, 3, 8]"]);
  });

  it("one token alone channels-first: the transpose becomes a reshape first, so it stays", () => {
    const { b, y, slice, channelsFirst, exp } = projection({ biasAs: "y + b" });
    b.output("q_cls", channelsFirst(slice(slice(y, 2, 0, C), 1, 0, 1)));
    b.output("k", exp(slice(y, 2, C, 2 * C)));
    const g = optimised(b.graph, x2);
    expect(products(g)).toEqual([wholeProduct]);
  });

  it("a reader that reads one part in two slots reads its product in both (the whole product goes away)", () => {
    const { b, y, slice, channelsFirst } = projection({ biasAs: "y + b" });
    b.output("q", channelsFirst(slice(y, 2, 0, C)));
    const k = slice(y, 2, C, 2 * C);
    b.output("kk", b.op1("mul", {}, [k, k], at(8)));
    const g = optimised(b.graph, x2);
    expect(products(g).sort()).toEqual(["[4, 3] @ [B, 3, 9]", "[B, 9, 3] @ [3, 4]"]);
  });

  it("a part read by two readers keeps its values", () => {
    const { b, y, slice, channelsFirst } = projection({ biasAs: "y + b" });
    const q = slice(y, 2, 0, C);
    b.output("q", channelsFirst(q));
    b.output("exp_q", b.op1("exp", {}, [q], at(8)));
    const g = optimised(b.graph, x2);
    // Each reader gets its own product: a third of y computed twice, still less than the whole.
    expect(products(g).sort()).toEqual(["[4, 3] @ [B, 3, 9]", "[B, 9, 3] @ [3, 4]"]);
  });

  it("a reader of two parts gets both", () => {
    const { b, y, slice, channelsFirst } = projection({ biasAs: "y + b" });
    b.output("q", channelsFirst(slice(y, 2, 0, C)));
    b.output("k_plus_v", b.op1("add", {}, [slice(y, 2, C, 2 * C), slice(y, 2, 2 * C, 3 * C)], at(8)));
    const g = optimised(b.graph, x2);
    expect(products(g).sort()).toEqual(["[4, 3] @ [B, 3, 9]", "[B, 9, 3] @ [3, 4]", "[B, 9, 3] @ [3, 4]"]);
  });

  it.each([
    ["tokens with step 2", (v: Value, p: ReturnType<typeof projection>) => p.slice(v, 1, 1, N, 2)],
    ["channels with step 2", (v: Value, p: ReturnType<typeof projection>) => p.slice(v, 2, 0, C, 2)],
    ["channels on axis -1", (v: Value, p: ReturnType<typeof projection>) => p.slice(v, -1, 0, C)],
    [
      "heads of a 4-D view",
      (v: Value, p: ReturnType<typeof projection>) =>
        p.reshape(p.slice(p.reshape(v, [B, N, 6, 2]), 2, 0, 2), [B, N, C]),
    ],
  ])("a slice of %s, then channels-first: a reader of the whole, so it stays", (_, part) => {
    const p = projection({ biasAs: "y + b" });
    p.b.output("q", p.channelsFirst(part(p.y, p)));
    expect(products(optimised(p.b.graph, x2))).toEqual([wholeProduct]);
  });

  it("a slice of the batch (static), then channels-first: stays", () => {
    const p = projection({ batch: 2, biasAs: "y + b" });
    p.b.output("q", p.channelsFirst(p.slice(p.slice(p.y, 0, 1, 2), 2, 0, C)));
    expect(products(optimised(p.b.graph, x2))).toEqual(["[2, 9, 3] @ [3, 12]"]);
  });

  it.each([
    ["the token axis moved first", [N, 2, 3 * C], "[2, 9, 3] @ [3, 12]"],
    ["tokens merged with channels", [2, 3, 3 * C * 3], "[2, 9, 3] @ [3, 12]"],
    ["the same shape (rows kept)", [2, N, 3 * C], "[12, 3] @ [2, 3, 9]"],
  ])("a reshape with %s, then channels-first", (_, shape, product) => {
    const p = projection({ batch: 2, biasAs: "y + b" });
    p.b.output("q", p.channelsFirst(p.reshape(p.y, shape)));
    expect(products(optimised(p.b.graph, x2))).toEqual([product]);
  });

  it("a part that is also a result or a tap: stays", () => {
    for (const asTap of [false, true]) {
      const { b, y, slice, channelsFirst } = projection({ biasAs: "y + b" });
      const q = slice(y, 2, 0, C);
      b.output("q", channelsFirst(q));
      if (asTap) b.tap("q_tokens", q);
      else b.output("q_tokens", q);
      const g = optimised(b.graph, x2);
      expect(products(g)).toEqual([wholeProduct]);
    }
  });

  it.each(["f16", "f64"] as const)("%s: stays", (dtype) => {
    const { b, y, slice, channelsFirst } = projection({ dtype, biasAs: "y + b" });
    b.output("q", channelsFirst(slice(y, 2, 0, C)));
    const g = optimised(b.graph, random(dtype, [2, N, K], 1));
    expect(products(g)).toEqual([wholeProduct]);
  });

  it("x a weight, or w not 2-D: stays", () => {
    const b = new GraphBuilder("NotProjections");
    const input = b.input("x", "f32", [B, N, K], at(1));
    const weightX = b.constant(random("f32", [2, N, K], 4), at(2));
    const y1 = b.op1("matmul", {}, [weightX, b.constant(random("f32", [K, C], 2), at(2))], at(3));
    const y2 = b.op1("matmul", {}, [input, b.constant(random("f32", [1, K, C], 3), at(2))], at(3));
    b.output("t1", b.op1("transpose", { perm: [0, 2, 1] }, [y1], at(4)));
    b.output("t2", b.op1("transpose", { perm: [0, 2, 1] }, [y2], at(4)));
    const g = optimised(b.graph, x2, ["constant folding"]);
    expect(products(g).sort()).toEqual(["[2, 9, 3] @ [3, 4]", "[B, 9, 3] @ [1, 3, 4]"]);
  });

  it("a projection of another's channels-first part (its x is a transpose that goes away)", () => {
    const { b, y, slice, channelsFirst, exp } = projection({ biasAs: "y + b" });
    const q = channelsFirst(slice(y, 2, 0, C)); // [B, C, N]
    b.output("rest", exp(slice(y, 2, C, 3 * C)));
    const z = b.op1("matmul", {}, [q, b.constant(random("f32", [N, 5], 5), at(9))], at(9)); // [B, C, 5]
    b.output("z", channelsFirst(z));
    const g = optimised(b.graph, x2);
    expect(products(g).sort()).toEqual(["[4, 3] @ [B, 3, 9]", "[5, 9] @ [B, 9, 4]", "[B, 9, 3] @ [3, 8]"]);
  });

  it("a projection of another's part read as it is: in the next round both end channels-first", () => {
    const { b, y, slice, channelsFirst } = projection({ biasAs: "y + b" });
    b.output("q", channelsFirst(slice(y, 2, 0, C)));
    const k = slice(y, 2, C, 2 * C); // [B, N, C]
    const z = b.op1("matmul", {}, [k, b.constant(random("f32", [C, 5], 5), at(9))], at(9));
    b.output("z", channelsFirst(z));
    const g = optimised(b.graph, x2);
    expect(products(g).sort()).toEqual(["[4, 3] @ [B, 3, 9]", "[4, 3] @ [B, 3, 9]", "[5, 4] @ [B, 4, 9]"]);
  });
});
