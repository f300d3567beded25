// Data-dependent selection: top-k and linear sampling at computed positions (split_index).
import { dimEq, dimToString, shapeToString } from "../dim.js";
import { fail, isFloat, isNumeric, normAxis, staticDim } from "../infer.js";
import type { HostTensor } from "../../../util/tensor.js";
import { sampleLinear, topk } from "../interp/select.js";
import type { OpAttrs } from "../ir.js";
import { NO_MACS, type OpSpec } from "./row.js";

const axisOf = (x: HostTensor, a: number) => normAxis(a, x.shape.length);

export const SELECT_OPS: { readonly [K in "topk" | "sample_linear"]: OpSpec<OpAttrs[K]> } = {
  topk: {
    doc: "the k largest (or smallest) values along an axis and their i64 indices",
    operands: ["x"],
    infer: (attrs, ins) => {
      const { axis, k } = attrs;
      if (!isNumeric(ins[0].dtype)) fail(`topk is not defined for ${ins[0].dtype}`);
      const ax = normAxis(axis, ins[0].shape.length);
      const n = staticDim(ins[0].shape[ax], "the top-k axis");
      if (!Number.isInteger(k) || k < 1 || k > n) fail(`topk: k = ${k} must be in 1..${n}`);
      const shape = [...ins[0].shape];
      shape[ax] = k;
      return [
        { dtype: ins[0].dtype, shape },
        { dtype: "i64", shape },
      ];
    },
    evaluate: (a, [x]) => topk(x, axisOf(x, a.axis), a.k, a.largest),
    macs: NO_MACS,
  },
  sample_linear: {
    doc: "linear interpolation along an axis at fractional positions",
    operands: ["x", "positions"],
    infer: (attrs, ins) => {
      const [x, pos] = ins;
      const ax = normAxis(attrs.axis, x.shape.length);
      if (!isFloat(x.dtype) || !isFloat(pos.dtype))
        fail(`sample_linear needs float data and positions, got ${x.dtype} and ${pos.dtype}`);
      if (pos.shape.length !== ax + 1)
        fail(
          `sample_linear along axis ${ax}: positions must be ` +
            `[${x.shape.slice(0, ax).map(dimToString).concat("K").join(", ")}] (one leading dim per axis before ` +
            `it), got ${shapeToString(pos.shape)}`,
        );
      pos.shape.slice(0, ax).forEach((d, i) => {
        if (!dimEq(d, x.shape[i]) && d !== 1)
          fail(
            `sample_linear: positions ${shapeToString(pos.shape)} do not match data ${shapeToString(x.shape)} ` +
              `on axis ${i}`,
          );
      });
      const shape = [...x.shape];
      shape[ax] = pos.shape[ax];
      return [{ dtype: x.dtype, shape }];
    },
    evaluate: (a, [x, positions]) => [sampleLinear(x, positions, axisOf(x, a.axis))],
    macs: NO_MACS,
  },
};
