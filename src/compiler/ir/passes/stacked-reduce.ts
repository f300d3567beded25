// A sum or mean over the axis along which a concat stacks parts one slice thick is the parts' elementwise sum
// (divided by their count). OUS averages its fusion blocks' outputs as mean(concat([unsqueeze(o, 0) ...], 0), [0]):
// the stack puts the batch second, so in a WGSL bundle with a run-time batch the stack and its reduction run at the
// largest batch whatever the batch given (backends/wgsl/batch.ts); the sum keeps every value's batch first.
import type { GraphBuilder } from "../builder.js";
import { normAxis } from "../infer.js";
import type { Graph, Node, Value } from "../ir.js";
import { originOf, readOnce, rewriteGraph } from "./rewrite.js";

function rewrite(node: Node, b: GraphBuilder, readOnce: (v: Value) => boolean): Value[] | undefined {
  if (node.op !== "reduce" || node.attrs.keepdims || node.attrs.axes.length !== 1) return undefined;
  if (node.attrs.kind !== "sum" && node.attrs.kind !== "mean") return undefined;
  const [x] = node.inputs;
  const stack = x.producer;
  const axis = normAxis(node.attrs.axes[0], x.shape.length);
  if (stack.op !== "concat" || !readOnce(x) || x.dtype !== "f32") return undefined;
  if (normAxis(stack.attrs.axis, x.shape.length) !== axis || stack.inputs.some((part) => part.shape[axis] !== 1))
    return undefined;
  const origin = originOf(node);
  const shape = [...node.outputs[0].shape];
  const slices = stack.inputs.map((part) => b.op1("reshape", { shape }, [part], originOf(stack)));
  const sum = slices.slice(1).reduce((acc, slice) => b.op1("add", {}, [acc, slice], origin), slices[0]);
  if (node.attrs.kind === "sum" || slices.length === 1) return [sum];
  const count = b.constant({ dtype: "f32", shape: [], data: new Float32Array([slices.length]) }, origin);
  return [b.op1("div", {}, [sum, count], origin)];
}

export function stackedPartsReduced(graph: Graph): boolean {
  const once = readOnce(graph);
  return rewriteGraph(graph, (node, b) => rewrite(node, b, once));
}
