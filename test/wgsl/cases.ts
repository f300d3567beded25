// Small single-op graphs covering every core IR op and its corner cases (static shapes: the WGSL target
// specialises every dimension). The op tests put them all in one graph so the pipelines compile in one batch.
import type { GraphBuilder } from "../../src/compiler/ir/builder.js";
import type { OpAttrs, OpName, Value } from "../../src/compiler/ir/ir.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { at, random, tensor } from "../helpers/ir.js";

export interface OpCase {
  name: string;
  /** Builds the case from its inputs and params (by name) and returns the values to output. */
  build: (b: GraphBuilder, x: Record<string, Value>, line: number) => Value[];
  inputs: Record<string, HostTensor>;
  params?: Record<string, HostTensor>;
}

const f32 = (shape: number[], seed: number, lo = -2, hi = 2) => random("f32", shape, seed, lo, hi);

function unary<K extends OpName>(name: string, op: K, attrs: OpAttrs[K], x: HostTensor): OpCase {
  return { name, inputs: { x }, build: (b, v, line) => b.op(op, attrs, [v.x], at(line, "blk")) };
}

function binary<K extends OpName>(name: string, op: K, attrs: OpAttrs[K], a: HostTensor, bt: HostTensor): OpCase {
  return { name, inputs: { a, b: bt }, build: (b, v, line) => b.op(op, attrs, [v.a, v.b], at(line, "blk")) };
}

const FLOAT_UNARY: [OpName, number, number][] = [
  ["neg", -2, 2],
  ["abs", -2, 2],
  ["exp", -2, 2],
  ["log", 0.1, 3],
  ["sqrt", 0.1, 3],
  ["reciprocal", 0.5, 3],
  ["tanh", -4, 4],
  ["sigmoid", -6, 6],
  ["erf", -3, 3],
  ["relu", -2, 2],
  ["floor", -3, 3],
  ["ceil", -3, 3],
  ["sin", -3, 3],
  ["cos", -3, 3],
];

const x234 = f32([2, 3, 4], 1);

export const OP_CASES: OpCase[] = [
  ...FLOAT_UNARY.map(([op, lo, hi], i) => unary(`${op} f32`, op, {}, f32([2, 3, 4], 10 + i, lo, hi))),
  unary("gelu f32", "gelu", { approximate: "none" }, f32([2, 3, 4], 24, -5, 5)),
  unary("gelu tanh f32", "gelu", { approximate: "tanh" }, f32([2, 3, 4], 25, -5, 5)),
  unary("neg i64", "neg", {}, random("i64", [5], 3, -9, 9)),
  unary("abs i32", "abs", {}, random("i32", [5], 4, -9, 9)),
  unary("relu i64", "relu", {}, random("i64", [6], 5, -9, 9)),
  unary("not", "not", {}, random("bool", [2, 3], 6)),
  unary("exp f16", "exp", {}, random("f16", [2, 3], 7)),

  ...(["add", "sub", "mul", "div", "maximum", "minimum", "lt", "le", "gt", "ge", "eq"] as OpName[]).map((op, i) =>
    binary(`${op} f32 broadcast [2,3,4] x [4]`, op, {}, f32([2, 3, 4], 30 + i), f32([4], 50 + i, 0.5, 2)),
  ),
  binary("sub f32 broadcast [2,1,4] x [3,1]", "sub", {}, f32([2, 1, 4], 57), f32([3, 1], 58)),
  binary("prelu f32 per-channel slope [2,3,4] x [3,1]", "prelu", {}, f32([2, 3, 4], 59), f32([3, 1], 56)),
  binary("pow f32", "pow", {}, f32([3, 4], 60, 0.1, 3), f32([3, 1], 61, -2, 2)),
  binary(
    "pow f32 negative base, integral exponent",
    "pow",
    {},
    tensor("f32", [4], [-2, -3, -0.5, 2]),
    tensor("f32", [4], [3, 2, -1, 0.5]),
  ),
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
    name: "where",
    inputs: { c: random("bool", [2, 3, 1], 70), a: x234, b: f32([4], 71) },
    build: (b, v, line) => b.op("where", {}, [v.c, v.a, v.b], at(line)),
  },

  unary("cast f32 to i64", "cast", { to: "i64" }, f32([2, 5], 80, -9, 9)),
  unary("cast i64 to f32", "cast", { to: "f32" }, random("i64", [4], 81, -1000, 1000)),
  unary("cast f32 to bool", "cast", { to: "bool" }, tensor("f32", [4], [0, -0, 0.25, -3])),
  unary("cast bool to f32", "cast", { to: "f32" }, random("bool", [4], 82)),
  unary("cast f32 to f16", "cast", { to: "f16" }, f32([8], 83, -70000, 70000)),
  unary("cast f32 to u8", "cast", { to: "u8" }, f32([4], 87, 0, 250)),
  unary("cast i32 to i64", "cast", { to: "i64" }, tensor("i32", [3], [-5, 0, 2 ** 31 - 1])),
  unary("cast f16 to f32", "cast", { to: "f32" }, random("f16", [5], 85)),
  unary("clip min and max", "clip", { min: -0.5, max: 1 }, f32([2, 6], 90)),
  unary("clip min only", "clip", { min: 0.25 }, f32([6], 91)),
  unary("clip max only i64", "clip", { max: 3 }, random("i64", [6], 92, -9, 9)),
  unary("clip without bounds", "clip", {}, f32([3], 93)),

  binary("matmul 2-d", "matmul", {}, f32([3, 5], 100), f32([5, 2], 101)),
  binary("matmul batched [2,3,5] x [5,4]", "matmul", {}, f32([2, 3, 5], 102), f32([5, 4], 103)),
  binary("matmul broadcast batch", "matmul", {}, f32([2, 1, 3, 5], 104), f32([4, 5, 2], 105)),
  binary("matmul vector x matrix", "matmul", {}, f32([5], 106), f32([2, 5, 3], 107)),
  binary("matmul matrix x vector", "matmul", {}, f32([3, 5], 108), f32([5], 109)),
  binary("matmul i64", "matmul", {}, random("i64", [2, 3], 110, -5, 5), random("i64", [3, 2], 111, -5, 5)),
  binary("matmul large enough to tile, ragged edges", "matmul", {}, f32([130, 70], 112), f32([70, 120], 113)),

  ...(["sum", "mean", "max", "min", "prod"] as const).flatMap((kind, i) => [
    unary(
      `reduce ${kind} keepdims`,
      "reduce",
      { kind, axes: [1, -1], keepdims: true },
      f32([2, 3, 4], 120 + i, 0.5, 1.5),
    ),
    unary(`reduce ${kind} axis 0`, "reduce", { kind, axes: [0], keepdims: false }, f32([2, 3, 4], 130 + i, 0.5, 1.5)),
  ]),
  unary("reduce sum over 600 (workgroup)", "reduce", { kind: "sum", axes: [1], keepdims: false }, f32([3, 600], 142)),
  unary(
    "reduce max over 2 axes of 300 (workgroup)",
    "reduce",
    { kind: "max", axes: [0, 2], keepdims: true },
    f32([20, 2, 15], 143),
  ),
  unary(
    "reduce mean i64 truncates",
    "reduce",
    { kind: "mean", axes: [1], keepdims: false },
    tensor("i64", [2, 3], [3, -7, 5, -2, 9, -9]),
  ),
  unary("reduce sum i64", "reduce", { kind: "sum", axes: [0], keepdims: false }, random("i64", [3, 4], 140, -50, 50)),
  unary("reduce with no axes is the identity", "reduce", { kind: "sum", axes: [], keepdims: false }, f32([2, 3], 141)),
  unary("argmax", "argmax", { axis: 1, keepdims: false }, f32([2, 5, 3], 150)),
  unary(
    "argmax keepdims first of ties",
    "argmax",
    { axis: -1, keepdims: true },
    tensor("f32", [2, 4], [1, 5, 5, 2, 3, 3, 3, 3]),
  ),
  unary("softmax last axis", "softmax", { axis: -1 }, f32([2, 3, 4], 160, -5, 5)),
  unary("softmax axis 1", "softmax", { axis: 1 }, f32([2, 3, 4], 161, -5, 5)),
  unary("softmax over 300", "softmax", { axis: -1 }, f32([2, 300], 162, -5, 5)),

  {
    name: "layer_norm with scale and bias",
    inputs: { x: f32([2, 3, 8], 170) },
    params: { "norm.weight": f32([8], 171), "norm.bias": f32([8], 172) },
    build: (b, v, line) =>
      b.op("layer_norm", { axis: -1, eps: 1e-5 }, [v.x, v["norm.weight"], v["norm.bias"]], at(line, "norm")),
  },
  unary("layer_norm without scale over two axes", "layer_norm", { axis: 1, eps: 1e-3 }, f32([2, 3, 4], 173)),
  unary("layer_norm over 768", "layer_norm", { axis: -1, eps: 1e-6 }, f32([3, 768], 177, -3, 5)),
  {
    name: "attention with broadcast bias",
    inputs: { q: f32([2, 2, 3, 8], 180), k: f32([2, 2, 5, 8], 181), v: f32([2, 2, 5, 6], 182) },
    params: { "attn.bias": f32([1, 5], 183) },
    build: (b, v, line) => b.op("attention", { scale: 8 ** -0.5 }, [v.q, v.k, v.v, v["attn.bias"]], at(line, "attn")),
  },
  {
    name: "attention without bias, unit scale, broadcast batch",
    inputs: { q: f32([2, 3, 4], 184), k: f32([1, 5, 4], 185), v: f32([2, 5, 4], 186) },
    build: (b, v, line) => b.op("attention", { scale: 1 }, [v.q, v.k, v.v], at(line)),
  },
  {
    name: "attention tiled over many key tiles and query blocks",
    inputs: { q: f32([1, 2, 200, 32], 187), k: f32([1, 2, 97, 32], 188), v: f32([1, 2, 97, 24], 189) },
    params: { "long.bias": f32([1, 2, 200, 97], 190) },
    build: (b, v, line) => b.op("attention", { scale: 0.25 }, [v.q, v.k, v.v, v["long.bias"]], at(line, "long")),
  },

  {
    name: "lstm with biases, PyTorch weight layout",
    inputs: { x: f32([5, 2, 3], 185) },
    params: {
      w_ih: f32([16, 3], 186, -1, 1),
      w_hh: f32([16, 4], 187, -1, 1),
      b_ih: f32([16], 188, -1, 1),
      b_hh: f32([16], 189, -1, 1),
    },
    build: (b, v, line) =>
      b.op("lstm", { reverse: false, bias: true }, [v.x, v.w_ih, v.w_hh, v.b_ih, v.b_hh], at(line, "lstm")),
  },
  {
    name: "lstm reverse with an initial state",
    inputs: { x: f32([4, 3, 3], 176), h0: f32([3, 2], 177, -1, 1), c0: f32([3, 2], 178, -1, 1) },
    params: {
      w_ih: f32([8, 3], 179, -1, 1),
      w_hh: f32([8, 2], 180, -1, 1),
      b_ih: f32([8], 181, -1, 1),
      b_hh: f32([8], 182, -1, 1),
    },
    // Seven inputs and the sequence fill WebGPU's default eight storage bindings; h_n and c_n go unused.
    build: (b, v, line) =>
      b
        .op("lstm", { reverse: true, bias: true }, [v.x, v.w_ih, v.w_hh, v.b_ih, v.b_hh, v.h0, v.c0], at(line))
        .slice(0, 1),
  },
  {
    name: "lstm without biases, more hidden units than threads",
    inputs: { x: f32([3, 2, 4], 183), h0: f32([2, 300], 184, -1, 1), c0: f32([2, 300], 197, -1, 1) },
    params: { w_ih: f32([1200, 4], 198, -0.1, 0.1), w_hh: f32([1200, 300], 199, -0.1, 0.1) },
    build: (b, v, line) => b.op("lstm", { reverse: false, bias: false }, [v.x, v.w_ih, v.w_hh, v.h0, v.c0], at(line)),
  },
  {
    // An even number of steps leaves the last hidden state in the other half of the double buffer.
    name: "lstm reverse, even step count, h_n and c_n",
    inputs: { x: f32([6, 3, 5], 192) },
    params: {
      w_ih: f32([28, 5], 193, -1, 1),
      w_hh: f32([28, 7], 194, -1, 1),
      b_ih: f32([28], 195, -1, 1),
      b_hh: f32([28], 196, -1, 1),
    },
    build: (b, v, line) => b.op("lstm", { reverse: true, bias: true }, [v.x, v.w_ih, v.w_hh, v.b_ih, v.b_hh], at(line)),
  },

  unary(
    "resize bilinear align_corners, shrink",
    "resize",
    { sizes: [4, 3], alignCorners: true },
    f32([2, 2, 9, 7], 234),
  ),
  unary("resize bilinear align_corners, grow", "resize", { sizes: [7, 5], alignCorners: true }, f32([1, 2, 3, 4], 235)),
  unary(
    "resize bilinear half-pixel, grow and shrink",
    "resize",
    { sizes: [9, 2], alignCorners: false },
    f32([2, 3, 4, 5], 236),
  ),
  unary("resize to one pixel", "resize", { sizes: [1, 1], alignCorners: true }, f32([1, 2, 3, 4], 237)),
  unary("resize 1-d linear half-pixel", "resize", { sizes: [7], alignCorners: false }, f32([2, 3, 5], 238)),
  unary(
    "resize 3-d trilinear align_corners",
    "resize",
    { sizes: [3, 4, 2], alignCorners: true },
    f32([1, 2, 2, 3, 5], 239),
  ),
  // Half-pixel to a single row samples the middle of the input (PyTorch's rule), not its first row.
  unary("resize half-pixel to one row", "resize", { sizes: [1, 4], alignCorners: false }, f32([1, 2, 6, 7], 242)),

  unary("transpose", "transpose", { perm: [2, 0, 1] }, x234),
  unary("reshape", "reshape", { shape: [4, 6] }, x234),
  unary("expand", "expand", { shape: [2, 3, 4] }, f32([3, 1], 191)),
  unary("slice with step", "slice", { axis: -1, start: 1, end: 4, step: 2 }, x234),
  unary("slice i64", "slice", { axis: 0, start: 2, end: 5, step: 1 }, random("i64", [6], 200, -9, 9)),
  {
    name: "concat",
    inputs: { a: x234, b: f32([2, 2, 4], 201) },
    build: (b, v, line) => b.op("concat", { axis: 1 }, [v.a, v.b, v.a], at(line)),
  },
  unary("pad f32", "pad", { pads: [0, 1, 2, 1, 0, 1], value: -1.5 }, x234),
  unary("pad i64", "pad", { pads: [2, 1], value: 7 }, random("i64", [3], 202, -9, 9)),
  unary("pad bool", "pad", { pads: [1, 0, 0, 1], value: 1 }, random("bool", [2, 2], 203)),
  {
    name: "gather 2-d indices with negatives",
    inputs: { x: f32([2, 5, 3], 210), i: tensor("i64", [2, 2], [0, -1, 3, 2]) },
    build: (b, v, line) => b.op("gather", { axis: 1 }, [v.x, v.i], at(line)),
  },
  {
    name: "gather scalar index",
    inputs: { x: f32([4, 3], 211), i: tensor("i64", [], [2]) },
    build: (b, v, line) => b.op("gather", { axis: 0 }, [v.x, v.i], at(line)),
  },
  {
    name: "gather_elements",
    inputs: { x: f32([2, 5, 3], 212), i: random("i64", [2, 4, 3], 213, -5, 5) },
    build: (b, v, line) => b.op("gather_elements", { axis: 1 }, [v.x, v.i], at(line)),
  },

  {
    name: "batch_norm on its own (per-channel parameters line up with axis 1)",
    inputs: { x: f32([2, 3, 4, 5], 225) },
    params: {
      "bn.weight": f32([3], 226),
      "bn.bias": f32([3], 227),
      "bn.running_mean": f32([3], 228),
      "bn.running_var": f32([3], 229, 0.2, 2),
    },
    build: (b, v, line) =>
      b.op(
        "batch_norm",
        { eps: 1e-5 },
        [v.x, v["bn.weight"], v["bn.bias"], v["bn.running_mean"], v["bn.running_var"]],
        at(line, "bn"),
      ),
  },
  {
    name: "conv then batch_norm (fused as the conv's epilogue)",
    inputs: { x: f32([1, 2, 6, 6], 230) },
    params: {
      "conv.weight": f32([4, 2, 3, 3], 231),
      "bn.weight": f32([4], 232),
      "bn.bias": f32([4], 233),
      "bn.running_mean": f32([4], 234),
      "bn.running_var": f32([4], 235, 0.2, 2),
    },
    build: (b, v, line) => {
      const y = b.op1(
        "conv",
        { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], groups: 1 },
        [v.x, v["conv.weight"]],
        at(line, "conv"),
      );
      return b.op(
        "batch_norm",
        { eps: 1e-5 },
        [y, v["bn.weight"], v["bn.bias"], v["bn.running_mean"], v["bn.running_var"]],
        at(line, "bn"),
      );
    },
  },
  {
    name: "conv2d groups, dilation, stride, asymmetric pads, bias",
    inputs: { x: f32([2, 4, 7, 6], 220) },
    params: { "conv.weight": f32([6, 2, 3, 2], 221), "conv.bias": f32([6], 222) },
    build: (b, v, line) =>
      b.op(
        "conv",
        { strides: [2, 1], pads: [2, 1, 1, 0], dilations: [1, 2], groups: 2 },
        [v.x, v["conv.weight"], v["conv.bias"]],
        at(line, "conv"),
      ),
  },
  {
    name: "conv1d without bias",
    inputs: { x: f32([1, 3, 9], 223) },
    params: { w: f32([2, 3, 3], 224) },
    build: (b, v, line) =>
      b.op("conv", { strides: [2], pads: [2, 2], dilations: [1], groups: 1 }, [v.x, v.w], at(line)),
  },
  {
    name: "conv3d depthwise",
    inputs: { x: f32([1, 4, 3, 5, 5], 225) },
    params: { w: f32([4, 1, 3, 3, 3], 226) },
    build: (b, v, line) =>
      b.op(
        "conv",
        { strides: [1, 2, 2], pads: [1, 1, 1, 1, 1, 1], dilations: [1, 1, 1], groups: 4 },
        [v.x, v.w],
        at(line),
      ),
  },
  {
    name: "conv2d eight output channels (four per thread)",
    inputs: { x: f32([1, 3, 6, 6], 227) },
    params: { w: f32([8, 3, 3, 3], 228), bias: f32([8], 229) },
    build: (b, v, line) =>
      b.op("conv", { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], groups: 1 }, [v.x, v.w, v.bias], at(line)),
  },
  {
    name: "conv2d 1x1 pointwise (no window loop, no bounds check)",
    inputs: { x: f32([2, 6, 5, 7], 243) },
    params: { w: f32([8, 6, 1, 1], 244), bias: f32([8], 245) },
    build: (b, v, line) =>
      b.op("conv", { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], groups: 1 }, [v.x, v.w, v.bias], at(line)),
  },
  {
    name: "conv2d 1x1 padded, stride 2 (a bounds check without a loop)",
    inputs: { x: f32([1, 3, 5, 6], 246) },
    params: { w: f32([4, 3, 1, 1], 247) },
    build: (b, v, line) =>
      b.op("conv", { strides: [2, 2], pads: [1, 0, 1, 1], dilations: [1, 1], groups: 1 }, [v.x, v.w], at(line)),
  },
  {
    name: "conv2d 3x3 unpadded stride 2, ragged edge (no bounds check)",
    inputs: { x: f32([1, 2, 8, 9], 248) },
    params: { w: f32([4, 2, 3, 3], 249) },
    build: (b, v, line) =>
      b.op("conv", { strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], groups: 1 }, [v.x, v.w], at(line)),
  },
  {
    name: "conv2d 1x3 padded along the width only",
    inputs: { x: f32([1, 4, 3, 6], 257) },
    params: { w: f32([4, 4, 1, 3], 258) },
    build: (b, v, line) =>
      b.op("conv", { strides: [1, 1], pads: [0, 1, 0, 1], dilations: [1, 1], groups: 1 }, [v.x, v.w], at(line)),
  },
  unary(
    "avg_pool 1x3, one tap along rows",
    "avg_pool",
    { kernel: [1, 3], strides: [1, 2], pads: [0, 1, 0, 1], countIncludePad: false },
    f32([1, 2, 4, 6], 259),
  ),
  unary(
    "max_pool asymmetric pads",
    "max_pool",
    { kernel: [3, 2], strides: [2, 2], pads: [1, 1, 1, 0] },
    f32([2, 2, 5, 6], 230),
  ),
  unary("max_pool 1-d", "max_pool", { kernel: [2], strides: [2], pads: [0, 0] }, f32([1, 3, 8], 231)),
  unary(
    "avg_pool counting pads",
    "avg_pool",
    { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], countIncludePad: true },
    f32([2, 2, 5, 6], 232),
  ),
  unary(
    "avg_pool excluding pads",
    "avg_pool",
    { kernel: [3, 3], strides: [2, 1], pads: [1, 0, 1, 1], countIncludePad: false },
    f32([1, 2, 5, 6], 233),
  ),

  unary("topk largest", "topk", { axis: -1, k: 3, largest: true }, f32([2, 3, 7], 240)),
  unary("topk smallest axis 0", "topk", { axis: 0, k: 2, largest: false }, f32([5, 3], 241)),
  unary(
    "topk ties by lower index",
    "topk",
    { axis: 1, k: 4, largest: true },
    tensor("f32", [1, 6], [1, 3, 3, 0, 3, 1]),
  ),
  unary("topk i64", "topk", { axis: 0, k: 2, largest: true }, tensor("i64", [5], [4, -2, 9, 4, 0])),

  {
    name: "sample_linear per-batch positions axis 1",
    inputs: { x: f32([2, 6, 3], 250), p: f32([2, 4], 251, -1, 6.5) },
    build: (b, v, line) => b.op("sample_linear", { axis: 1 }, [v.x, v.p], at(line, "issm")),
  },
  {
    name: "sample_linear shared positions [1,K]",
    inputs: { x: f32([2, 6, 3], 252), p: f32([1, 5], 253, -1, 6.5) },
    build: (b, v, line) => b.op("sample_linear", { axis: 1 }, [v.x, v.p], at(line)),
  },
  {
    name: "sample_linear on axis 0",
    inputs: { x: f32([6, 3], 254), p: tensor("f32", [4], [0, 2.5, 5, 9]) },
    build: (b, v, line) => b.op("sample_linear", { axis: 0 }, [v.x, v.p], at(line)),
  },
  {
    name: "sample_linear last axis, mixed leading dims",
    inputs: { x: f32([2, 3, 6], 255), p: f32([1, 3, 4], 256, 0, 5) },
    build: (b, v, line) => b.op("sample_linear", { axis: 2 }, [v.x, v.p], at(line)),
  },
  {
    name: "const tensor and scalar literal",
    inputs: { x: f32([2, 3], 260) },
    build: (b, v, line) => {
      const c = b.constant(tensor("f32", [3], [1, -2, 0.5]), at(line));
      const s = b.constant(tensor("f32", [], [3]), at(line));
      return [b.op1("mul", {}, [b.op1("add", {}, [v.x, c], at(line)), s], at(line))];
    },
  },
];
