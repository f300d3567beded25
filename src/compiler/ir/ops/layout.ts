// Layout ops: index maps that move or select elements without computing new values.
import { dimAdd, dimEq, dimProduct, dimToString, shapeToString, type Dim } from "../dim.js";
import { broadcastShapes, checkDims, fail, normAxis, sameDType, staticDim } from "../infer.js";
import type { HostTensor } from "../../../util/tensor.js";
import * as layout from "../interp/layout.js";
import { scalarOf } from "../interp/numeric.js";
import type { OpAttrs } from "../ir.js";
import { NO_MACS, type OpSpec } from "./row.js";

const axisOf = (x: HostTensor, a: number) => normAxis(a, x.shape.length);

type LayoutOp = "transpose" | "reshape" | "expand" | "slice" | "concat" | "pad" | "gather" | "gather_elements";

export const LAYOUT_OPS: { readonly [K in LayoutOp]: OpSpec<OpAttrs[K]> } = {
  transpose: {
    doc: "permutes the axes",
    operands: ["x"],
    infer: (attrs, ins) => {
      const perm = attrs.perm;
      const rank = ins[0].shape.length;
      if (
        perm.length !== rank ||
        new Set(perm).size !== rank ||
        perm.some((p) => p < 0 || p >= rank || !Number.isInteger(p))
      )
        fail(`transpose: [${perm.join(", ")}] is not a permutation of ${rank} axes`);
      return [{ dtype: ins[0].dtype, shape: perm.map((p) => ins[0].shape[p]) }];
    },
    evaluate: (a, [x]) => [layout.transpose(x, a.perm)],
    macs: NO_MACS,
  },
  reshape: {
    doc: "the same elements in a new shape (row-major)",
    operands: ["x"],
    infer: (attrs, ins) => {
      const shape = attrs.shape;
      checkDims(shape, "reshape");
      if (!dimEq(dimProduct(shape), dimProduct(ins[0].shape)))
        fail(
          `reshape: ${shapeToString(ins[0].shape)} has ${dimToString(dimProduct(ins[0].shape))} elements, ` +
            `${shapeToString(shape)} has ${dimToString(dimProduct(shape))}`,
        );
      return [{ dtype: ins[0].dtype, shape }];
    },
    evaluate: (a, [x], resolve) => [layout.reshape(x, resolve(a.shape))],
    macs: NO_MACS,
  },
  expand: {
    doc: "broadcasts to a shape",
    operands: ["x"],
    infer: (attrs, ins) => {
      const shape = attrs.shape;
      checkDims(shape, "expand");
      const b = broadcastShapes(ins[0].shape, shape);
      if (b.length !== shape.length || !b.every((d, i) => dimEq(d, shape[i])))
        fail(`expand: ${shapeToString(ins[0].shape)} cannot be expanded to ${shapeToString(shape)}`);
      return [{ dtype: ins[0].dtype, shape }];
    },
    evaluate: (a, [x], resolve) => [layout.expand(x, resolve(a.shape))],
    macs: NO_MACS,
  },
  slice: {
    doc: "start:end:step along one axis",
    operands: ["x"],
    infer: (attrs, ins) => {
      const { axis, start, end, step } = attrs;
      const ax = normAxis(axis, ins[0].shape.length);
      const n = staticDim(ins[0].shape[ax], "a sliced axis");
      if (![start, end, step].every(Number.isInteger) || step < 1)
        fail("slice: start and end must be integers and step an integer >= 1");
      if (start < 0 || end > n || start > end) fail(`slice ${start}:${end} is outside an axis of size ${n}`);
      const shape = [...ins[0].shape];
      shape[ax] = Math.ceil((end - start) / step);
      return [{ dtype: ins[0].dtype, shape }];
    },
    evaluate: (a, [x]) => [layout.slice(x, axisOf(x, a.axis), a.start, a.end, a.step)],
    macs: NO_MACS,
  },
  concat: {
    doc: "joins tensors along an axis",
    operands: ["x..."],
    infer: (attrs, ins) => {
      if (ins.length < 1) fail("concat needs at least one tensor");
      const ax = normAxis(attrs.axis, ins[0].shape.length);
      const dtype = sameDType(ins, "concat");
      let total: Dim = 0;
      for (const t of ins) {
        if (t.shape.length !== ins[0].shape.length)
          fail(`concat: ranks differ (${ins.map((x) => shapeToString(x.shape)).join(", ")})`);
        t.shape.forEach((d, i) => {
          if (i !== ax && !dimEq(d, ins[0].shape[i]))
            fail(
              `concat along axis ${ax}: shapes ${ins.map((x) => shapeToString(x.shape)).join(", ")} differ on ` +
                `axis ${i}`,
            );
        });
        total = dimAdd(total, t.shape[ax]);
      }
      const shape = [...ins[0].shape];
      shape[ax] = total;
      return [{ dtype, shape }];
    },
    evaluate: (a, ins) => [layout.concat(ins, axisOf(ins[0], a.axis))],
    macs: NO_MACS,
  },
  pad: {
    doc: "constant padding before and after each axis",
    operands: ["x"],
    infer: (attrs, ins) => {
      const pads = attrs.pads;
      const r = ins[0].shape.length;
      if (pads.length !== 2 * r || pads.some((p) => !(p >= 0))) fail(`pad needs ${2 * r} non-negative pads`);
      return [{ dtype: ins[0].dtype, shape: ins[0].shape.map((d, i) => dimAdd(d, pads[i] + pads[i + r])) }];
    },
    evaluate: (a, [x]) => [layout.pad(x, a.pads, scalarOf(x.dtype, a.value))],
    macs: NO_MACS,
  },
  gather: {
    doc: "numpy.take: i64 indices (any shape) replace an axis",
    operands: ["x", "indices"],
    infer: (attrs, ins) => {
      const ax = normAxis(attrs.axis, ins[0].shape.length);
      if (ins[1].dtype !== "i64") fail(`gather needs i64 indices, got ${ins[1].dtype}`);
      const s = ins[0].shape;
      return [{ dtype: ins[0].dtype, shape: [...s.slice(0, ax), ...ins[1].shape, ...s.slice(ax + 1)] }];
    },
    evaluate: (a, [x, indices]) => [layout.gather(x, indices, axisOf(x, a.axis))],
    macs: NO_MACS,
  },
  gather_elements: {
    doc: "numpy.take_along_axis",
    operands: ["x", "indices"],
    infer: (attrs, ins) => {
      const ax = normAxis(attrs.axis, ins[0].shape.length);
      if (ins[1].dtype !== "i64") fail(`gather_elements needs i64 indices, got ${ins[1].dtype}`);
      if (ins[1].shape.length !== ins[0].shape.length) fail("gather_elements: indices must have the data's rank");
      ins[1].shape.forEach((d, i) => {
        if (i !== ax && !dimEq(d, ins[0].shape[i]))
          fail(
            `gather_elements: indices ${shapeToString(ins[1].shape)} differ from data ` +
              `${shapeToString(ins[0].shape)} on axis ${i}`,
          );
      });
      return [{ dtype: ins[0].dtype, shape: ins[1].shape }];
    },
    evaluate: (a, [x, indices]) => [layout.gatherElements(x, indices, axisOf(x, a.axis))],
    macs: NO_MACS,
  },
};
