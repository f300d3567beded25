// Computes a depthwise 3-D convolution with temporal stride 1 as one grouped 2-D convolution with the frames in the
// channels: [N, C, T, H, W] is [N, C * T, H, W] as it lies in memory, and output frame t of channel c sums the kt
// frames around t of the same channel, so a conv whose groups each hold g channels x T frames, with a banded filter
// (zero outside the kt diagonals and across channels), computes it in one pass. It does g * T / kt times the
// multiply-adds of the depthwise conv, but onnxruntime runs it with its blocked-channel (NCHWc) grouped kernels,
// which need each group to be a whole number of 16-channel blocks (AVX-512; 8 with AVX2), and the kt tap convs,
// their time shifts (slice + pad), sums and layout copies of the per-tap form (depthwise-conv3d.ts) go away.
// MViT's pooling convs (T = 8, g = 2) run 1.1-1.7x faster alone this way (docs/benchmarks.md).
import type { GraphBuilder } from "../builder.js";
import { dimMul, isStatic } from "../dim.js";
import type { Graph, Node, Value } from "../ir.js";
import { originOf, rewriteGraph } from "./rewrite.js";

/** Channels per group the blocked kernels take: onnxruntime's NCHWc block with AVX-512, two blocks with AVX2. */
const GROUP_WIDTH = 16;

/**
 * The 0/1 map from the taps to the banded filter: s[i, (t, j, u), k] = 1 when channel j of a group is channel i
 * and input frame u is the one output frame t reads through temporal tap k.
 */
function bandSelector(perGroup: number, frames: number, kernelT: number, padT: number): Float32Array {
  const s = new Float32Array(perGroup * frames * perGroup * frames * kernelT);
  for (let i = 0; i < perGroup; i++)
    for (let t = 0; t < frames; t++)
      for (let k = 0; k < kernelT; k++) {
        const u = t + k - padT;
        if (u < 0 || u >= frames) continue;
        s[((i * frames + t) * perGroup * frames + i * frames + u) * kernelT + k] = 1;
      }
  return s;
}

function rewriteConv(node: Node, b: GraphBuilder): Value[] | undefined {
  if (node.op !== "conv") return undefined;
  const [x, w, bias] = node.inputs;
  const { strides, pads, dilations, groups } = node.attrs;
  if (x.shape.length !== 5 || x.dtype !== "f32") return undefined;
  const [n, channels, frames, height, width] = x.shape;
  const [kernelT, kh, kw] = w.shape.slice(2);
  if (![channels, frames, kernelT, kh, kw].every(isStatic)) return undefined;
  const [c, t, kt] = [channels, frames, kernelT] as number[];
  if (groups !== c || w.shape[0] !== c || w.shape[1] !== 1 || kt === 1) return undefined;
  // Every output frame at the place of its input frame: stride 1, padding that keeps the frame count.
  if (strides[0] !== 1 || dilations[0] !== 1 || pads[0] + pads[3] !== kt - 1) return undefined;
  // A group of whole blocks from whole channels; long clips would multiply the work by more than GROUP_WIDTH / kt.
  const perGroup = GROUP_WIDTH / t;
  if (t < 8 || !Number.isInteger(perGroup) || c % perGroup !== 0) return undefined;

  const origin = originOf(node);
  const op1: GraphBuilder["op1"] = (op, attrs, inputs) => b.op1(op, attrs, inputs, origin);
  const out = node.outputs[0];
  const [, , , heightOut, widthOut] = out.shape;
  // The banded filter as one product of the taps with a constant 0/1 map; onnxruntime folds it when it loads the
  // weights: [1, g, T*g*T, kt] @ [C/g, g, kt, kh*kw] -> [C/g, g, T*g*T, kh*kw] = [C*T, g*T, kh, kw].
  const taps = op1("reshape", { shape: [c / perGroup, perGroup, kt, (kh as number) * (kw as number)] }, [w]);
  const selector = b.constant(
    {
      dtype: "f32",
      shape: [1, perGroup, t * perGroup * t, kt],
      data: bandSelector(perGroup, t, kt, pads[0]),
    },
    origin,
  );
  const banded = op1("reshape", { shape: [c * t, perGroup * t, kh, kw] }, [op1("matmul", {}, [selector, taps])]);
  const inputs = [op1("reshape", { shape: [n, dimMul(channels, frames), height, width] }, [x]), banded];
  if (bias)
    inputs.push(
      op1("reshape", { shape: [c * t] }, [
        op1("expand", { shape: [c, t] }, [op1("reshape", { shape: [c, 1] }, [bias])]),
      ]),
    );
  const attrs = {
    strides: strides.slice(1),
    pads: [pads[1], pads[2], pads[4], pads[5]],
    dilations: dilations.slice(1),
    groups: c / perGroup,
  };
  const conv = op1("conv", attrs, inputs);
  return [op1("reshape", { shape: [n, channels, frames, heightOut, widthOut] }, [conv])];
}

export function depthwiseConv3dBanded(graph: Graph): boolean {
  return rewriteGraph(graph, rewriteConv);
}
