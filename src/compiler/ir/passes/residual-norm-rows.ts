// Normalises a residual sum [B, N, C] as [B * N, C] rows. onnxruntime fuses Add + LayerNormalization over a 3-D
// input into its SkipLayerNormalization kernel when the sum has no other reader, and on the CPU that kernel takes
// 1.4-1.6x the time of the Add and LayerNormalization it replaces (measured alone at MViT's shapes, [25089, 96] to
// [1569, 384]; docs/benchmarks.md). Over rows the fusion does not apply, and both reshapes are free (views).
// Small sums are left alone: there either kernel takes microseconds, and the graph stays as written.
import { dimEq, dimMul, isStatic, shapeEq } from "../dim.js";
import { normAxis } from "../infer.js";
import type { Graph } from "../ir.js";
import { originOf, readersOf, rewriteGraph } from "./rewrite.js";

/** Elements per batch item from which the rewrite applies. */
const MIN_ELEMENTS = 1 << 16;

export function residualNormRows(graph: Graph): boolean {
  const users = readersOf(graph);
  return rewriteGraph(graph, (node, b) => {
    if (node.op !== "layer_norm") return undefined;
    const [sum, ...affine] = node.inputs;
    const shape = sum.shape;
    if (shape.length !== 3 || normAxis(node.attrs.axis, 3) !== 2 || sum.producer.op !== "add") return undefined;
    const [rowCount, width] = [shape[1], shape[2]];
    if (!isStatic(rowCount) || !isStatic(width) || rowCount * width < MIN_ELEMENTS) return undefined;
    // The pattern onnxruntime fuses: two full-size summands, the sum read by the norm alone (a tap of the sum keeps
    // reading it: only the norm's input changes).
    const [x, y] = sum.producer.inputs;
    if (!shapeEq(x.shape, shape) || !shapeEq(y.shape, shape)) return undefined;
    if ((users.get(sum) ?? []).length !== 1 || affine.some((p) => p.shape.length !== 1 || !dimEq(p.shape[0], shape[2])))
      return undefined;
    const origin = originOf(node);
    const rows = b.op1("reshape", { shape: [dimMul(shape[0], shape[1]), shape[2]] }, [sum], origin);
    const normed = b.op1("layer_norm", { ...node.attrs, axis: 1 }, [rows, ...affine], origin);
    return [b.op1("reshape", { shape: [...shape] }, [normed], origin)];
  });
}
