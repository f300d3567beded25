// Moves slices above the transpose they read: slice(transpose(x), axis) -> transpose(slice(x, perm[axis])), when
// every reader of the transpose is a slice (so the transpose goes away and each part is transposed on its own).
// The transpose then sits next to the layout ops that produced x, where transpose through reshape can merge it:
// MViT's head split is followed by dropping the class token, and after this rewrite the split of the other tokens
// cancels against the tokens -> frames transpose of the pooling conv.
import type { GraphBuilder } from "../builder.js";
import { normAxis } from "../infer.js";
import type { Graph, Node, Value } from "../ir.js";
import { originOf, readersOf, resultsOf, rewriteGraph } from "./rewrite.js";

export function sliceThroughTranspose(graph: Graph): boolean {
  const users = readersOf(graph);
  const outputs = resultsOf(graph);
  const onlySliced = (v: Value) => !outputs.has(v) && (users.get(v) ?? []).every((n) => n.op === "slice");
  return rewriteGraph(graph, (node: Node, b: GraphBuilder) => {
    if (node.op !== "slice") return undefined;
    const [x] = node.inputs;
    if (x.producer.op !== "transpose" || !onlySliced(x)) return undefined;
    const { perm } = x.producer.attrs;
    const origin = originOf(node);
    const axis = perm[normAxis(node.attrs.axis, perm.length)];
    const part = b.op1("slice", { ...node.attrs, axis }, [x.producer.inputs[0]], origin);
    return [b.op1("transpose", { perm: [...perm] }, [part], origin)];
  });
}
