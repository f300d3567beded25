// Window ops: convolution, pooling and resampling of the spatial axes of [N, C, spatial...] tensors.
import { dimEq, dimToString, shapeToString } from "../dim.js";
import {
  checkWindowAttrs,
  fail,
  isFloat,
  type RuleContext,
  sameDType,
  staticDim,
  type TensorType,
  windowOut,
} from "../infer.js";
import { avgPool, conv, maxPool, resizeLinear } from "../interp/window.js";
import type { OpAttrs } from "../ir.js";
import { NO_MACS, type OpSpec } from "./row.js";

function inferPool(attrs: OpAttrs["max_pool"], ins: readonly TensorType[], c: RuleContext): TensorType[] {
  const { kernel, strides, pads } = attrs;
  const x = ins[0];
  if (!isFloat(x.dtype)) fail(`${c.op} needs a float tensor, got ${x.dtype}`);
  const sp = checkWindowAttrs(x.shape.length, kernel, strides, pads, c.op);
  const spatial = x.shape.slice(2).map((n, i) => {
    if (pads[i] * 2 > kernel[i] || pads[i + sp] * 2 > kernel[i])
      fail(`${c.op}: padding must be at most half the window`);
    return windowOut(n, kernel[i], strides[i], pads[i], pads[i + sp], 1, c.op);
  });
  return [{ dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...spatial] }];
}

type WindowOp = "conv" | "max_pool" | "avg_pool" | "resize";

export const WINDOW_OPS: { readonly [K in WindowOp]: OpSpec<OpAttrs[K]> } = {
  conv: {
    doc: "N-d convolution with strides, pads, dilations and groups (ONNX Conv)",
    operands: ["x", "w", "bias?"],
    infer: (attrs, ins) => {
      const { strides, pads, dilations, groups } = attrs;
      const [x, w] = ins;
      const dtype = sameDType(ins, "conv");
      if (!isFloat(dtype)) fail(`conv needs float tensors, got ${dtype}`);
      const sp = checkWindowAttrs(
        x.shape.length,
        w.shape.slice(2).map((d) => staticDim(d, "a kernel size")),
        strides,
        pads,
        "conv",
      );
      if (w.shape.length !== x.shape.length)
        fail(`conv: weight ${shapeToString(w.shape)} needs rank ${x.shape.length}`);
      if (dilations.length !== sp) fail(`conv needs ${sp} dilations`);
      const cin = staticDim(x.shape[1], "conv input channels");
      const cout = staticDim(w.shape[0], "conv output channels");
      if (!(groups >= 1) || cin % groups !== 0 || cout % groups !== 0)
        fail(`conv: ${groups} groups do not divide ${cin} input and ${cout} output channels`);
      if (!dimEq(w.shape[1], cin / groups))
        fail(
          `conv: weight ${shapeToString(w.shape)} expects ${dimToString(w.shape[1])} input channels per group, ` +
            `the input ${shapeToString(x.shape)} gives ${cin / groups}`,
        );
      if (ins[2] && !(ins[2].shape.length === 1 && dimEq(ins[2].shape[0], cout)))
        fail(`conv: bias ${shapeToString(ins[2].shape)} should be [${cout}]`);
      const spatial = x.shape
        .slice(2)
        .map((n, i) => windowOut(n, w.shape[2 + i] as number, strides[i], pads[i], pads[i + sp], dilations[i], "conv"));
      return [{ dtype, shape: [x.shape[0], cout, ...spatial] }];
    },
    evaluate: (a, [x, w, bias]) => [conv(x, w, bias, a)],
    macs: (_, [, w], [out], size) => size(out) * size(w.slice(1)),
  },
  max_pool: {
    doc: "max pooling",
    operands: ["x"],
    infer: inferPool,
    evaluate: (a, [x]) => [maxPool(x, a)],
    macs: NO_MACS,
  },
  avg_pool: {
    doc: "average pooling",
    operands: ["x"],
    infer: inferPool,
    evaluate: (a, [x]) => [avgPool(x, a)],
    macs: NO_MACS,
  },
  resize: {
    doc: "linear (bi-, trilinear) resampling of the spatial axes, as F.interpolate",
    operands: ["x"],
    infer: (attrs, ins) => {
      const { sizes } = attrs;
      const x = ins[0];
      if (!isFloat(x.dtype)) fail(`resize needs a float tensor, got ${x.dtype}`);
      const sp = x.shape.length - 2;
      if (sp < 1 || sp > 3)
        fail(`resize needs a tensor [N, C, spatial...] with 1 to 3 spatial axes, got rank ${x.shape.length}`);
      if (sizes.length !== sp) fail(`resize over ${sp} spatial axes needs ${sp} sizes, got [${sizes.join(", ")}]`);
      if (sizes.some((s) => !(Number.isInteger(s) && s >= 1)))
        fail(`resize: sizes [${sizes.join(", ")}] must be integers >= 1`);
      x.shape.slice(2).forEach((d) => staticDim(d, "resize's input spatial size"));
      return [{ dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...sizes] }];
    },
    evaluate: (a, [x]) => [resizeLinear(x, a.sizes, a.alignCorners)],
    macs: NO_MACS,
  },
};
