// A sum or mean over the axis a concat stacks one-slice parts along becomes the parts' elementwise sum (over their
// count): OUS's mean of its fusion blocks, which put the batch second. Values kept (the reference interpreter).
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { type Dim, sym } from "../../src/compiler/ir/dim.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { ONNX_RUNTIME_REWRITES } from "../../src/compiler/ir/passes/index.js";
import { at, optimisedKeepingValues, random } from "../helpers/ir.js";

const B = sym("B");
const PASS = "stacked parts reduced as their sum";

/** mean or sum over axis 0 of three [1, B, 4] parts (unsqueezed [B, 4] inputs) concatenated along `axis`. */
function stackedMean(kind: "mean" | "sum" | "max", axis = 0, thickness = 1): Graph {
  const b = new GraphBuilder("Stacked");
  const parts = [0, 1, 2].map((i) => {
    const x = b.input(`x${i}`, "f32", [B, 4], at(1));
    return b.op1("reshape", { shape: (axis === 0 ? [1, B, 4] : [B, 1, 4]) as Dim[] }, [x], at(2));
  });
  const thick = thickness === 1 ? parts : parts.map((p) => b.op1("concat", { axis }, [p, p], at(3)));
  const stack = b.op1("concat", { axis }, thick, at(4));
  b.output("y", b.op1("reduce", { kind, axes: [axis], keepdims: false }, [stack], at(5)));
  return b.graph;
}

const feeds = Object.fromEntries([0, 1, 2].map((i) => [`x${i}`, random("f32", [2, 4], 10 + i)]));
const forWgsl = (g: Graph, skip: string[] = []) =>
  optimisedKeepingValues(g, feeds, [...ONNX_RUNTIME_REWRITES, ...skip]);
const ops = (g: Graph) => g.nodes.map((n) => n.op).filter((op) => op !== "const" && op !== "input");

describe("stacked parts reduced as their sum", () => {
  it("a mean over the stack: adds and one division, no concat", () => {
    expect(ops(forWgsl(stackedMean("mean")))).toEqual(["add", "add", "div"]);
  });

  it("a sum over the stack along another axis: adds only", () => {
    expect(ops(forWgsl(stackedMean("sum", 1)))).toEqual(["add", "add"]);
  });

  it("the same graph without the pass keeps the concat and the reduction", () => {
    expect(ops(forWgsl(stackedMean("mean"), [PASS]))).toContain("concat");
  });

  it("stays for a max, and for parts more than one slice thick", () => {
    expect(ops(forWgsl(stackedMean("max")))).toContain("reduce");
    expect(ops(forWgsl(stackedMean("mean", 0, 2)))).toContain("reduce");
  });
});
