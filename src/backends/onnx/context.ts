// The state of one ONNX graph under construction, and the per-IR-node emitter that lowerings write through.
import type { TensorType } from "../../compiler/ir/infer.js";
import type { GraphOutput, Node, OpName } from "../../compiler/ir/ir.js";
import { scalarOf } from "../../compiler/ir/interp/numeric.js";
import type { DType, HostTensor } from "../../util/tensor.js";
import { ConstPool } from "./constants.js";
import { NameTable } from "./names.js";
import type { AttributeProto, NodeProto } from "./proto.js";

/** A construct the backend cannot express; reported as NET5001 at the node's span. */
export class LoweringError extends Error {}

/** Nodes in topological order, the initializer pool, and the type of every tensor that gets a value_info. */
export class OnnxGraph {
  readonly nodes: NodeProto[] = [];
  readonly types = new Map<string, TensorType>();
  readonly tensorNames = new NameTable();
  readonly nodeNames = new NameTable();
  readonly consts = new ConstPool(this.tensorNames);
  /** Shape tensors of symbolic dims already computed, by printed dim (see shapes.ts). */
  readonly dimTensors = new Map<string, string>();
  /** Op domains other than ONNX's that nodes use, each imported by the model at version 1. */
  readonly customDomains = new Set<string>();

  constructor(
    readonly opset: number,
    /** The model inputs, where symbolic dims are read from. */
    readonly inputs: readonly GraphOutput[],
    /** Lowerings may use onnxruntime's contrib ops (domain com.microsoft); see EmitOnnxOptions.onnxruntimeOps. */
    readonly onnxruntimeOps = false,
  ) {}
}

/**
 * Emits the ONNX nodes of one IR node (of op K, so a lowering reads its attributes typed); every name it makes
 * starts with the node's scope and id.
 */
export class NodeEmitter<K extends OpName = OpName> {
  private readonly prefix: string;

  constructor(
    readonly g: OnnxGraph,
    readonly node: Node<K>,
    /** Tensor names of the IR node's inputs and outputs. */
    readonly inputs: readonly string[],
    readonly outputs: readonly string[],
  ) {
    this.prefix = node.scope ? `${node.scope}/` : "";
  }

  get opset(): number {
    return this.g.opset;
  }

  out(i = 0): string {
    return this.outputs[i];
  }

  emit(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attribute: AttributeProto[] = [],
    domain?: string,
  ): void {
    const span = this.node.span;
    if (domain) this.g.customDomains.add(domain);
    this.g.nodes.push({
      name: this.g.nodeNames.unique(`${this.prefix}${opType}_${this.node.id}`),
      opType,
      domain,
      input: [...inputs],
      output: [...outputs],
      attribute,
      docString: span ? `${span.file}:${span.line}:${span.col}` : undefined,
    });
  }

  /** A new intermediate tensor of a known type. */
  temp(tag: string, type: TensorType): string {
    const name = this.g.tensorNames.unique(`${this.prefix}${this.node.op}_${this.node.id}/${tag}`);
    this.g.types.set(name, type);
    return name;
  }

  /** Emits one node into a new intermediate tensor and returns its name. */
  apply(
    opType: string,
    inputs: readonly string[],
    type: TensorType,
    attribute: AttributeProto[] = [],
    tag = opType,
  ): string {
    const t = this.temp(tag, type);
    this.emit(opType, inputs, [t], attribute);
    return t;
  }

  /** An initializer holding `t` (shared with any identical small constant already emitted). */
  constant(t: HostTensor, tag = "const"): string {
    return this.g.consts.name(t, `${this.prefix}${this.node.op}_${this.node.id}/${tag}`);
  }

  /** A rank-1 i64 initializer. */
  i64s(values: readonly number[], tag?: string): string {
    return this.constant({ dtype: "i64", shape: [values.length], data: BigInt64Array.from(values, BigInt) }, tag);
  }

  /** A rank-0 initializer of `dtype`, converted as by cast. */
  scalar(dtype: DType, value: number, tag?: string): string {
    return this.constant(scalarOf(dtype, value), tag);
  }
}
