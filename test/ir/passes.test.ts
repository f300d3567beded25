// The optimisation passes: each shrinks the graph as expected and leaves every output value unchanged.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { sym } from "../../src/compiler/ir/dim.js";
import type { Graph, OpAttrs, OpName } from "../../src/compiler/ir/ir.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { eliminateDeadCode, foldConstants, runPasses, simplify } from "../../src/compiler/ir/passes/index.js";
import { verifyGraph } from "../../src/compiler/ir/verify.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { at, expectClose, random, tensor } from "../helpers/ir.js";

const B = sym("B");

const ops = (g: Graph) => g.nodes.map((n) => n.op);
const count = (g: Graph, op: OpName) => g.nodes.filter((n) => n.op === op).length;

/** Runs the pipeline and checks that outputs are the same before and after. */
function optimise(g: Graph, inputs: Record<string, HostTensor>, params: Record<string, HostTensor> = {}): void {
  const [ins, ps] = [new Map(Object.entries(inputs)), new Map(Object.entries(params))];
  const before = interpret(g, ins, ps).outputs;
  const r = runPasses(g, { verify: true });
  expect(r.diagnostics).toEqual([]);
  expect(verifyGraph(g)).toEqual([]);
  const after = interpret(g, ins, ps).outputs;
  for (const [name, t] of before) expectClose(after.get(name)!, t, 1e-6, name);
}

describe("constant folding", () => {
  it("folds chains of constants into one constant and keeps the span and scope", () => {
    const b = new GraphBuilder("F");
    const x = b.input("x", "f32", [B, 4], at(1));
    const c = b.constant(random("f32", [4], 1), at(2));
    const d = b.op1("mul", {}, [b.op1("exp", {}, [c], at(3)), b.constant(tensor("f32", [], [2]), at(4))], at(5, "blk"));
    b.output("y", b.op1("add", {}, [x, d], at(6)));
    const g = b.graph;
    optimise(g, { x: random("f32", [3, 4], 2) });
    expect(ops(g)).toEqual(["input", "const", "add"]);
    const folded = g.nodes[1];
    expect([folded.span?.line, folded.scope]).toEqual([5, "blk"]);
  });

  it("folds both results of a top-k", () => {
    const b = new GraphBuilder("K");
    const [v, i] = b.op(
      "topk",
      { axis: 0, k: 2, largest: true },
      [b.constant(tensor("f32", [4], [3, 9, 1, 7]), at(1))],
      at(2),
    );
    b.output("v", v);
    b.output("i", i);
    foldConstants(b.graph);
    eliminateDeadCode(b.graph);
    expect(ops(b.graph)).toEqual(["const", "const"]);
    expect(
      Array.from((b.graph.outputs[1].value.producer.attrs as OpAttrs["const"]).value.data as BigInt64Array),
    ).toEqual([1n, 3n]);
  });

  it("never folds params, and does not grow a small constant into a large one", () => {
    const b = new GraphBuilder("P");
    const w = b.param({ path: "w", dtype: "f32", shape: [4], unused: false, span: at(1).span });
    b.output("y", b.op1("neg", {}, [w], at(2)));
    b.output("z", b.op1("expand", { shape: [256, 256] }, [b.constant(tensor("f32", [], [1]), at(3))], at(4)));
    expect(foldConstants(b.graph)).toBe(false);
    expect(ops(b.graph)).toEqual(["param", "neg", "const", "expand"]);
  });

  it("respects the size cap", () => {
    const b = new GraphBuilder("Cap");
    b.output("y", b.op1("neg", {}, [b.constant(random("f32", [100], 1), at(1))], at(2)));
    expect(foldConstants(b.graph, { maxElements: 99 })).toBe(false);
    expect(foldConstants(b.graph, { maxElements: 100 })).toBe(true);
  });

  it("leaves a failing constant computation for run time", () => {
    const b = new GraphBuilder("E");
    const idx = b.constant(tensor("i64", [1], [7]), at(1));
    b.output("y", b.op1("gather", { axis: 0 }, [b.constant(tensor("f32", [3], [1, 2, 3]), at(2)), idx], at(3)));
    expect(foldConstants(b.graph)).toBe(false);
  });
});

describe("common-subexpression elimination", () => {
  it("merges equal nodes and equal small constants, but not different attributes", () => {
    const b = new GraphBuilder("C");
    const x = b.input("x", "f32", [B, 3, 4], at(1));
    const s1 = b.op1("softmax", { axis: -1 }, [x], at(2));
    const s2 = b.op1("softmax", { axis: -1 }, [x], at(3));
    const s3 = b.op1("softmax", { axis: 1 }, [x], at(4));
    const c1 = b.constant(tensor("f32", [4], [1, 2, 3, 4]), at(5));
    const c2 = b.constant(tensor("f32", [4], [1, 2, 3, 4]), at(6));
    const y = b.op1("add", {}, [b.op1("mul", {}, [s1, c1], at(7)), b.op1("mul", {}, [s2, c2], at(8))], at(9));
    b.output("y", b.op1("add", {}, [y, s3], at(10)));
    b.output("z", b.op1("reshape", { shape: [B, 12] }, [s2], at(11)));
    b.output("w", b.op1("reshape", { shape: [B, 12] }, [s1], at(12)));
    const g = b.graph;
    optimise(g, { x: random("f32", [2, 3, 4], 3) });
    expect(count(g, "softmax")).toBe(2);
    expect(count(g, "const")).toBe(1);
    expect(count(g, "mul")).toBe(1);
    expect(count(g, "reshape")).toBe(1);
    expect(g.outputs[1].value).toBe(g.outputs[2].value);
  });
});

describe("dead-code elimination", () => {
  it("drops unreachable nodes, keeps inputs, and marks params nothing reads as unused", () => {
    const b = new GraphBuilder("D");
    const x = b.input("x", "f32", [4], at(1));
    const unusedInput = b.input("mask", "bool", [4], at(2));
    const w = b.param({ path: "used", dtype: "f32", shape: [4], unused: false, span: at(3).span });
    const dead = b.param({ path: "dead", dtype: "f32", shape: [4], unused: false, span: at(4).span });
    b.op1("mul", {}, [x, dead], at(5));
    b.output("y", b.op1("add", {}, [x, w], at(6)));
    void unusedInput;
    expect(eliminateDeadCode(b.graph)).toBe(true);
    expect(ops(b.graph)).toEqual(["input", "input", "param", "add"]);
    expect(b.graph.params.map((p) => [p.path, p.unused])).toEqual([
      ["used", false],
      ["dead", true],
    ]);
    expect(eliminateDeadCode(b.graph)).toBe(false);
  });

  it("keeps what taps read", () => {
    const b = new GraphBuilder("T");
    const x = b.input("x", "f32", [4], at(1));
    b.tap("t", b.op1("exp", {}, [x], at(2)));
    b.output("y", x);
    eliminateDeadCode(b.graph);
    expect(ops(b.graph)).toEqual(["input", "exp"]);
  });
});

describe("algebraic simplification", () => {
  it("collapses reshape chains and drops reshapes to the same shape", () => {
    const b = new GraphBuilder("R");
    const x = b.input("x", "f32", [B, 3, 4], at(1));
    const r1 = b.op1("reshape", { shape: [B, 12] }, [x], at(2));
    const r2 = b.op1("reshape", { shape: [B, 2, 6] }, [r1], at(3));
    b.output("y", b.op1("reshape", { shape: [B, 2, 6] }, [r2], at(4)));
    b.output("z", b.op1("reshape", { shape: [B, 3, 4] }, [r1], at(5)));
    const g = b.graph;
    optimise(g, { x: random("f32", [2, 3, 4], 4) });
    expect(ops(g)).toEqual(["input", "reshape"]);
    expect(g.outputs[1].value).toBe(g.inputs[0].value);
    expect(g.nodes[1].span?.line).toBe(3);
  });

  it("composes transposes into one, or none", () => {
    const b = new GraphBuilder("T");
    const x = b.input("x", "f32", [2, 3, 4], at(1));
    const t1 = b.op1("transpose", { perm: [1, 2, 0] }, [x], at(2));
    b.output("back", b.op1("transpose", { perm: [2, 0, 1] }, [t1], at(3)));
    b.output("one", b.op1("transpose", { perm: [1, 0, 2] }, [t1], at(4, "s")));
    b.output("id", b.op1("transpose", { perm: [0, 1, 2] }, [x], at(5)));
    const g = b.graph;
    optimise(g, { x: random("f32", [2, 3, 4], 5) });
    expect(count(g, "transpose")).toBe(1);
    expect(g.outputs[0].value).toBe(g.inputs[0].value);
    expect(g.outputs[2].value).toBe(g.inputs[0].value);
    const t = g.outputs[1].value.producer;
    expect([t.attrs, t.scope, t.span?.line]).toEqual([{ perm: [2, 1, 0] }, "s", 4]);
  });

  it("drops expand, slice and cast that change nothing", () => {
    const b = new GraphBuilder("N");
    const x = b.input("x", "f32", [B, 4], at(1));
    const e = b.op1("expand", { shape: [B, 4] }, [x], at(2));
    const s = b.op1("slice", { axis: 1, start: 0, end: 4, step: 1 }, [e], at(3));
    b.output("y", b.op1("cast", { to: "f32" }, [s], at(4)));
    b.output("part", b.op1("slice", { axis: 1, start: 0, end: 3, step: 1 }, [x], at(5)));
    const g = b.graph;
    optimise(g, { x: random("f32", [2, 4], 6) });
    expect(ops(g)).toEqual(["input", "slice"]);
  });

  it("removes adding zero and multiplying by one unless the constant broadcasts x", () => {
    const b = new GraphBuilder("Z");
    const x = b.input("x", "f32", [B, 4], at(1));
    const zero = b.constant(tensor("f32", [4], [0, 0, 0, 0]), at(2));
    const one = b.constant(tensor("f32", [], [1]), at(3));
    const a = b.op1("add", {}, [zero, x], at(4));
    const m = b.op1("mul", {}, [a, one], at(5));
    const d = b.op1("div", {}, [m, one], at(6));
    b.output("y", b.op1("sub", {}, [d, zero], at(7)));
    b.output("grows", b.op1("add", {}, [b.op1("reshape", { shape: [B, 4, 1] }, [x], at(8)), zero], at(9)));
    b.output("keeps", b.op1("div", {}, [one, x], at(10)));
    const g = b.graph;
    optimise(g, { x: random("f32", [3, 4], 7) });
    expect(g.outputs[0].value).toBe(g.inputs[0].value);
    expect(count(g, "add")).toBe(1);
    expect(count(g, "div")).toBe(1);
  });

  it("reaches a fixed point", () => {
    const b = new GraphBuilder("X");
    const x = b.input("x", "f32", [4], at(1));
    b.output(
      "y",
      b.op1(
        "add",
        {},
        [
          x,
          b.op1(
            "mul",
            {},
            [b.constant(tensor("f32", [], [0]), at(2)), b.constant(tensor("f32", [], [5]), at(3))],
            at(4),
          ),
        ],
        at(5),
      ),
    );
    const r = runPasses(b.graph);
    expect(r.diagnostics).toEqual([]);
    expect(ops(b.graph)).toEqual(["input"]);
    expect(simplify(b.graph)).toBe(false);
    expect(r.rounds).toBeGreaterThan(1);
  });
});

describe("pipeline", () => {
  it("reports a verifier failure with the pass that caused it", () => {
    const b = new GraphBuilder("V");
    const x = b.input("x", "f32", [4], at(1));
    b.output("y", b.op1("neg", {}, [x], at(2)));
    b.output("z", b.op1("reshape", { shape: [2, 2] }, [x], at(3)));
    (b.graph.nodes[2].attrs as OpAttrs["reshape"]).shape = [4, 1];
    const r = runPasses(b.graph);
    expect(r.rounds).toBe(0);
    expect(r.diagnostics.map((d) => d.code)).toContain("NET4001");
  });
});
