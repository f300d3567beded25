// Every core op: a small graph is interpreted, emitted to ONNX, run in onnxruntime-node, and the two compared.
import { afterAll, describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { type Dim, dimMul, dimSymbols, sym } from "../../src/compiler/ir/dim.js";
import type { OpAttrs, OpName, Value } from "../../src/compiler/ir/ir.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { emitOnnx } from "../../src/backends/onnx/emit.js";
import { DEFAULT_OPSET, MAX_OPSET } from "../../src/backends/onnx/opset.js";
import { runOnnx } from "../../src/backends/onnx/run.js";
import type { DType, HostTensor } from "../../src/util/tensor.js";
import { checkerTest, ModelBatch } from "../helpers/onnx-check.js";
import { at, expectClose, random, tensor } from "../helpers/ir.js";

const B = sym("B");
const T = sym("T");

interface OpCase {
  name: string;
  /** Declares inputs (named as in `inputs`) and params, and returns the values to output. */
  build: (b: GraphBuilder, x: Record<string, Value>) => Value[];
  /** Declared input types; the actual tensors may bind symbols in them. */
  decl: Record<string, [DType, Dim[]]>;
  inputs: Record<string, HostTensor>;
  params?: Record<string, HostTensor>;
  opset?: number;
}

const batch = new ModelBatch();
const covered = new Set<OpName>();

async function check(c: OpCase, opset: number): Promise<void> {
  const b = new GraphBuilder(c.name);
  const x: Record<string, Value> = {};
  for (const [name, [dtype, shape]] of Object.entries(c.decl)) x[name] = b.input(name, dtype, shape, at(1));
  for (const [path, t] of Object.entries(c.params ?? {}))
    x[path] = b.param({ path, dtype: t.dtype, shape: t.shape, unused: false, span: at(2).span });
  c.build(b, x).forEach((v, i) => b.output(`y${i}`, v));
  b.graph.symbols = [...new Set(Object.values(c.decl).flatMap(([, shape]) => shape.flatMap(dimSymbols)))];
  for (const n of b.graph.nodes) covered.add(n.op);

  const inputs = new Map(Object.entries(c.inputs));
  const params = new Map(Object.entries(c.params ?? {}));
  const expected = interpret(b.graph, inputs, params).outputs;
  const { bytes, diagnostics } = emitOnnx(b.graph, { weights: params, opset });
  expect(diagnostics).toEqual([]);
  batch.add(`${c.name} opset ${opset}`, bytes!);
  const got = await runOnnx(bytes!, inputs);
  for (const [name, t] of expected) expectClose(got.get(name)!, t, 1e-5, `${c.name}: ${name}`);
}

const f32 = (shape: number[], seed: number, lo = -2, hi = 2) => random("f32", shape, seed, lo, hi);

/** One op on one input x of the given declared and actual shapes. */
function unary<K extends OpName>(
  name: string,
  op: K,
  attrs: OpAttrs[K],
  x: HostTensor,
  decl: Dim[] = x.shape,
  opset?: number,
): OpCase {
  return {
    name,
    decl: { x: [x.dtype, decl] },
    inputs: { x },
    opset,
    build: (b, v) => b.op(op, attrs, [v.x], at(3, "blk")),
  };
}

/** One op on inputs a and b. */
function binary<K extends OpName>(
  name: string,
  op: K,
  attrs: OpAttrs[K],
  a: HostTensor,
  bt: HostTensor,
  declA: Dim[] = a.shape,
): OpCase {
  return {
    name,
    decl: { a: [a.dtype, declA], b: [bt.dtype, bt.shape] },
    inputs: { a, b: bt },
    build: (b, v) => b.op(op, attrs, [v.a, v.b], at(3, "blk")),
  };
}

const FLOAT_UNARY: [OpName, number, number][] = [
  ["neg", -2, 2],
  ["abs", -2, 2],
  ["exp", -2, 2],
  ["log", 0.1, 3],
  ["sqrt", 0.1, 3],
  ["reciprocal", 0.5, 3],
  ["tanh", -2, 2],
  ["sigmoid", -4, 4],
  ["erf", -2, 2],
  ["relu", -2, 2],
  ["floor", -3, 3],
  ["ceil", -3, 3],
  ["sin", -3, 3],
  ["cos", -3, 3],
];

const x234 = f32([2, 3, 4], 1);

const CASES: OpCase[] = [
  ...FLOAT_UNARY.map(([op, lo, hi], i) =>
    unary(`${op} f32 [B,3,4]`, op, {}, f32([2, 3, 4], 10 + i, lo, hi), [B, 3, 4]),
  ),
  ...(["none", "tanh"] as const).flatMap((approximate, i) => [
    unary(`gelu ${approximate} opset 17 (spelled out)`, "gelu", { approximate }, f32([2, 3, 4], 20 + i, -5, 5), [
      B,
      3,
      4,
    ]),
    unary(
      `gelu ${approximate} opset 20 (ONNX Gelu)`,
      "gelu",
      { approximate },
      f32([2, 3, 4], 22 + i, -5, 5),
      [B, 3, 4],
      20,
    ),
  ]),
  unary("neg i64", "neg", {}, random("i64", [5], 3, -9, 9)),
  unary("abs i32", "abs", {}, random("i32", [5], 4, -9, 9)),
  unary("relu i64", "relu", {}, random("i64", [6], 5, -9, 9)),
  unary("not", "not", {}, random("bool", [2, 3], 6)),
  unary("exp f16", "exp", {}, random("f16", [2, 3], 7)),
  unary("softmax f64", "softmax", { axis: 0 }, random("f64", [4, 3], 8)),

  ...(["add", "sub", "mul", "div", "maximum", "minimum", "lt", "le", "gt", "ge", "eq"] as OpName[]).map((op, i) =>
    binary(`${op} f32 broadcast [B,3,4] x [4]`, op, {}, f32([2, 3, 4], 30 + i), f32([4], 50 + i, 0.5, 2), [B, 3, 4]),
  ),
  binary("prelu f32 per-channel slope [B,3,4] x [3,1]", "prelu", {}, f32([2, 3, 4], 59), f32([3, 1], 58, -1, 1), [
    B,
    3,
    4,
  ]),
  binary("prelu f32 one slope", "prelu", {}, f32([5], 57), tensor("f32", [1], [0.25])),
  binary("pow f32", "pow", {}, f32([3, 4], 60, 0.1, 3), f32([3, 1], 61, -2, 2)),
  binary("add i64", "add", {}, random("i64", [3, 4], 62, -100, 100), random("i64", [4], 63, -100, 100)),
  binary(
    "div i64 truncates toward zero",
    "div",
    {},
    tensor("i64", [4], [7, -7, 7, -7]),
    tensor("i64", [4], [2, 2, -2, -2]),
  ),
  binary("div i32", "div", {}, tensor("i32", [3], [9, -9, 100]), tensor("i32", [3], [4, 4, -7])),
  binary("pow i64", "pow", {}, tensor("i64", [4], [2, -3, 5, 0]), tensor("i64", [4], [10, 3, 0, 4])),
  binary("mul u8 wraps", "mul", {}, tensor("u8", [3], [200, 16, 3]), tensor("u8", [3], [2, 16, 5])),
  binary("add i32 wraps", "add", {}, tensor("i32", [2], [2 ** 31 - 1, -(2 ** 31)]), tensor("i32", [2], [1, -1])),
  binary("eq i64", "eq", {}, tensor("i64", [4], [1, 2, 3, 4]), tensor("i64", [4], [1, 0, 3, 0])),
  binary("and", "and", {}, random("bool", [2, 3], 64), random("bool", [3], 65)),
  binary("or", "or", {}, random("bool", [2, 3], 66), random("bool", [2, 1], 67)),
  {
    name: "where [B,3,4]",
    decl: { c: ["bool", [B, 3, 1]], a: ["f32", [B, 3, 4]], b: ["f32", [4]] },
    inputs: { c: random("bool", [2, 3, 1], 70), a: x234, b: f32([4], 71) },
    build: (b, v) => b.op("where", {}, [v.c, v.a, v.b], at(3)),
  },

  unary("cast f32 to i64", "cast", { to: "i64" }, f32([2, 5], 80, -9, 9)),
  unary("cast i64 to f32", "cast", { to: "f32" }, random("i64", [4], 81, -1000, 1000)),
  unary("cast f32 to bool", "cast", { to: "bool" }, tensor("f32", [4], [0, -0, 0.25, -3])),
  unary("cast bool to f32", "cast", { to: "f32" }, random("bool", [4], 82)),
  unary("cast f32 to f16", "cast", { to: "f16" }, f32([8], 83, -70000, 70000)),
  unary("cast f32 to f64", "cast", { to: "f64" }, f32([3], 84)),
  unary("cast i64 to i32 wraps", "cast", { to: "i32" }, tensor("i64", [3], [2n ** 40n + 5n, -1n, 2n ** 31n])),
  unary("cast f16 to f32", "cast", { to: "f32" }, random("f16", [5], 85)),
  unary("clip min and max", "clip", { min: -0.5, max: 1 }, f32([2, 6], 90), [B, 6]),
  unary("clip min only", "clip", { min: 0.25 }, f32([6], 91)),
  unary("clip max only i64", "clip", { max: 3 }, random("i64", [6], 92, -9, 9)),
  unary("clip without bounds", "clip", {}, f32([3], 93)),

  binary("matmul 2-d", "matmul", {}, f32([3, 5], 100), f32([5, 2], 101)),
  binary("matmul batched [B,3,5] x [5,4]", "matmul", {}, f32([2, 3, 5], 102), f32([5, 4], 103), [B, 3, 5]),
  binary("matmul broadcast batch", "matmul", {}, f32([2, 1, 3, 5], 104), f32([4, 5, 2], 105)),
  binary("matmul vector x matrix", "matmul", {}, f32([5], 106), f32([2, 5, 3], 107)),
  binary("matmul matrix x vector", "matmul", {}, f32([3, 5], 108), f32([5], 109)),
  binary("matmul i64", "matmul", {}, random("i64", [2, 3], 110, -5, 5), random("i64", [3, 2], 111, -5, 5)),

  ...(["sum", "mean", "max", "min", "prod"] as const).flatMap((kind, i) => [
    unary(
      `reduce ${kind} keepdims opset 17`,
      "reduce",
      { kind, axes: [1, -1], keepdims: true },
      f32([2, 3, 4], 120 + i, 0.5, 1.5),
      [B, 3, 4],
    ),
    unary(
      `reduce ${kind} opset 18`,
      "reduce",
      { kind, axes: [0], keepdims: false },
      f32([2, 3, 4], 130 + i, 0.5, 1.5),
      [B, 3, 4],
      18,
    ),
  ]),
  unary(
    "reduce mean i64 truncates",
    "reduce",
    { kind: "mean", axes: [1], keepdims: false },
    tensor("i64", [2, 3], [3, -7, 5, -2, 9, -9]),
  ),
  unary("reduce sum i64", "reduce", { kind: "sum", axes: [0], keepdims: false }, random("i64", [3, 4], 140, -50, 50)),
  unary("reduce with no axes is the identity", "reduce", { kind: "sum", axes: [], keepdims: false }, f32([2, 3], 141)),
  unary("argmax", "argmax", { axis: 1, keepdims: false }, f32([2, 5, 3], 150), [B, 5, 3]),
  unary(
    "argmax keepdims first of ties",
    "argmax",
    { axis: -1, keepdims: true },
    tensor("f32", [2, 4], [1, 5, 5, 2, 3, 3, 3, 3]),
  ),
  unary("softmax last axis", "softmax", { axis: -1 }, f32([2, 3, 4], 160, -5, 5), [B, 3, 4]),
  unary("softmax axis 1", "softmax", { axis: 1 }, f32([2, 3, 4], 161, -5, 5)),

  {
    name: "layer_norm with scale and bias [B,T,8]",
    decl: { x: ["f32", [B, T, 8]] },
    inputs: { x: f32([2, 3, 8], 170) },
    params: { "norm.weight": f32([8], 171), "norm.bias": f32([8], 172) },
    build: (b, v) =>
      b.op("layer_norm", { axis: -1, eps: 1e-5 }, [v.x, v["norm.weight"], v["norm.bias"]], at(3, "norm")),
  },
  unary("layer_norm without scale over two axes", "layer_norm", { axis: 1, eps: 1e-3 }, f32([2, 3, 4], 173), [B, 3, 4]),
  {
    name: "layer_norm over a symbolic axis (decomposed) with bias",
    decl: { x: ["f32", [2, T, 4]], bias: ["f32", [T, 4]] },
    inputs: { x: f32([2, 3, 4], 174), bias: f32([3, 4], 175) },
    build: (b, v) => b.op("layer_norm", { axis: 1, eps: 1e-5 }, [v.x, v.bias], at(3)),
  },
  unary("layer_norm over a symbolic axis (decomposed)", "layer_norm", { axis: 1, eps: 1e-5 }, f32([2, 3, 4], 176), [
    2,
    T,
    4,
  ]),
  {
    name: "batch_norm [B,3,T,2] per channel",
    decl: { x: ["f32", [B, 3, T, 2]] },
    inputs: { x: f32([2, 3, 4, 2], 195) },
    params: {
      "bn.weight": f32([3], 196),
      "bn.bias": f32([3], 197),
      "bn.running_mean": f32([3], 198),
      "bn.running_var": f32([3], 199, 0.2, 2),
    },
    build: (b, v) => [
      b.op1(
        "batch_norm",
        { eps: 1e-3 },
        [v.x, v["bn.weight"], v["bn.bias"], v["bn.running_mean"], v["bn.running_var"]],
        at(3, "bn"),
      ),
    ],
  },
  {
    name: "attention [B,2,T,8] with broadcast bias",
    decl: { q: ["f32", [B, 2, T, 8]], k: ["f32", [B, 2, 5, 8]], v: ["f32", [B, 2, 5, 6]] },
    inputs: { q: f32([2, 2, 3, 8], 180), k: f32([2, 2, 5, 8], 181), v: f32([2, 2, 5, 6], 182) },
    params: { "attn.bias": f32([1, 5], 183) },
    build: (b, v) => b.op("attention", { scale: 8 ** -0.5 }, [v.q, v.k, v.v, v["attn.bias"]], at(3, "attn")),
  },
  {
    name: "attention [B,2,T,8] with a full [B,2,T,5] bias",
    decl: { q: ["f32", [B, 2, T, 8]], k: ["f32", [B, 2, 5, 8]], v: ["f32", [B, 2, 5, 6]], bias: ["f32", [B, 2, T, 5]] },
    inputs: {
      q: f32([2, 2, 3, 8], 187),
      k: f32([2, 2, 5, 8], 188),
      v: f32([2, 2, 5, 6], 189),
      bias: f32([2, 2, 3, 5], 190),
    },
    build: (b, v) => b.op("attention", { scale: 0.3 }, [v.q, v.k, v.v, v.bias], at(3, "attn")),
  },
  {
    name: "attention [B,2,T,8] with a per-head [2,T,5] bias",
    decl: { q: ["f32", [B, 2, T, 8]], k: ["f32", [B, 2, 5, 8]], v: ["f32", [B, 2, 5, 6]], bias: ["f32", [2, T, 5]] },
    inputs: {
      q: f32([2, 2, 3, 8], 191),
      k: f32([2, 2, 5, 8], 192),
      v: f32([2, 2, 5, 6], 193),
      bias: f32([2, 3, 5], 194),
    },
    build: (b, v) => b.op("attention", { scale: 0.3 }, [v.q, v.k, v.v, v.bias], at(3, "attn")),
  },
  {
    name: "attention without bias, unit scale, broadcast batch",
    decl: { q: ["f32", [2, 3, 4]], k: ["f32", [1, 5, 4]], v: ["f32", [2, 5, 4]] },
    inputs: { q: f32([2, 3, 4], 184), k: f32([1, 5, 4], 185), v: f32([2, 5, 4], 186) },
    build: (b, v) => b.op("attention", { scale: 1 }, [v.q, v.k, v.v], at(3)),
  },

  {
    name: "lstm with biases [T,B,I], PyTorch weight layout",
    decl: { x: ["f32", [T, B, 3]] },
    inputs: { x: f32([5, 2, 3], 185) },
    params: {
      w_ih: f32([16, 3], 186, -1, 1),
      w_hh: f32([16, 4], 187, -1, 1),
      b_ih: f32([16], 188, -1, 1),
      b_hh: f32([16], 189, -1, 1),
    },
    build: (b, v) => b.op("lstm", { reverse: false, bias: true }, [v.x, v.w_ih, v.w_hh, v.b_ih, v.b_hh], at(3, "lstm")),
  },
  {
    name: "lstm reverse with an initial state",
    decl: { x: ["f32", [4, B, 3]], h0: ["f32", [B, 2]], c0: ["f32", [B, 2]] },
    inputs: { x: f32([4, 3, 3], 176), h0: f32([3, 2], 177, -1, 1), c0: f32([3, 2], 178, -1, 1) },
    params: {
      w_ih: f32([8, 3], 179, -1, 1),
      w_hh: f32([8, 2], 180, -1, 1),
      b_ih: f32([8], 181, -1, 1),
      b_hh: f32([8], 182, -1, 1),
    },
    build: (b, v) =>
      b.op("lstm", { reverse: true, bias: true }, [v.x, v.w_ih, v.w_hh, v.b_ih, v.b_hh, v.h0, v.c0], at(3)),
  },
  {
    name: "lstm without biases, with an initial state",
    decl: { x: ["f32", [3, 2, 4]], h0: ["f32", [2, 3]], c0: ["f32", [2, 3]] },
    inputs: { x: f32([3, 2, 4], 183), h0: f32([2, 3], 184, -1, 1), c0: f32([2, 3], 197, -1, 1) },
    params: { w_ih: f32([12, 4], 198, -1, 1), w_hh: f32([12, 3], 199, -1, 1) },
    build: (b, v) => b.op("lstm", { reverse: false, bias: false }, [v.x, v.w_ih, v.w_hh, v.h0, v.c0], at(3)),
  },

  unary("transpose", "transpose", { perm: [2, 0, 1] }, x234, [B, 3, 4]),
  unary("reshape static", "reshape", { shape: [4, 6] }, x234),
  unary("reshape keeps B in place (copy dim)", "reshape", { shape: [B, 12] }, x234, [B, 3, 4]),
  unary("reshape moves B (-1)", "reshape", { shape: [3, B, 4] }, x234, [B, 3, 4]),
  unary("reshape 2*B (-1)", "reshape", { shape: [dimMul(2, B), 6] }, x234, [B, 3, 4]),
  unary("reshape with two symbols moved (Shape)", "reshape", { shape: [T, B, 4] }, f32([2, 3, 4], 190), [B, T, 4]),
  unary("reshape to polynomial dims (Shape, Mul)", "reshape", { shape: [T, dimMul(4, B)] }, f32([2, 3, 4], 195), [
    B,
    T,
    4,
  ]),
  unary("reshape with a symbol known as 2*B (Shape, Div)", "reshape", { shape: [T, B, 2] }, f32([4, 3], 196), [
    dimMul(2, B),
    T,
  ]),
  unary("expand static", "expand", { shape: [2, 3, 4] }, f32([3, 1], 191)),
  unary("expand keeps B", "expand", { shape: [B, 3, 4] }, f32([2, 1, 4], 192), [B, 1, 4]),
  {
    name: "expand to B from 1 (Shape)",
    decl: { x: ["f32", [1, 4]], y: ["f32", [B, 2]] },
    inputs: { x: f32([1, 4], 193), y: f32([3, 2], 194) },
    build: (b, v) => [b.op1("expand", { shape: [B, 4] }, [v.x], at(3)), v.y],
  },
  unary("slice with step", "slice", { axis: -1, start: 1, end: 4, step: 2 }, x234, [B, 3, 4]),
  unary("slice i64", "slice", { axis: 0, start: 2, end: 5, step: 1 }, random("i64", [6], 200, -9, 9)),
  {
    name: "concat [B,...]",
    decl: { a: ["f32", [B, 3, 4]], b: ["f32", [B, 2, 4]] },
    inputs: { a: x234, b: f32([2, 2, 4], 201) },
    build: (b, v) => b.op("concat", { axis: 1 }, [v.a, v.b, v.a], at(3)),
  },
  unary("pad f32", "pad", { pads: [0, 1, 2, 1, 0, 1], value: -1.5 }, x234, [B, 3, 4]),
  unary("pad i64", "pad", { pads: [2, 1], value: 7 }, random("i64", [3], 202, -9, 9)),
  unary("pad bool", "pad", { pads: [1, 0, 0, 1], value: 1 }, random("bool", [2, 2], 203)),
  {
    name: "gather 2-d indices with negatives",
    decl: { x: ["f32", [B, 5, 3]], i: ["i64", [2, 2]] },
    inputs: { x: f32([2, 5, 3], 210), i: tensor("i64", [2, 2], [0, -1, 3, 2]) },
    build: (b, v) => b.op("gather", { axis: 1 }, [v.x, v.i], at(3)),
  },
  {
    name: "gather scalar index",
    decl: { x: ["f32", [4, 3]], i: ["i64", []] },
    inputs: { x: f32([4, 3], 211), i: tensor("i64", [], [2]) },
    build: (b, v) => b.op("gather", { axis: 0 }, [v.x, v.i], at(3)),
  },
  {
    name: "gather_elements",
    decl: { x: ["f32", [B, 5, 3]], i: ["i64", [B, 4, 3]] },
    inputs: { x: f32([2, 5, 3], 212), i: random("i64", [2, 4, 3], 213, -5, 5) },
    build: (b, v) => b.op("gather_elements", { axis: 1 }, [v.x, v.i], at(3)),
  },

  {
    name: "conv2d groups, dilation, stride, asymmetric pads, bias",
    decl: { x: ["f32", [B, 4, 7, 6]] },
    inputs: { x: f32([2, 4, 7, 6], 220) },
    params: { "conv.weight": f32([6, 2, 3, 2], 221), "conv.bias": f32([6], 222) },
    build: (b, v) =>
      b.op(
        "conv",
        { strides: [2, 1], pads: [2, 1, 1, 0], dilations: [1, 2], groups: 2 },
        [v.x, v["conv.weight"], v["conv.bias"]],
        at(3, "conv"),
      ),
  },
  {
    name: "conv1d without bias",
    decl: { x: ["f32", [1, 3, 9]] },
    inputs: { x: f32([1, 3, 9], 223) },
    params: { w: f32([2, 3, 3], 224) },
    build: (b, v) => b.op("conv", { strides: [2], pads: [2, 2], dilations: [1], groups: 1 }, [v.x, v.w], at(3)),
  },
  unary(
    "max_pool asymmetric pads",
    "max_pool",
    { kernel: [3, 2], strides: [2, 2], pads: [1, 1, 1, 0] },
    f32([2, 2, 5, 6], 230),
    [B, 2, 5, 6],
  ),
  unary("max_pool 1-d", "max_pool", { kernel: [2], strides: [2], pads: [0, 0] }, f32([1, 3, 8], 231)),
  unary(
    "avg_pool counting pads",
    "avg_pool",
    { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], countIncludePad: true },
    f32([2, 2, 5, 6], 232),
    [B, 2, 5, 6],
  ),
  unary(
    "avg_pool excluding pads",
    "avg_pool",
    { kernel: [3, 3], strides: [2, 1], pads: [1, 0, 1, 1], countIncludePad: false },
    f32([1, 2, 5, 6], 233),
  ),
  unary(
    "resize bilinear align_corners, shrink [B,C,H,W]",
    "resize",
    { sizes: [4, 3], alignCorners: true },
    f32([2, 2, 9, 7], 234),
    [B, 2, 9, 7],
  ),
  unary("resize bilinear align_corners, grow", "resize", { sizes: [7, 5], alignCorners: true }, f32([1, 2, 3, 4], 235)),
  unary(
    "resize bilinear half-pixel, grow and shrink",
    "resize",
    { sizes: [9, 2], alignCorners: false },
    f32([2, 3, 4, 5], 236),
    [B, 3, 4, 5],
  ),
  unary("resize to one pixel", "resize", { sizes: [1, 1], alignCorners: true }, f32([1, 2, 3, 4], 237)),
  unary("resize 1-d linear half-pixel", "resize", { sizes: [7], alignCorners: false }, f32([2, 3, 5], 238)),
  unary(
    "resize 3-d trilinear align_corners",
    "resize",
    { sizes: [3, 4, 2], alignCorners: true },
    f32([1, 2, 2, 3, 5], 239),
  ),

  unary("topk largest", "topk", { axis: -1, k: 3, largest: true }, f32([2, 3, 7], 240), [B, 3, 7]),
  unary("topk smallest axis 0", "topk", { axis: 0, k: 2, largest: false }, f32([5, 3], 241)),
  unary(
    "topk ties by lower index",
    "topk",
    { axis: 1, k: 4, largest: true },
    tensor("f32", [1, 6], [1, 3, 3, 0, 3, 1]),
  ),
  unary("topk i64", "topk", { axis: 0, k: 2, largest: true }, tensor("i64", [5], [4, -2, 9, 4, 0])),

  {
    name: "sample_linear per-batch positions [B,T,C] axis 1",
    decl: { x: ["f32", [B, 6, 3]], p: ["f32", [B, 4]] },
    inputs: { x: f32([2, 6, 3], 250), p: f32([2, 4], 251, -1, 6.5) },
    build: (b, v) => b.op("sample_linear", { axis: 1 }, [v.x, v.p], at(3, "issm")),
  },
  {
    name: "sample_linear shared positions [1,K]",
    decl: { x: ["f32", [B, 6, 3]], p: ["f32", [1, 5]] },
    inputs: { x: f32([2, 6, 3], 252), p: f32([1, 5], 253, -1, 6.5) },
    build: (b, v) => b.op("sample_linear", { axis: 1 }, [v.x, v.p], at(3)),
  },
  {
    name: "sample_linear on axis 0",
    decl: { x: ["f32", [6, 3]], p: ["f32", [4]] },
    inputs: { x: f32([6, 3], 254), p: tensor("f32", [4], [0, 2.5, 5, 9]) },
    build: (b, v) => b.op("sample_linear", { axis: 0 }, [v.x, v.p], at(3)),
  },
  {
    name: "sample_linear last axis, mixed leading dims",
    decl: { x: ["f32", [B, 3, 6]], p: ["f32", [1, 3, 4]] },
    inputs: { x: f32([2, 3, 6], 255), p: f32([1, 3, 4], 256, 0, 5) },
    build: (b, v) => b.op("sample_linear", { axis: 2 }, [v.x, v.p], at(3)),
  },
  {
    name: "sample_linear f64 positions for f32 data",
    decl: { x: ["f32", [2, 6]], p: ["f64", [2, 3]] },
    inputs: { x: f32([2, 6], 257), p: random("f64", [2, 3], 258, 0, 5) },
    build: (b, v) => b.op("sample_linear", { axis: 1 }, [v.x, v.p], at(3)),
  },

  {
    name: "const and param sources",
    decl: { x: ["f32", [B, 4]] },
    inputs: { x: f32([2, 4], 260) },
    params: { "lin.weight": f32([4, 4], 261) },
    build: (b, v) => [
      b.op1("add", {}, [b.op1("matmul", {}, [v.x, v["lin.weight"]], at(3)), b.constant(f32([4], 262), at(4))], at(5)),
    ],
  },
];

describe("core ops: interpreter vs onnxruntime", () => {
  afterAll(() => {
    // Every op in OpAttrs has at least one case above.
    const all: Record<OpName, true> = {
      input: true,
      param: true,
      const: true,
      neg: true,
      abs: true,
      exp: true,
      log: true,
      sqrt: true,
      reciprocal: true,
      tanh: true,
      sigmoid: true,
      erf: true,
      gelu: true,
      relu: true,
      batch_norm: true,
      floor: true,
      ceil: true,
      sin: true,
      cos: true,
      not: true,
      add: true,
      sub: true,
      mul: true,
      div: true,
      pow: true,
      maximum: true,
      minimum: true,
      prelu: true,
      lt: true,
      le: true,
      gt: true,
      ge: true,
      eq: true,
      and: true,
      or: true,
      where: true,
      cast: true,
      clip: true,
      matmul: true,
      reduce: true,
      argmax: true,
      softmax: true,
      layer_norm: true,
      attention: true,
      lstm: true,
      transpose: true,
      reshape: true,
      expand: true,
      slice: true,
      concat: true,
      pad: true,
      gather: true,
      gather_elements: true,
      conv: true,
      max_pool: true,
      avg_pool: true,
      resize: true,
      topk: true,
      sample_linear: true,
    };
    expect(Object.keys(all).filter((op) => !covered.has(op as OpName))).toEqual([]);
  });
  // Cases without an opset of their own run at the default and at the newest opset, whose lowerings differ
  // (e.g. Gelu, Attention, reduce axes as inputs).
  for (const c of CASES)
    for (const opset of c.opset ? [c.opset] : [DEFAULT_OPSET, MAX_OPSET])
      it(`${c.name} (opset ${opset})`, () => check(c, opset));
  checkerTest(batch);
});
