// The flat tensor IR that elaboration produces and every backend consumes.
// Values are SSA; every node keeps the `.net` span and the block-instance scope that made it.
import type { Span } from "../../diagnostics/diagnostics.js";
import type { DType, HostTensor } from "../../util/tensor.js";
import type { Dim } from "./dim.js";
import type { PreprocessSpec } from "../../dsl/preprocess-spec.js";

export interface Value {
  readonly id: number;
  readonly dtype: DType;
  readonly shape: readonly Dim[];
  /** The node that computes this value. */
  producer: Node;
  /** Output index within the producer. */
  readonly index: number;
}

export type OpName = keyof OpAttrs;

/** Attributes of every core op. The reference semantics of each op is in ./semantics.md and ./interpret.ts. */
export interface OpAttrs {
  // Sources.
  input: { name: string };
  param: { path: string };
  const: { value: HostTensor };
  // Elementwise, numpy broadcasting.
  neg: {};
  abs: {};
  exp: {};
  log: {};
  sqrt: {};
  reciprocal: {};
  tanh: {};
  sigmoid: {};
  erf: {};
  /** GELU, exact (`none`: x·Φ(x)) or with the tanh approximation, as ONNX Gelu and torch.nn.GELU define them. */
  gelu: { approximate: "none" | "tanh" };
  relu: {};
  floor: {};
  ceil: {};
  sin: {};
  cos: {};
  not: {};
  add: {};
  sub: {};
  mul: {};
  div: {};
  pow: {};
  maximum: {};
  minimum: {};
  /** x where x >= 0, slope * x where x < 0; the slope broadcasts to x's shape (torch PReLU, ONNX PRelu). */
  prelu: {};
  lt: {};
  le: {};
  gt: {};
  ge: {};
  eq: {};
  and: {};
  or: {};
  where: {};
  cast: { to: DType };
  clip: { min?: number; max?: number };
  // Linear algebra and reductions.
  matmul: {};
  reduce: { kind: "sum" | "mean" | "max" | "min" | "prod"; axes: number[]; keepdims: boolean };
  argmax: { axis: number; keepdims: boolean };
  softmax: { axis: number };
  /** Normalises over axes [axis, rank); optional scale and bias inputs. */
  layer_norm: { axis: number; eps: number };
  /** Inference batch normalisation over channel axis 1: inputs x, scale, bias, running mean, running variance. */
  batch_norm: { eps: number };
  /** softmax(q @ k^T * scale + bias) @ v over the last two axes; bias is optional and broadcasts. */
  attention: { scale: number };
  /**
   * One direction of one layer of torch.nn.LSTM, sequence-first: (x [T, N, I], w_ih [4H, I], w_hh [4H, H],
   * b_ih? [4H], b_hh? [4H], h0? [N, H], c0? [N, H]) -> (y [T, N, H], h_n [N, H], c_n [N, H]). Gate blocks in
   * PyTorch's order i, f, g, o; `bias` says whether the two biases are present (see semantics.md).
   */
  lstm: { reverse: boolean; bias: boolean };
  // Layout.
  transpose: { perm: number[] };
  reshape: { shape: Dim[] };
  expand: { shape: Dim[] };
  slice: { axis: number; start: number; end: number; step: number };
  concat: { axis: number };
  pad: { pads: number[]; value: number };
  /** numpy.take: indices (i64, any shape) replace `axis`. */
  gather: { axis: number };
  /** numpy.take_along_axis. */
  gather_elements: { axis: number };
  // Windows.
  conv: { strides: number[]; pads: number[]; dilations: number[]; groups: number };
  max_pool: { kernel: number[]; strides: number[]; pads: number[] };
  avg_pool: { kernel: number[]; strides: number[]; pads: number[]; countIncludePad: boolean };
  /** Linear (bi-, trilinear) resampling of the spatial axes to `sizes`, as F.interpolate (see semantics.md). */
  resize: { sizes: number[]; alignCorners: boolean };
  // Data-dependent selection (split_index).
  topk: { axis: number; k: number; largest: boolean };
  /** Linear interpolation along `axis` at fractional positions, clamped to [0, n-1] (see semantics.md). */
  sample_linear: { axis: number };
}

/** A table of functions over some ops, each taking a node of its op (so it reads its attributes typed). */
export type PerOp<A extends unknown[], R> = { readonly [P in OpName]?: (node: OpNode<P>, ...args: A) => R };

/** Calls a per-op table's entry for `node`, or returns undefined when the table has none for its op. */
export function callPerOp<K extends OpName, A extends unknown[], R>(
  table: PerOp<A, R>,
  node: OpNode<K>,
  ...args: A
): R | undefined {
  const entry = table[node.op];
  return entry?.(node, ...args);
}

/** A node of one op; `Node` (any op) is their union, so testing `node.op` narrows `node.attrs`. */
export type Node<K extends OpName = OpName> = { [P in K]: OpNode<P> }[K];

export interface OpNode<K extends OpName> {
  readonly id: number;
  readonly op: K;
  inputs: Value[];
  outputs: Value[];
  attrs: OpAttrs[K];
  /** The `.net` source that made this node. */
  readonly span?: Span;
  /** Block-instance path, e.g. `backbone.blocks.3.attn`, for naming and fusion grouping. */
  readonly scope: string;
  /** The language construct it came from, when it is one (`lift`, `split_index`, `cross_attention`). */
  readonly construct?: string;
}

export interface GraphOutput {
  name: string;
  value: Value;
  span?: Span;
}

export interface ParamInfo {
  path: string;
  dtype: DType;
  shape: number[];
  span?: Span;
  /** Declared but never read by the forward computation. */
  unused: boolean;
  /**
   * For a weight the standard library declares: the user's `layer` statement that brings it in, where
   * diagnostics about the weight point (the standard library's line becomes a note).
   */
  layerSpan?: Span;
  /**
   * A standard-library weight that its block never reads (BatchNorm's `num_batches_tracked`): declared so that
   * checkpoints map strictly, unused by design, so never a warning.
   */
  stdlibBuffer?: boolean;
  /**
   * The `unused` modifier that covers this weight (on its `param` or on an enclosing `layer`), and what it marks
   * (`layer 'a.b'`): the forward is meant not to read it, so it is no warning unless the forward does.
   */
  unusedMark?: { span: Span; marked: string };
  /** Default value from the declaration (`param x: i64[4] = [0, 2, 4, 6]`), used when no checkpoint gives one. */
  init?: HostTensor;
}

export interface Graph {
  name: string;
  inputs: GraphOutput[];
  outputs: GraphOutput[];
  /** Extra outputs named by `tap` statements (emitted with --debug-outputs). */
  taps: GraphOutput[];
  nodes: Node[];
  params: ParamInfo[];
  /** Symbolic dimension names left free in the inputs (e.g. the batch size B). */
  symbols: string[];
  /** Source span of the model declaration. */
  span?: Span;
  /** The model's `preprocess { }` declaration: how a clip becomes its input. */
  preprocess?: PreprocessSpec;
}
