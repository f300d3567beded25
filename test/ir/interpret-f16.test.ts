// The interpreter's f16 storage (the reference for --precision f16 bundles): every f32 value is rounded to f16
// when stored (inputs, weights, each op's result), while each op computes and accumulates in f32.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { at, tensor } from "../helpers/ir.js";

/** f16's nearest value for normal magnitudes, by scaling (apart from netc's encoder; the inputs avoid ties). */
function f16(x: number): number {
  const step = 2 ** (Math.floor(Math.log2(Math.abs(x))) - 10);
  return Math.round(x / step) * step;
}

describe("interpret with storage f16", () => {
  it("rounds inputs, weights and every op's result to f16", () => {
    const b = new GraphBuilder("F16");
    const x = b.input("x", "f32", [3], at(1));
    const w = b.param({ path: "w", dtype: "f32", shape: [3], unused: false, span: at(2).span });
    const m = b.op1("mul", {}, [x, w], at(3));
    b.output("y", b.op1("add", {}, [m, x], at(4)));
    const g = b.graph;
    const xs = [0.1234567, 5.55559, -7.77777];
    const ws = [1.0009, 0.3333333, 2.53217];
    const inputs = new Map([["x", tensor("f32", [3], xs)]]);
    const params = new Map([["w", tensor("f32", [3], ws)]]);
    const half = interpret(g, inputs, params, { storage: "f16" }).outputs.get("y")!.data as Float32Array;
    const full = interpret(g, inputs, params).outputs.get("y")!.data as Float32Array;
    xs.forEach((xv, i) => {
      const [xr, wr] = [f16(Math.fround(xv)), f16(Math.fround(ws[i]))];
      expect(half[i]).toBe(f16(Math.fround(f16(Math.fround(xr * wr)) + xr)));
      expect(full[i]).toBe(Math.fround(Math.fround(Math.fround(xv) * Math.fround(ws[i])) + Math.fround(xv)));
      expect(half[i]).not.toBe(full[i]);
    });
  });

  it("accumulates in f32: 2048 plus ten ones is 2058, where an f16 sum would stay at 2048", () => {
    const b = new GraphBuilder("Sum");
    const x = b.input("x", "f32", [11], at(1));
    b.output("s", b.op1("reduce", { kind: "sum", axes: [0], keepdims: false }, [x], at(2)));
    const s = interpret(b.graph, new Map([["x", tensor("f32", [11], [2048, ...Array(10).fill(1)])]]), new Map(), {
      storage: "f16",
    });
    expect(Array.from(s.outputs.get("s")!.data as Float32Array)).toEqual([2058]);
  });
});
