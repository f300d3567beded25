// Model assembly: opsets, naming, value_info, symbolic dims, reshape targets, weights and metadata.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { dimMul, sym } from "../../src/compiler/ir/dim.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { emitOnnx } from "../../src/backends/onnx/emit.js";
import { decodeModel } from "../../src/backends/onnx/proto.js";
import { runOnnx } from "../../src/backends/onnx/run.js";
import { randomParam } from "../../src/compiler/ir/bind-params.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { i64Values, viewModel } from "../helpers/model.js";
import { checkerTest, ModelBatch } from "../helpers/onnx-check.js";
import { at, expectClose, random, tensor } from "../helpers/ir.js";

const B = sym("B");
const batch = new ModelBatch();

/** x[B,3,4] -> reduce mean/sum, layer_norm, pad, reshape: exercises every opset-dependent lowering. */
function sampleGraph() {
  const b = new GraphBuilder("Sample");
  b.graph.symbols = ["B"];
  b.graph.span = { file: "models/sample.net", start: 0, end: 10, line: 1, col: 1 };
  const x = b.input("x", "f32", [B, 3, 4], at(2));
  const w = b.param({
    path: "backbone.blocks.3.attn.qkv.weight",
    dtype: "f32",
    shape: [4, 4],
    unused: false,
    span: at(3).span,
  });
  const h = b.op1("matmul", {}, [x, w], at(4, "backbone.blocks.3.attn"));
  const m = b.op1("reduce", { kind: "mean", axes: [-1], keepdims: true }, [h], at(5, "backbone.blocks.3"));
  const s = b.op1("reduce", { kind: "sum", axes: [1], keepdims: true }, [h], at(6, "backbone.blocks.3"));
  const n = b.op1(
    "layer_norm",
    { axis: -1, eps: 1e-5 },
    [b.op1("add", {}, [h, b.op1("mul", {}, [m, s], at(7))], at(8))],
    at(9, "norm"),
  );
  const p = b.op1("pad", { pads: [0, 1, 0, 0, 0, 1], value: 0 }, [n], at(10));
  b.output("y", b.op1("reshape", { shape: [B, 20] }, [p], at(11)));
  b.tap("normed", n, at(12).span);
  return b.graph;
}

const X = random("f32", [2, 3, 4], 1);

function emitOk(graph: ReturnType<typeof sampleGraph>, opts: Parameters<typeof emitOnnx>[1] = {}): Uint8Array {
  const r = emitOnnx(graph, opts);
  expect(r.diagnostics).toEqual([]);
  return r.bytes!;
}

const meta = (bytes: Uint8Array) => viewModel(bytes).meta;

describe("opsets", () => {
  it.each([16, 24, 13])("refuses opset %i with NET5002", (opset) => {
    const r = emitOnnx(sampleGraph(), { opset });
    expect(r.bytes).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(["NET5002"]);
  });

  it.each([
    [17, 8],
    [18, 8],
    [19, 9],
    [20, 9],
    [21, 10],
    [22, 10],
    [23, 11],
  ])("opset %i (IR %i) runs in onnxruntime like the interpreter", async (opset, ir) => {
    const g = sampleGraph();
    const bytes = emitOk(g, { opset, seed: 3 });
    const model = viewModel(bytes);
    expect(model.irVersion).toBe(ir);
    expect(model.opsets).toEqual([opset]);
    const inputCount = (op: string) => model.nodes.find((n) => n.opType === op)?.input.length;
    expect(inputCount("ReduceMean")).toBe(opset >= 18 ? 2 : 1);
    expect(inputCount("ReduceSum")).toBe(2);
    batch.add(`sample-opset${opset}`, bytes);
    const weights = new Map([
      [
        "backbone.blocks.3.attn.qkv.weight",
        randomParam({ path: "backbone.blocks.3.attn.qkv.weight", dtype: "f32", shape: [4, 4] }, 3),
      ],
    ]);
    const expected = interpret(g, new Map([["x", X]]), weights).outputs.get("y")!;
    expectClose((await runOnnx(bytes, new Map([["x", X]]))).get("y")!, expected);
  });
});

/**
 * gelu (both forms) and multi-head attention with a relative-position-like bias: the ops newer opsets make single
 * nodes.
 */
function transformerGraph() {
  const b = new GraphBuilder("Block");
  b.graph.symbols = ["B"];
  const q = b.input("q", "f32", [B, 2, 5, 4], at(1));
  const k = b.input("k", "f32", [B, 2, 6, 4], at(2));
  const bias = b.input("bias", "f32", [2, 5, 6], at(3));
  const h = b.op1("attention", { scale: 0.5 }, [q, k, k, bias], at(4, "attn"));
  const exact = b.op1("gelu", { approximate: "none" }, [h], at(5, "mlp"));
  b.output("y", b.op1("gelu", { approximate: "tanh" }, [exact], at(6, "mlp")));
  return b.graph;
}

describe("newer opsets make graphs simpler", () => {
  const inputs = new Map([
    ["q", random("f32", [2, 2, 5, 4], 4)],
    ["k", random("f32", [2, 2, 6, 4], 5)],
    ["bias", random("f32", [2, 5, 6], 6)],
  ]);
  it.each([
    [17, { Gelu: 0, Erf: 1, Tanh: 1, Attention: 0, Softmax: 1 }],
    [20, { Gelu: 2, Erf: 0, Tanh: 0, Attention: 0, Softmax: 1 }],
    [23, { Gelu: 2, Erf: 0, Tanh: 0, Attention: 1, Softmax: 0 }],
  ])("opset %i", async (opset, counts) => {
    const g = transformerGraph();
    const bytes = emitOk(g, { opset });
    const ops = viewModel(bytes).nodes.map((n) => n.opType);
    for (const [op, n] of Object.entries(counts)) expect(ops.filter((o) => o === op).length, op).toBe(n);
    batch.add(`transformer-opset${opset}`, bytes);
    expectClose((await runOnnx(bytes, inputs)).get("y")!, interpret(g, inputs, new Map()).outputs.get("y")!);
  });
});

describe("names, spans and shapes", () => {
  const graph = viewModel(emitOk(sampleGraph(), { debugOutputs: true }));

  it("names nodes <scope>/<Op>_<id>, uniquely, with the span as doc_string", () => {
    const names = graph.nodes.map((n) => n.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain("backbone.blocks.3.attn/MatMul_2");
    expect(names).toContain("norm/LayerNormalization_7");
    expect(graph.nodes.find((n) => n.name === "backbone.blocks.3.attn/MatMul_2")?.docString).toBe("test.net:4:1");
  });

  it("names the initializer of a weight by its path", () => {
    expect(graph.initializers.map((t) => t.name)).toContain("backbone.blocks.3.attn.qkv.weight");
  });

  it("gives every tensor a type: inputs, outputs, and value_info for the rest", () => {
    const typed = new Set([...graph.inputs, ...graph.outputs, ...graph.valueInfo].map((v) => v.name));
    const initializers = new Set(graph.initializers.map((t) => t.name));
    for (const n of graph.nodes) for (const o of n.output) expect(typed.has(o), o).toBe(true);
    for (const n of graph.nodes) for (const i of n.input) expect(typed.has(i) || initializers.has(i), i).toBe(true);
  });

  it("writes symbolic dims as dim_param and static ones as dim_value", () => {
    const dims = (name: string) => [...graph.inputs, ...graph.outputs].find((v) => v.name === name)?.dims;
    expect(dims("x")).toEqual(["B", 3, 4]);
    expect(dims("y")).toEqual(["B", 20]);
  });

  it("emits taps only with debugOutputs", () => {
    expect(graph.outputs.map((o) => o.name)).toEqual(["y", "normed"]);
    expect(viewModel(emitOk(sampleGraph())).outputs.map((o) => o.name)).toEqual(["y"]);
  });

  it("records version, source, weights and symbols in metadata", () => {
    const bytes = emitOk(sampleGraph(), { seed: 42 });
    expect(meta(bytes)).toMatchObject({
      "netc.source": "models/sample.net",
      "netc.weights": "random(seed=42)",
      "netc.symbols": "B",
    });
    expect(meta(bytes)["netc.version"]).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("reshape and expand targets", () => {
  function reshapeModel(build: (b: GraphBuilder) => void) {
    const b = new GraphBuilder("R");
    build(b);
    const bytes = emitOk(b.graph);
    batch.add("reshape", bytes);
    const g = viewModel(bytes);
    const init = new Map(g.initializers.map((t) => [t.name, t]));
    const target = (op: string) => i64Values(init.get(g.nodes.find((n) => n.opType === op)?.input[1] ?? ""));
    return { ops: g.nodes.map((n) => n.opType), target };
  }

  it("uses literals for static shapes and never Shape", () => {
    const { ops, target } = reshapeModel((b) =>
      b.output("y", b.op1("reshape", { shape: [4, 6] }, [b.input("x", "f32", [2, 3, 4], at(1))], at(2))),
    );
    expect(target("Reshape")).toEqual([4, 6]);
    expect(ops).toEqual(["Reshape"]);
  });

  it("copies a symbolic dim that stays in place with 0", () => {
    const { target } = reshapeModel((b) =>
      b.output("y", b.op1("reshape", { shape: [B, 12] }, [b.input("x", "f32", [B, 3, 4], at(1))], at(2))),
    );
    expect(target("Reshape")).toEqual([0, 12]);
  });

  it("infers a single moved symbolic dim with -1", () => {
    const { ops, target } = reshapeModel((b) =>
      b.output("y", b.op1("reshape", { shape: [3, dimMul(4, B)] }, [b.input("x", "f32", [B, 3, 4], at(1))], at(2))),
    );
    expect(target("Reshape")).toEqual([3, -1]);
    expect(ops).not.toContain("Shape");
  });

  it("computes two moved symbolic dims from Shape of the inputs", () => {
    const T = sym("T");
    const { ops } = reshapeModel((b) =>
      b.output("y", b.op1("reshape", { shape: [T, B, 4] }, [b.input("x", "f32", [B, T, 4], at(1))], at(2))),
    );
    expect(ops.filter((o) => o === "Shape")).toHaveLength(2);
    expect(ops).not.toContain("ScatterND");
    expect(ops).not.toContain("Gather");
  });

  it("expands with 1 where the symbolic dim is already there", () => {
    const { ops, target } = reshapeModel((b) =>
      b.output("y", b.op1("expand", { shape: [B, 3, 4] }, [b.input("x", "f32", [B, 1, 4], at(1))], at(2))),
    );
    expect(target("Expand")).toEqual([1, 3, 4]);
    expect(ops).toEqual(["Expand"]);
  });
});

describe("weights and constants", () => {
  function paramGraph() {
    const b = new GraphBuilder("P");
    const x = b.input("x", "f32", [2, 4], at(1));
    const w = b.param({ path: "lin.weight", dtype: "f32", shape: [4, 4], unused: false, span: at(2).span });
    const idx = b.param({
      path: "lin.index",
      dtype: "i64",
      shape: [2],
      unused: false,
      span: at(3).span,
      init: tensor("i64", [2], [3, 1]),
    });
    const y = b.op1("gather", { axis: 1 }, [b.op1("matmul", {}, [x, w], at(4)), idx], at(5));
    b.output("y", y);
    return b.graph;
  }
  const initializer = (bytes: Uint8Array, name: string) => viewModel(bytes).initializers.find((t) => t.name === name);

  it("draws missing float weights from the seed, deterministically, with std 0.02", () => {
    const draw = (seed: number) =>
      Buffer.from(initializer(emitOk(paramGraph(), { seed }), "lin.weight")?.rawData ?? []);
    const [a, again, other] = [draw(7), draw(7), draw(8)];
    expect(a.length).toBe(64);
    expect(a.equals(again)).toBe(true);
    expect(a.equals(other)).toBe(false);
    const big = randomParam({ path: "p", dtype: "f32", shape: [100000] }, 1).data as Float32Array;
    const mean = big.reduce((s, v) => s + v, 0) / big.length;
    const std = Math.sqrt(big.reduce((s, v) => s + (v - mean) ** 2, 0) / big.length);
    expect(Math.abs(mean)).toBeLessThan(0.001);
    expect(std).toBeCloseTo(0.02, 3);
  });

  it("uses the declared init of i64 params", () => {
    expect(i64Values(initializer(emitOk(paramGraph()), "lin.index"))).toEqual([3, 1]);
  });

  it("takes checkpoint tensors and says so in metadata", async () => {
    const w = random("f32", [4, 4], 9);
    const bytes = emitOk(paramGraph(), { weights: new Map([["lin.weight", w]]) });
    expect(meta(bytes)["netc.weights"]).toBe("checkpoint");
    const x = random("f32", [2, 4], 10);
    const expected = interpret(paramGraph(), new Map([["x", x]]), new Map([["lin.weight", w]])).outputs.get("y")!;
    expectClose((await runOnnx(bytes, new Map([["x", x]]))).get("y")!, expected);
    batch.add("params", bytes);
  });

  it("reports a checkpoint tensor of the wrong shape at the param", () => {
    const r = emitOnnx(paramGraph(), { weights: new Map([["lin.weight", random("f32", [4, 5], 1)]]) });
    expect(r.bytes).toBeUndefined();
    expect(r.diagnostics.map((d) => [d.code, d.span?.line])).toEqual([["NET3002", 2]]);
  });

  it("shares one initializer between identical small constants", () => {
    const b = new GraphBuilder("C");
    const x = b.input("x", "f32", [3], at(1));
    const c1 = b.constant(tensor("f32", [3], [1, 2, 3]), at(2));
    const c2 = b.constant(tensor("f32", [3], [1, 2, 3]), at(3));
    b.output("y", b.op1("mul", {}, [b.op1("add", {}, [x, c1], at(4)), c2], at(5)));
    const g = viewModel(emitOk(b.graph));
    expect(g.initializers).toHaveLength(1);
    expect(g.nodes.every((n) => n.opType !== "Constant")).toBe(true);
  });
});

describe("outputs", () => {
  it("copies out inputs, weights and repeated values through Identity", async () => {
    const b = new GraphBuilder("O");
    const x = b.input("x", "f32", [2], at(1));
    const w = b.param({ path: "w", dtype: "f32", shape: [2], unused: false, span: at(2).span });
    const y = b.op1("add", {}, [x, w], at(3));
    b.output("a", y);
    b.output("b", y);
    b.output("c", x);
    b.output("d", w);
    const weights = new Map<string, HostTensor>([["w", tensor("f32", [2], [10, 20])]]);
    const bytes = emitOk(b.graph, { weights });
    batch.add("outputs", bytes);
    const got = await runOnnx(bytes, new Map([["x", tensor("f32", [2], [1, 2])]]));
    expect([...got.keys()].sort()).toEqual(["a", "b", "c", "d"]);
    expect(Array.from(got.get("b")!.data as Float32Array)).toEqual([11, 22]);
    expect(Array.from(got.get("d")!.data as Float32Array)).toEqual([10, 20]);
  });

  it("reports an output named like an input (NET2002)", () => {
    const b = new GraphBuilder("N");
    const x = b.input("x", "f32", [2], at(1));
    b.output("x", b.op1("neg", {}, [x], at(2)), at(3).span);
    expect(emitOnnx(b.graph).diagnostics.map((d) => [d.code, d.span?.line])).toEqual([["NET2002", 3]]);
  });

  it("reports a symbolic dim that no input carries (NET5001)", () => {
    const b = new GraphBuilder("S");
    const x = b.input("x", "f32", [sym("B"), 2], at(1));
    b.output("y", b.op1("expand", { shape: [sym("K"), sym("B"), 2] }, [x], at(4)));
    expect(emitOnnx(b.graph).diagnostics.map((d) => [d.code, d.span?.line])).toEqual([["NET5001", 4]]);
  });
});

describe("kernel-layout weights (--deploy)", () => {
  /** Two Linears reading one shared weight through Transpose, and a weight read both transposed and as is. */
  function linearGraph() {
    const b = new GraphBuilder("Lin");
    const x = b.input("x", "f32", [2, 3, 4], at(1));
    const w = b.param({ path: "fc.weight", dtype: "f32", shape: [5, 4], unused: false, span: at(2).span });
    const u = b.param({ path: "mix", dtype: "f32", shape: [4, 4], unused: false, span: at(3).span });
    const wt = b.op1("transpose", { perm: [1, 0] }, [w], at(4));
    const h = b.op1("matmul", {}, [x, wt], at(5));
    const h2 = b.op1("matmul", {}, [x, b.op1("transpose", { perm: [1, 0] }, [w], at(6))], at(6));
    const m = b.op1(
      "add",
      {},
      [
        b.op1("matmul", {}, [x, b.op1("transpose", { perm: [1, 0] }, [u], at(7))], at(7)),
        b.op1("matmul", {}, [x, u], at(8)),
      ],
      at(8),
    );
    b.output("y", b.op1("add", {}, [h, h2], at(9)));
    b.output("z", m);
    return b.graph;
  }
  const inputs = new Map([["x", random("f32", [2, 3, 4], 7)]]);
  const weights = new Map([
    ["fc.weight", random("f32", [5, 4], 8)],
    ["mix", random("f32", [4, 4], 9)],
  ]);

  it(
    "stores a weight read only through one Transpose transposed, keeps the checkpoint name in the metadata, " +
      "computes the same",
    async () => {
      const g = linearGraph();
      const plain = emitOk(g, { weights });
      const deployed = emitOk(g, { weights, kernelLayoutWeights: true });
      batch.add("kernel-layout-weights", deployed);
      const view = viewModel(deployed);
      const transposesOf = (bytes: Uint8Array) =>
        viewModel(bytes)
          .nodes.filter((n) => n.opType === "Transpose")
          .map((n) => n.input[0]);
      expect(transposesOf(plain).sort()).toEqual(["fc.weight", "fc.weight", "mix"]);
      expect(transposesOf(deployed)).toEqual(["mix"]); // mix is also read as is: stored once, in checkpoint layout
      expect(view.initializers.map((i) => i.name).sort()).toEqual(["fc.weight.T", "mix"]);
      expect(JSON.parse(view.meta["netc.weight_layouts"])).toEqual([
        { name: "fc.weight.T", checkpoint: "fc.weight", perm: [1, 0] },
      ]);
      expect(meta(plain)["netc.weight_layouts"]).toBeUndefined();
      const want = interpret(g, inputs, weights).outputs;
      const got = await runOnnx(deployed, inputs);
      for (const name of ["y", "z"]) expectClose(got.get(name)!, want.get(name)!);
    },
  );

  it("gives transposed shapes without values under structureOnly", () => {
    const r = emitOnnx(linearGraph(), { structureOnly: true, kernelLayoutWeights: true });
    expect(r.diagnostics).toEqual([]);
    const m = decodeModel(r.bytes!);
    expect(m.graph!.initializer!.find((t) => t.name === "fc.weight.T")!.dims!.map(Number)).toEqual([4, 5]);
  });
});

checkerTest(batch);
