// The builtin functions of the language, as data: every name a `.net` file can call without defining it, with its
// parameters. The static rules check calls against this table (src/dsl/2-analyze/rules/builtin-calls.ts); the
// elaborator's implementations are a mapped type over its names (src/compiler/3-elaborate/builtins/index.ts), so a
// builtin without a signature, or a signature without an implementation, does not type-check.
import { type Signature, signature as sig } from "./signature.js";

/** Unary elementwise ops: a tensor, or a number folded at compile time by the op's reference semantics. */
const unary = (doc: string) => sig(doc, "x: tensor|number");
const reduction = (doc: string) => sig(doc, "x: tensor", "axes: ints", "keepdims: bool = false");

export const BUILTIN_SIGNATURES = {
  exp: unary("e^x elementwise"),
  log: unary("natural logarithm"),
  sqrt: unary("square root"),
  tanh: unary("hyperbolic tangent"),
  sigmoid: unary("logistic sigmoid"),
  erf: unary("Gauss error function"),
  gelu: sig(
    'GELU: x·Φ(x); approximate = "tanh" for the tanh approximation',
    "x: tensor|number",
    "approximate?: string",
  ),
  relu: unary("max(x, 0)"),
  abs: unary("absolute value"),
  floor: unary("round down"),
  ceil: unary("round up"),
  sin: unary("sine"),
  cos: unary("cosine"),
  reciprocal: unary("1/x"),
  maximum: sig("elementwise maximum (numbers: the larger)", "a: tensor|number", "b: tensor|number"),
  minimum: sig("elementwise minimum (numbers: the smaller)", "a: tensor|number", "b: tensor|number"),
  prelu: sig(
    "x where x >= 0, slope * x below 0; the slope broadcasts to x (torch.nn.PReLU)",
    "x: tensor",
    "slope: tensor",
  ),
  where: sig("a where cond else b", "cond: tensor", "a: tensor", "b: tensor"),
  clamp: sig("clip x to [min, max]", "x: tensor", "min?: number", "max?: number"),
  cast: sig("convert the element type", "x: tensor", "dtype: dtype"),
  matmul: sig("matrix product with numpy batching (the @ operator)", "a: tensor", "b: tensor"),
  permute: sig("reorder axes", "x: tensor", "perm: ints"),
  transpose: sig("swap two axes (the last two by default)", "x: tensor", "a: int = -2", "b: int = -1"),
  reshape: sig("view with another shape (one dimension may be -1)", "x: tensor", "shape: dims"),
  flatten: sig("merge axes start..end (inclusive) into one", "x: tensor", "start: int = 0", "end: int = -1"),
  unsqueeze: sig("insert an axis of size 1", "x: tensor", "axis: int"),
  squeeze: sig("remove an axis of size 1", "x: tensor", "axis: int"),
  expand: sig("broadcast to a shape", "x: tensor", "shape: dims"),
  concat: sig("join tensors along an axis", "xs: list", "axis: int = 0"),
  rearrange: {
    ...sig(
      'einops.rearrange: reorder, split and merge axes by a pattern, e.g. rearrange(x, "b c t h w -> (b t) c h w")',
      "tensor: tensor",
      "pattern: string",
    ),
    namedRest: ["dim"],
  },
  repeat: {
    ...sig(
      'einops.repeat: rearrange and add (broadcast) new axes, e.g. repeat(x, "b n -> b n r", r = 3)',
      "tensor: tensor",
      "pattern: string",
    ),
    namedRest: ["dim"],
  },
  reduce: {
    ...sig(
      "einops.reduce: rearrange and reduce the axes the output lacks with mean, sum, max, min or prod, e.g. " +
        'reduce(x, "b c h w -> b c", "mean")',
      "tensor: tensor",
      "pattern: string",
      "reduction: string",
    ),
    namedRest: ["dim"],
  },
  split: sig(
    "cut into consecutive pieces of the given sizes (or that many equal pieces)",
    "x: tensor",
    "sizes: ints",
    "axis: int = 0",
  ),
  sum: reduction("sum over axes"),
  mean: reduction("mean over axes"),
  amax: reduction("maximum over axes"),
  amin: reduction("minimum over axes"),
  prod: reduction("product over axes"),
  argmax: sig("index of the maximum along an axis (i64)", "x: tensor", "axis: int = -1", "keepdims: bool = false"),
  softmax: sig("softmax along an axis", "x: tensor", "axis: int = -1"),
  layer_norm: sig(
    "normalise over the axes from `axis` to the last, then scale and shift",
    "x: tensor",
    "scale?: tensor",
    "bias?: tensor",
    "eps: number = 1e-5",
    "axis: int = -1",
  ),
  batch_norm: sig(
    "inference batch normalisation over axis 1: (x - mean) / sqrt(var + eps) * scale + bias, per channel",
    "x: tensor",
    "scale: tensor",
    "bias: tensor",
    "mean: tensor",
    "var: tensor",
    "eps: number = 1e-5",
  ),
  attention: sig(
    "softmax(q @ k^T * scale + bias) @ v; scale defaults to 1/sqrt(head width)",
    "q: tensor",
    "k: tensor",
    "v: tensor",
    "bias?: tensor",
    "scale?: number",
  ),
  lstm: sig(
    "one LSTM direction over [T, N, I] with PyTorch's weights (gates i, f, g, o): the tuple (y [T, N, H], h_n, c_n)",
    "x: tensor",
    "w_ih: tensor",
    "w_hh: tensor",
    "b_ih?: tensor",
    "b_hh?: tensor",
    "h0?: tensor",
    "c0?: tensor",
    "reverse: bool = false",
  ),
  conv: sig(
    "N-d convolution (N from the weight's rank); padding per side or per dim",
    "x: tensor",
    "weight: tensor",
    "bias?: tensor",
    "stride: ints = 1",
    "padding: ints = 0",
    "dilation: ints = 1",
    "groups: int = 1",
  ),
  max_pool: sig(
    "N-d max pooling (stride defaults to the kernel)",
    "x: tensor",
    "kernel: ints",
    "stride: ints|none = none",
    "padding: ints = 0",
  ),
  avg_pool: sig(
    "N-d average pooling (stride defaults to the kernel)",
    "x: tensor",
    "kernel: ints",
    "stride: ints|none = none",
    "padding: ints = 0",
    "count_include_pad: bool = true",
  ),
  resize_linear: sig(
    "linear (bi-, trilinear) resize of the spatial axes of [N, C, spatial...] to `size`, as F.interpolate",
    "x: tensor",
    "size: ints",
    "align_corners: bool = false",
  ),
  pad: sig(
    "constant padding; pads = [begin per axis..., end per axis...]",
    "x: tensor",
    "pads: ints",
    "value: number = 0.0",
  ),
  gather: sig("numpy.take: pick entries along an axis", "x: tensor", "indices: tensor|list", "axis: int = 0"),
  take_along: sig("numpy.take_along_axis", "x: tensor", "indices: tensor", "axis: int"),
  topk: sig(
    "the k largest (or smallest) entries and their i64 indices, sorted",
    "x: tensor",
    "k: int",
    "axis: int = -1",
    "largest: bool = true",
  ),
  sample_linear: sig(
    "linear interpolation along an axis at fractional positions, clamped to the ends",
    "x: tensor",
    "positions: tensor",
    "axis: int",
  ),
  tensor: sig("a constant tensor from a (nested) list", "values: any", "dtype?: dtype"),
  full: sig("a constant tensor filled with one value", "shape: ints", "value: number", "dtype: dtype = f32"),
  arange: sig("the constant tensor [0, 1, ..., n-1]", "n: int", "dtype: dtype = i64"),
  len: sig("length of a list or tuple", "xs: list"),
  shape: sig("the dimensions of a tensor as a list", "x: tensor"),
  floor_div: sig("integer division rounding down", "a: int", "b: int"),
  int: sig("truncate a number to an int", "x: number"),
  str: sig(
    'a known int as a string (a string is returned as is), for computed weight names: `"w_" + str(i)`',
    "x: int|string",
  ),
  dim_eq: sig("whether two dimensions are equal", "a: dim", "b: dim"),
  print: sig("shows a value at elaboration as a note (tensors by their type) and returns it", "x: any"),
} satisfies Record<string, Signature>;

/**
 * The DFER constructs (docs/primitives.md): `cross_attention` is called like a function; `lift` and `split_index`
 * have syntax of their own, checked by the parser and by rules of their own, so they take no arguments here.
 */
export const CONSTRUCT_SIGNATURES = {
  lift: sig("the lifting scheme: update (approx += U) and predict (detail -= P) steps in order"),
  split_index: sig(
    "content-aware splitting of an axis into two groups: even_odd, soft(approx, detail), topk(scores, k)",
  ),
  cross_attention: sig(
    "multi-head attention of query tokens over context tokens with projection layers",
    "query: tensor",
    "context: tensor",
    "heads: int",
    "q: layer",
    "kv?: layer",
    "k?: layer",
    "v?: layer",
    "out?: layer",
    "value_residual: bool = false",
    "scale?: number",
  ),
} satisfies Record<string, Signature>;

/** The modes of `split_index(x, axis) by <mode>(...)` and their arguments. */
export const SPLIT_INDEX_MODES = {
  even_odd: sig("even positions to the approximation, odd ones to the detail"),
  soft: sig("linear interpolation at fractional positions for each group", "approx: tensor", "detail: tensor"),
  topk: sig(
    "the k highest-scoring positions to the approximation, the rest to the detail, each in order",
    "scores: tensor",
    "k: int",
  ),
} satisfies Record<string, Signature>;

export type BuiltinName = keyof typeof BUILTIN_SIGNATURES;
export type ConstructName = keyof typeof CONSTRUCT_SIGNATURES;
/** The constructs with their own syntax rather than a call. */
export const SYNTAX_CONSTRUCTS: readonly ConstructName[] = ["lift", "split_index"];

/** Builtins added at run time (a scratch op registered by a test), beside the table. */
const registered = new Map<string, Signature>();

/** Adds a builtin's signature; returns the function that removes it again. */
export function registerBuiltinSignature(name: string, sig: Signature): () => void {
  if (name in BUILTIN_SIGNATURES || name in CONSTRUCT_SIGNATURES || registered.has(name))
    throw new Error(`builtin '${name}' exists already`);
  registered.set(name, sig);
  return () => void registered.delete(name);
}

/** The signature of a builtin or construct called by `name`, if the language has one. */
export function callableSignature(name: string): Signature | undefined {
  if (Object.hasOwn(BUILTIN_SIGNATURES, name)) return BUILTIN_SIGNATURES[name as BuiltinName];
  if (Object.hasOwn(CONSTRUCT_SIGNATURES, name)) return CONSTRUCT_SIGNATURES[name as ConstructName];
  return registered.get(name);
}

/** Every name a file can use without defining it as a function: builtins, constructs, and registered ones. */
export function callableNames(): string[] {
  return [...Object.keys(BUILTIN_SIGNATURES), ...Object.keys(CONSTRUCT_SIGNATURES), ...registered.keys()];
}
