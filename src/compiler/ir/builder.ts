// Builds IR graphs node by node, inferring each result's type; used by elaboration, passes and tests.
import type { Span } from "../../diagnostics/diagnostics.js";
import type { DType, HostTensor } from "../../util/tensor.js";
import type { Dim } from "./dim.js";
import { inferOp } from "./ops/index.js";
import type { Graph, Node, OpAttrs, OpName, ParamInfo, Value } from "./ir.js";

export interface NodeOrigin {
  span?: Span;
  scope?: string;
  construct?: string;
}

export class GraphBuilder {
  private nextValue = 0;
  private nextNode = 0;
  readonly graph: Graph;

  constructor(name: string) {
    this.graph = { name, inputs: [], outputs: [], taps: [], nodes: [], params: [], symbols: [] };
  }

  /** Continues numbering after the ids already in `graph` (for passes that add nodes). */
  static resume(graph: Graph): GraphBuilder {
    const b = new GraphBuilder(graph.name);
    (b as { graph: Graph }).graph = graph;
    for (const n of graph.nodes) {
      b.nextNode = Math.max(b.nextNode, n.id + 1);
      for (const v of n.outputs) b.nextValue = Math.max(b.nextValue, v.id + 1);
    }
    return b;
  }

  private make<K extends OpName>(
    op: K,
    attrs: OpAttrs[K],
    inputs: Value[],
    types: { dtype: DType; shape: readonly Dim[] }[],
    origin: NodeOrigin,
  ): Node<K> {
    const node: Node<K> = {
      id: this.nextNode++,
      op,
      inputs,
      outputs: [],
      attrs,
      span: origin.span,
      scope: origin.scope ?? "",
      construct: origin.construct,
    };
    node.outputs = types.map((t, index) => ({
      id: this.nextValue++,
      dtype: t.dtype,
      shape: [...t.shape],
      producer: node as Node,
      index,
    }));
    this.graph.nodes.push(node as Node);
    return node;
  }

  /** Adds a computing node; throws InferError when the inputs do not fit the op. */
  op<K extends OpName>(op: K, attrs: OpAttrs[K], inputs: Value[], origin: NodeOrigin = {}): Value[] {
    const types = inferOp(op, attrs, inputs);
    return this.make(op, attrs, inputs, types, origin).outputs;
  }

  op1<K extends OpName>(op: K, attrs: OpAttrs[K], inputs: Value[], origin: NodeOrigin = {}): Value {
    return this.op(op, attrs, inputs, origin)[0];
  }

  /** A node like `node` (op, attributes, result types, origin) on other inputs, without inferring again. */
  copy(node: Node, inputs: Value[]): Node {
    const origin = { span: node.span, scope: node.scope, construct: node.construct };
    return this.make(node.op, node.attrs, inputs, node.outputs, origin);
  }

  input(name: string, dtype: DType, shape: readonly Dim[], origin: NodeOrigin = {}): Value {
    const v = this.make("input", { name }, [], [{ dtype, shape }], origin).outputs[0];
    this.graph.inputs.push({ name, value: v, span: origin.span });
    return v;
  }

  param(info: ParamInfo, origin: NodeOrigin = {}): Value {
    this.graph.params.push(info);
    return this.make("param", { path: info.path }, [], [{ dtype: info.dtype, shape: info.shape }], {
      span: info.span,
      ...origin,
    }).outputs[0];
  }

  constant(value: HostTensor, origin: NodeOrigin = {}): Value {
    return this.make("const", { value }, [], [{ dtype: value.dtype, shape: value.shape }], origin).outputs[0];
  }

  output(name: string, value: Value, span?: Span): void {
    this.graph.outputs.push({ name, value, span });
  }

  tap(name: string, value: Value, span?: Span): void {
    this.graph.taps.push({ name, value, span });
  }
}
