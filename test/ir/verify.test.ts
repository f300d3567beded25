// The verifier accepts well-formed graphs and catches each kind of breakage a pass could introduce.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { sym } from "../../src/compiler/ir/dim.js";
import type { Graph, OpAttrs } from "../../src/compiler/ir/ir.js";
import { verifyGraph } from "../../src/compiler/ir/verify.js";
import { at, tensor } from "../helpers/ir.js";

/** x -> exp -> add(w) -> y, with a constant and a param. */
function wellFormed(): Graph {
  const b = new GraphBuilder("G");
  const x = b.input("x", "f32", [sym("B"), 4], at(1));
  const w = b.param({ path: "w", dtype: "f32", shape: [4], unused: false, span: at(2).span });
  const e = b.op1("exp", {}, [x], at(3));
  const c = b.constant(tensor("f32", [4], [1, 2, 3, 4]), at(4));
  b.output("y", b.op1("add", {}, [b.op1("mul", {}, [e, c], at(5)), w], at(6)));
  return b.graph;
}

function failures(g: Graph): string[] {
  const ds = verifyGraph(g, { after: "test pass" });
  for (const d of ds) expect(d.code).toBe("NET4001");
  return ds.map((d) => d.message);
}

describe("verifier", () => {
  it("accepts a well-formed graph", () => {
    expect(verifyGraph(wellFormed())).toEqual([]);
  });

  it("catches a use before definition, at the user's span", () => {
    const g = wellFormed();
    [g.nodes[2], g.nodes[4]] = [g.nodes[4], g.nodes[2]];
    const ds = verifyGraph(g);
    expect(ds.map((d) => d.message)).toEqual([
      "node 4 (mul): input 0 (value 2) is used before node 2 defines it",
      "node 4 (mul): input 1 (value 3) is used before node 3 defines it",
    ]);
    expect(ds[0].span?.line).toBe(5);
  });

  it("catches a value whose producer was removed from the graph", () => {
    const g = wellFormed();
    g.nodes.splice(2, 1);
    expect(failures(g)).toEqual([
      expect.stringMatching(/after test pass: node 4 \(mul\): input 0 .* not in the graph/),
    ]);
  });

  it("catches an output that no node computes", () => {
    const g = wellFormed();
    g.nodes.pop();
    expect(failures(g)).toEqual([expect.stringMatching(/^after test pass: y refers to a value/)]);
  });

  it("catches an output type that inference does not give", () => {
    const g = wellFormed();
    (g.nodes[2].outputs[0] as { dtype: string }).dtype = "f64";
    expect(
      failures(g).some((m) => /node 2 \(exp\): output 0 is f64\[B, 4\] but its inputs give f32\[B, 4\]/.test(m)),
    ).toBe(true);
  });

  it("catches attributes that no longer fit the inputs", () => {
    const g = wellFormed();
    const b = GraphBuilder.resume(g);
    b.output("z", b.op1("reshape", { shape: [sym("B"), 2, 2] }, [g.inputs[0].value], at(7)));
    (g.nodes[6].attrs as OpAttrs["reshape"]).shape = [sym("B"), 3];
    expect(failures(g)).toEqual([expect.stringMatching(/node 6 \(reshape\): reshape: \[B, 4\] has 4\*B elements/)]);
  });

  it("requires spans unless told otherwise", () => {
    const b = new GraphBuilder("S");
    b.output("y", b.op1("neg", {}, [b.input("x", "f32", [2])]));
    expect(failures(b.graph)).toHaveLength(2);
    expect(verifyGraph(b.graph, { requireSpans: false })).toEqual([]);
  });

  it("catches duplicate params, inputs and outputs", () => {
    const g = wellFormed();
    g.params.push({ ...g.params[0] });
    g.inputs.push({ ...g.inputs[0] });
    g.outputs.push({ ...g.outputs[0] });
    expect(failures(g)).toEqual([
      expect.stringMatching(/input x is declared twice/),
      expect.stringMatching(/parameter w is declared twice/),
      expect.stringMatching(/output y is declared twice/),
    ]);
  });

  it("catches a read of an undeclared param and a malformed constant", () => {
    const g = wellFormed();
    g.params = [];
    (g.nodes[3].attrs as OpAttrs["const"]).value = tensor("f32", [4], [1, 2, 3, 4]);
    (g.nodes[3].attrs as OpAttrs["const"]).value.shape = [5];
    const ms = failures(g);
    expect(ms).toContainEqual(expect.stringMatching(/node 1 \(param\): the parameter w is not declared/));
    expect(ms).toContainEqual(expect.stringMatching(/node 3 \(const\): its tensor has 4 elements for shape \[5\]/));
  });

  it("catches reused ids and outputs that name another producer", () => {
    const g = wellFormed();
    (g.nodes[4] as { id: number }).id = 2;
    g.nodes[5].outputs[0].producer = g.nodes[0];
    const ms = failures(g);
    expect(ms).toContainEqual(expect.stringMatching(/node 2 \(mul\): its id is used by another node/));
    expect(ms).toContainEqual(expect.stringMatching(/node 5 \(add\): output 0 .* names another producer/));
  });
});
