// Computes a depthwise 3-D convolution with temporal stride 1 as kt depthwise 2-D convolutions over every frame,
// summed with time shifts: y[t] = sum_j conv2d(x[t + j - pad_t], w[:, :, j]). onnxruntime's CPU Conv runs a grouped
// 3-D convolution as one small matrix product per channel (about 10x slower per multiply-add, measured on MViT's
// 96-channel pooling convs, docs/benchmarks.md), while depthwise 2-D convolutions take its blocked-channel (NCHWc)
// kernels. Each 2-D conv sees all frames unshifted, so the frames are laid out once; the shifts act on the outputs,
// which a spatial stride makes smaller than the input.
import type { GraphBuilder } from "../builder.js";
import { dimMul, isStatic } from "../dim.js";
import type { Graph, Node, Value } from "../ir.js";
import { originOf, rewriteGraph } from "./rewrite.js";

function rewriteConv(node: Node, b: GraphBuilder): Value[] | undefined {
  if (node.op !== "conv") return undefined;
  const [x, w, bias] = node.inputs;
  const { strides, pads, dilations, groups } = node.attrs;
  const [n, channels, frames, height, width] = x.shape;
  const out = node.outputs[0];
  const kernelT = w.shape[2];
  if (x.shape.length !== 5 || x.dtype !== "f32" || !isStatic(frames) || !isStatic(kernelT)) return undefined;
  if (groups !== channels || !isStatic(w.shape[0]) || w.shape[0] !== channels || kernelT === 1) return undefined;
  if (strides[0] !== 1 || dilations[0] !== 1) return undefined;

  const origin = originOf(node);
  const op1: GraphBuilder["op1"] = (op, attrs, inputs) => b.op1(op, attrs, inputs, origin);
  const [, , framesOut, heightOut, widthOut] = out.shape as [unknown, unknown, number, typeof height, typeof width];
  // [N, C, T, H, W] -> channels last [N * T, H, W, C] -> [N * T, C, H, W]: every frame an image. The last step is
  // the 4-D NHWC -> NCHW transpose that onnxruntime merges into its conversion to blocked channels (and the
  // first one usually cancels the transpose that made x from channels-last tokens).
  const framesLast = op1("reshape", { shape: [dimMul(n, frames), height, width, channels] }, [
    op1("transpose", { perm: [0, 2, 3, 4, 1] }, [x]),
  ]);
  const images = op1("transpose", { perm: [0, 3, 1, 2] }, [framesLast]);
  const spatial = {
    strides: strides.slice(1),
    pads: [pads[1], pads[2], pads[4], pads[5]],
    dilations: dilations.slice(1),
    groups,
  };
  const [kh, kw] = w.shape.slice(3);
  let sum: Value | undefined;
  let biasAdded = false;
  for (let j = 0; j < kernelT; j++) {
    // Output frame t reads input frame t + j - pad_t: keep the frames that exist, zeros for the rest.
    const offset = j - pads[0];
    const first = Math.max(0, -offset);
    const last = Math.min(framesOut, frames - offset); // exclusive
    if (last <= first) continue;
    const wj = op1("reshape", { shape: [channels, 1, kh, kw] }, [
      op1("slice", { axis: 2, start: j, end: j + 1, step: 1 }, [w]),
    ]);
    // The bias goes to a tap that covers every output frame (no zero frames padded in), else it is added at the end.
    const biasHere = bias && !biasAdded && first === 0 && last === framesOut;
    if (biasHere) biasAdded = true;
    const conv = op1("conv", spatial, biasHere ? [images, wj, bias] : [images, wj]);
    // Back to channels last ([N * T, Ho, Wo, C]: the transpose onnxruntime merges into leaving blocked channels).
    const convLast = op1("transpose", { perm: [0, 2, 3, 1] }, [conv]);
    let shifted = op1("reshape", { shape: [n, frames, heightOut, widthOut, channels] }, [convLast]);
    if (first + offset !== 0 || last + offset !== frames)
      shifted = op1("slice", { axis: 1, start: first + offset, end: last + offset, step: 1 }, [shifted]);
    if (first > 0 || last < framesOut)
      shifted = op1("pad", { pads: [0, first, 0, 0, 0, 0, framesOut - last, 0, 0, 0], value: 0 }, [shifted]);
    sum = sum ? op1("add", {}, [sum, shifted]) : shifted;
  }
  if (!sum) return undefined;
  if (bias && !biasAdded) sum = op1("add", {}, [sum, bias]);
  return [op1("transpose", { perm: [0, 4, 1, 2, 3] }, [sum])];
}

export function depthwiseConv3dAs2d(graph: Graph): boolean {
  return rewriteGraph(graph, rewriteConv);
}
