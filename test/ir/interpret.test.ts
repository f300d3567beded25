// The interpreter's driver (binding inputs, params and symbols; reporting errors) and its numeric helpers.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { DiagnosticError } from "../../src/diagnostics/diagnostics.js";
import { dimMul, sym } from "../../src/compiler/ir/dim.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { erf } from "../../src/compiler/ir/interp/scalar-math.js";
import { numberToBf16Bits, numberToF16Bits } from "../../src/util/tensor.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { at, random, tensor } from "../helpers/ir.js";

const B = sym("B");

function diagnosticsOf(f: () => unknown): [string, number | undefined, string][] {
  try {
    f();
  } catch (e) {
    if (e instanceof DiagnosticError) return e.diagnostics.map((d) => [d.code, d.span?.line, d.message]);
    throw e;
  }
  return [];
}

/** x[B, 4], y[2*B] -> reshape(x, [2*B, 2]) and a tap. */
function graph(): Graph {
  const b = new GraphBuilder("I");
  const x = b.input("x", "f32", [B, 4], at(1));
  b.input("y", "f32", [dimMul(2, B)], at(2));
  const w = b.param({
    path: "w",
    dtype: "i64",
    shape: [2],
    unused: false,
    span: at(3).span,
    init: tensor("i64", [2], [1, 0]),
  });
  const r = b.op1("reshape", { shape: [dimMul(2, B), 2] }, [x], at(4));
  b.output("g", b.op1("gather", { axis: 1 }, [r, w], at(5)));
  b.tap("r", r);
  return b.graph;
}

const x = random("f32", [3, 4], 1);
const y = random("f32", [6], 2);

describe("interpreter bindings", () => {
  it("binds symbols from inputs, uses a param's declared init, and returns taps", () => {
    const { outputs, taps } = interpret(
      graph(),
      new Map([
        ["x", x],
        ["y", y],
      ]),
      new Map(),
    );
    expect(outputs.get("g")!.shape).toEqual([6, 2]);
    expect(taps.get("r")!.shape).toEqual([6, 2]);
    const xs = x.data as Float32Array;
    expect(Array.from(outputs.get("g")!.data as Float32Array).slice(0, 4)).toEqual([xs[1], xs[0], xs[3], xs[2]]);
  });

  it("reports a missing input, a wrong type, and a shape that contradicts the symbols", () => {
    expect(diagnosticsOf(() => interpret(graph(), new Map([["x", x]]), new Map()))).toEqual([
      ["NET8003", 2, "no value given for the input y"],
    ]);
    expect(
      diagnosticsOf(() =>
        interpret(
          graph(),
          new Map([
            ["x", random("f64", [3, 4], 1)],
            ["y", y],
          ]),
          new Map(),
        ),
      )[0][2],
    ).toMatch(/is f64, the model expects f32/);
    expect(
      diagnosticsOf(() =>
        interpret(
          graph(),
          new Map([
            ["x", x],
            ["y", random("f32", [5], 1)],
          ]),
          new Map(),
        ),
      ),
    ).toEqual([["NET8003", 2, "the input y has 5 on axis 0, the model expects 2*B = 6"]]);
  });

  it("takes symbols from the options", () => {
    expect(
      diagnosticsOf(() =>
        interpret(
          graph(),
          new Map([
            ["x", x],
            ["y", y],
          ]),
          new Map(),
          { symbols: new Map([["B", 4]]) },
        ),
      )[0][2],
    ).toMatch(/the input x has 3 on axis 0, the model expects B = 4/);
  });

  it("reports a param without a value and a checkpoint tensor of the wrong shape", () => {
    const b = new GraphBuilder("P");
    b.output("y", b.param({ path: "w", dtype: "f32", shape: [2], unused: false, span: at(7).span }));
    expect(diagnosticsOf(() => interpret(b.graph, new Map(), new Map()))).toEqual([
      ["NET8003", 7, "no value for the parameter w"],
    ]);
    expect(diagnosticsOf(() => interpret(b.graph, new Map(), new Map([["w", random("f32", [3], 1)]])))[0][2]).toMatch(
      /is f32\[3\], the model declares f32\[2\]/,
    );
  });

  it("reports data-dependent failures at the node's span", () => {
    const b = new GraphBuilder("K");
    const i = b.input("i", "i64", [1], at(1));
    b.output("y", b.op1("gather", { axis: 0 }, [b.input("x", "f32", [3], at(2)), i], at(9)));
    b.output("d", b.op1("div", {}, [i, i], at(10)));
    const run = (idx: number) => () =>
      interpret(
        b.graph,
        new Map<string, HostTensor>([
          ["i", tensor("i64", [1], [idx])],
          ["x", random("f32", [3], 1)],
        ]),
        new Map(),
      );
    expect(diagnosticsOf(run(3))).toEqual([["NET3011", 9, "gather: index 3 is out of range for an axis of size 3"]]);
    expect(diagnosticsOf(run(0))).toEqual([["NET3011", 10, "integer division by zero"]]);
    expect(diagnosticsOf(run(-3))).toEqual([]);
  });
});

describe("numeric helpers", () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66],
    [65504, 0x7bff],
    [65519, 0x7bff],
    [65520, 0x7c00],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000],
    [3 * 2 ** -25, 0x0002],
    [2 ** -14 - 2 ** -25, 0x0400],
    [1 + 2 ** -11, 0x3c00],
    [1 + 3 * 2 ** -11, 0x3c02],
    [-0, 0x8000],
    [Infinity, 0x7c00],
    [NaN, 0x7e00],
  ])("rounds %d to f16 bits %i (nearest, ties to even)", (x, bits) => {
    expect(numberToF16Bits(x)).toBe(bits);
  });

  it("rounds to bf16 with ties to even", () => {
    expect(numberToBf16Bits(1)).toBe(0x3f80);
    expect(numberToBf16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(numberToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(numberToBf16Bits(-2)).toBe(0xc000);
  });

  it.each([
    [0, 0],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [-3, -0.9999779095030014],
    [4.5, 0.9999999998033839],
    [7, 1],
  ])("erf(%d) = %d to double precision", (x, v) => {
    expect(Math.abs(erf(x) - v)).toBeLessThan(1e-15);
  });
});
