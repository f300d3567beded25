// One entry point from an IR op to its reference kernel; used by the interpreter and by constant folding.
import type { HostTensor } from "../../../util/tensor.js";
import type { Dim } from "../dim.js";
import { normAxis } from "../infer.js";
import { binaryRow, unaryRow } from "../elementwise-ops.js";
import type { OpAttrs, OpName } from "../ir.js";
import { binary, cast, clip, unary, where } from "./elementwise.js";
import * as layout from "./layout.js";
import { argmax, attention, batchNorm, layerNorm, matmul, reduce, softmax } from "./linalg.js";
import { scalarOf } from "./numeric.js";
import { lstm } from "./recurrent.js";
import { sampleLinear, topk } from "./select.js";
import { avgPool, conv, maxPool, resizeLinear } from "./window.js";

/** Turns a possibly symbolic shape attribute into numbers (with the run's symbol values). */
export type ShapeResolver = (shape: readonly Dim[]) => number[];

/** Evaluates one computing op on concrete inputs; sources (`input`, `param`) are bound by the caller. */
export function evalOp<K extends OpName>(op: K, attrs: OpAttrs[K], ins: HostTensor[], resolve: ShapeResolver): HostTensor[] {
  const [x] = ins;
  const axis = (a: number) => normAxis(a, x.shape.length);
  const unaryOp = unaryRow(op);
  if (unaryOp) return [unary(unaryOp, x, attrs)];
  const binaryOp = binaryRow(op);
  if (binaryOp) return [binary(binaryOp, x, ins[1])];
  switch (op) {
    case "const":
      return [(attrs as OpAttrs["const"]).value];
    case "where":
      return [where(x, ins[1], ins[2])];
    case "cast":
      return [cast(x, (attrs as OpAttrs["cast"]).to)];
    case "clip": {
      const { min, max } = attrs as OpAttrs["clip"];
      return [clip(x, min, max)];
    }
    case "matmul":
      return [matmul(x, ins[1])];
    case "reduce": {
      const { kind, axes, keepdims } = attrs as OpAttrs["reduce"];
      return [reduce(x, kind, new Set(axes.map(axis)), keepdims)];
    }
    case "argmax": {
      const a = attrs as OpAttrs["argmax"];
      return [argmax(x, axis(a.axis), a.keepdims)];
    }
    case "softmax":
      return [softmax(x, axis((attrs as OpAttrs["softmax"]).axis))];
    case "layer_norm": {
      const a = attrs as OpAttrs["layer_norm"];
      return [layerNorm(x, axis(a.axis), a.eps, ins[1], ins[2])];
    }
    case "batch_norm":
      return [batchNorm(x, ins[1], ins[2], ins[3], ins[4], (attrs as OpAttrs["batch_norm"]).eps)];
    case "attention":
      return [attention(x, ins[1], ins[2], (attrs as OpAttrs["attention"]).scale, ins[3])];
    case "lstm": {
      const { reverse, bias } = attrs as OpAttrs["lstm"];
      const state = bias ? 5 : 3;
      return lstm({ x, wIh: ins[1], wHh: ins[2], bIh: bias ? ins[3] : undefined, bHh: bias ? ins[4] : undefined, h0: ins[state], c0: ins[state + 1] }, reverse);
    }
    case "transpose":
      return [layout.transpose(x, (attrs as OpAttrs["transpose"]).perm)];
    case "reshape":
      return [layout.reshape(x, resolve((attrs as OpAttrs["reshape"]).shape))];
    case "expand":
      return [layout.expand(x, resolve((attrs as OpAttrs["expand"]).shape))];
    case "slice": {
      const a = attrs as OpAttrs["slice"];
      return [layout.slice(x, axis(a.axis), a.start, a.end, a.step)];
    }
    case "concat":
      return [layout.concat(ins, axis((attrs as OpAttrs["concat"]).axis))];
    case "pad": {
      const a = attrs as OpAttrs["pad"];
      return [layout.pad(x, a.pads, scalarOf(x.dtype, a.value))];
    }
    case "gather":
      return [layout.gather(x, ins[1], axis((attrs as OpAttrs["gather"]).axis))];
    case "gather_elements":
      return [layout.gatherElements(x, ins[1], axis((attrs as OpAttrs["gather_elements"]).axis))];
    case "conv":
      return [conv(x, ins[1], ins[2], attrs as OpAttrs["conv"])];
    case "max_pool":
      return [maxPool(x, attrs as OpAttrs["max_pool"])];
    case "avg_pool":
      return [avgPool(x, attrs as OpAttrs["avg_pool"])];
    case "resize": {
      const a = attrs as OpAttrs["resize"];
      return [resizeLinear(x, a.sizes, a.alignCorners)];
    }
    case "topk": {
      const a = attrs as OpAttrs["topk"];
      return topk(x, axis(a.axis), a.k, a.largest);
    }
    case "sample_linear":
      return [sampleLinear(x, ins[1], axis((attrs as OpAttrs["sample_linear"]).axis))];
  }
  throw new Error(`evalOp: ${op} is a source op or unknown`);
}
