// Linear algebra, reductions and normalisations.
import { dimEq, dimToString, shapeToString } from "../dim.js";
import { broadcastShapes, fail, isFloat, isNumeric, normAxis, sameDType } from "../infer.js";
import type { HostTensor } from "../../../util/tensor.js";
import { argmax, attention, batchNorm, layerNorm, matmul, reduce, softmax } from "../interp/linalg.js";
import type { OpAttrs } from "../ir.js";
import { NO_MACS, type OpSpec } from "./row.js";

const axisOf = (x: HostTensor, a: number) => normAxis(a, x.shape.length);

type LinalgOp = "matmul" | "reduce" | "argmax" | "softmax" | "layer_norm" | "batch_norm" | "attention";

export const LINALG_OPS: { readonly [K in LinalgOp]: OpSpec<OpAttrs[K]> } = {
  matmul: {
    doc: "matrix product with numpy batch broadcasting (numpy.matmul)",
    operands: ["x", "y"],
    infer: (_, ins) => {
      const dtype = sameDType(ins, "matmul");
      if (!isNumeric(dtype)) fail(`matmul is not defined for ${dtype}`);
      const [x, y] = ins.map((t) => t.shape);
      if (x.length < 1 || y.length < 1) fail("matmul needs tensors of rank >= 1");
      const xs = x.length === 1 ? [1, x[0]] : x;
      const ys = y.length === 1 ? [y[0], 1] : y;
      const kx = xs[xs.length - 1];
      const ky = ys[ys.length - 2];
      if (!dimEq(kx, ky))
        fail(
          `matmul: contracted dimensions differ: ${shapeToString(x)} @ ${shapeToString(y)} (${dimToString(kx)} ` +
            `vs ${dimToString(ky)})`,
        );
      const batch = broadcastShapes(xs.slice(0, -2), ys.slice(0, -2));
      const shape = [
        ...batch,
        ...(x.length === 1 ? [] : [xs[xs.length - 2]]),
        ...(y.length === 1 ? [] : [ys[ys.length - 1]]),
      ];
      return [{ dtype, shape }];
    },
    evaluate: (_, [x, y]) => [matmul(x, y)],
    macs: (_, [x], [out], size) => size(out) * size([x[x.length - 1]]),
  },
  reduce: {
    doc: "sum, mean, max, min or product over axes",
    operands: ["x"],
    infer: (attrs, ins) => {
      const { axes, keepdims } = attrs;
      if (!isNumeric(ins[0].dtype)) fail(`reduce is not defined for ${ins[0].dtype}`);
      const rank = ins[0].shape.length;
      const set = new Set(axes.map((x) => normAxis(x, rank)));
      if (set.size !== axes.length) fail("reduce: an axis is listed twice");
      const shape = ins[0].shape.flatMap((d, i) => (set.has(i) ? (keepdims ? [1] : []) : [d]));
      return [{ dtype: ins[0].dtype, shape }];
    },
    evaluate: (a, [x]) => [reduce(x, a.kind, new Set(a.axes.map((i) => axisOf(x, i))), a.keepdims)],
    macs: NO_MACS,
  },
  argmax: {
    doc: "index of the largest element along an axis (i64)",
    operands: ["x"],
    infer: (attrs, ins) => {
      const { axis, keepdims } = attrs;
      if (!isNumeric(ins[0].dtype)) fail(`argmax is not defined for ${ins[0].dtype}`);
      const ax = normAxis(axis, ins[0].shape.length);
      const shape = ins[0].shape.flatMap((d, i) => (i === ax ? (keepdims ? [1] : []) : [d]));
      return [{ dtype: "i64", shape }];
    },
    evaluate: (a, [x]) => [argmax(x, axisOf(x, a.axis), a.keepdims)],
    macs: NO_MACS,
  },
  softmax: {
    doc: "softmax along an axis",
    operands: ["x"],
    infer: (attrs, ins) => {
      normAxis(attrs.axis, ins[0].shape.length);
      if (!isFloat(ins[0].dtype)) fail(`softmax needs a float tensor, got ${ins[0].dtype}`);
      return [{ dtype: ins[0].dtype, shape: ins[0].shape }];
    },
    evaluate: (a, [x]) => [softmax(x, axisOf(x, a.axis))],
    macs: NO_MACS,
  },
  layer_norm: {
    doc: "normalises over axes [axis, rank), then optional scale and bias",
    operands: ["x", "scale?", "bias?"],
    infer: (attrs, ins) => {
      const x = ins[0];
      const ax = normAxis(attrs.axis, x.shape.length);
      const normShape = x.shape.slice(ax);
      for (const [i, t] of ins.slice(1).entries()) {
        if (t.shape.length !== normShape.length || !t.shape.every((d, j) => dimEq(d, normShape[j])))
          fail(
            `layer_norm: ${i === 0 ? "scale" : "bias"} has shape ${shapeToString(t.shape)}, expected ` +
              `${shapeToString(normShape)} (the normalised axes of ${shapeToString(x.shape)})`,
          );
      }
      if (!isFloat(sameDType(ins, "layer_norm"))) fail(`layer_norm needs float tensors, got ${x.dtype}`);
      return [{ dtype: x.dtype, shape: x.shape }];
    },
    evaluate: (a, [x, scale, bias]) => [layerNorm(x, axisOf(x, a.axis), a.eps, scale, bias)],
    macs: NO_MACS,
  },
  batch_norm: {
    doc: "inference batch normalisation over channel axis 1 with running statistics",
    operands: ["x", "scale", "bias", "mean", "var"],
    infer: (_, ins) => {
      const x = ins[0];
      if (x.shape.length < 2) fail(`batch_norm needs [N, C, ...], got ${shapeToString(x.shape)}`);
      for (const [i, t] of ins.slice(1).entries())
        if (t.shape.length !== 1 || !dimEq(t.shape[0], x.shape[1]))
          fail(
            `batch_norm: ${["scale", "bias", "mean", "var"][i]} has shape ${shapeToString(t.shape)}, expected ` +
              `[${dimToString(x.shape[1])}] (the channels of ${shapeToString(x.shape)})`,
          );
      if (!isFloat(sameDType(ins, "batch_norm"))) fail(`batch_norm needs float tensors, got ${x.dtype}`);
      return [{ dtype: x.dtype, shape: x.shape }];
    },
    evaluate: (a, [x, scale, bias, mean, variance]) => [batchNorm(x, scale, bias, mean, variance, a.eps)],
    macs: NO_MACS,
  },
  attention: {
    doc: "softmax(q @ k^T * scale + bias) @ v over the last two axes",
    operands: ["q", "k", "v", "bias?"],
    infer: (_, ins) => {
      const [q, k, v] = ins;
      const dtype = sameDType(ins, "attention");
      if (!isFloat(dtype)) fail(`attention needs float tensors, got ${dtype}`);
      const r = q.shape.length;
      if (r < 2 || k.shape.length !== r || v.shape.length !== r) fail("attention: q, k and v need one rank >= 2");
      if (!dimEq(q.shape[r - 1], k.shape[r - 1]))
        fail(
          `attention: query width ${dimToString(q.shape[r - 1])} differs from key width ${dimToString(k.shape[r - 1])}`,
        );
      if (!dimEq(k.shape[r - 2], v.shape[r - 2]))
        fail(`attention: ${dimToString(k.shape[r - 2])} keys but ${dimToString(v.shape[r - 2])} values`);
      const batch = broadcastShapes(broadcastShapes(q.shape.slice(0, -2), k.shape.slice(0, -2)), v.shape.slice(0, -2));
      const scores = [...batch, q.shape[r - 2], k.shape[r - 2]];
      if (ins[3]) {
        const b = broadcastShapes(scores, ins[3].shape);
        if (b.length !== scores.length || !b.every((d, i) => dimEq(d, scores[i])))
          fail(
            `attention: bias ${shapeToString(ins[3].shape)} does not broadcast to the scores ${shapeToString(scores)}`,
          );
      }
      return [{ dtype, shape: [...batch, q.shape[r - 2], v.shape[r - 1]] }];
    },
    evaluate: (a, [q, k, v, bias]) => [attention(q, k, v, a.scale, bias)],
    macs: (_, [q, k, v], __, size) => {
      const scores = size(q.slice(0, -1)) * size([k[k.length - 2]]);
      return scores * (size([q[q.length - 1]]) + size([v[v.length - 1]]));
    },
  },
};
