// Layout ops: transpose, reshape, expand, slice, concat, pad, gather, gather_elements.
import { normAxis } from "../../compiler/ir/infer.js";
import type { NodeEmitter } from "./context.js";
import { attr } from "./proto.js";
import { emitReshape, expandTarget } from "./shapes.js";

/** The IR node's `axis` attribute, made non-negative against its first input. */
function axisOf(e: NodeEmitter): number {
  return normAxis((e.node.attrs as { axis: number }).axis, e.node.inputs[0].shape.length);
}

export function lowerTranspose(e: NodeEmitter<"transpose">): void {
  e.emit("Transpose", e.inputs, [e.out()], [attr.ints("perm", e.node.attrs.perm)]);
}

export function lowerReshape(e: NodeEmitter): void {
  emitReshape(e, e.inputs[0], e.node.inputs[0].shape, e.node.outputs[0].shape, e.out());
}

export function lowerExpand(e: NodeEmitter): void {
  e.emit("Expand", [e.inputs[0], expandTarget(e, e.node.inputs[0].shape, e.node.outputs[0].shape)], [e.out()]);
}

export function lowerSlice(e: NodeEmitter<"slice">): void {
  const { start, end, step } = e.node.attrs;
  e.emit(
    "Slice",
    [
      e.inputs[0],
      e.i64s([start], "starts"),
      e.i64s([end], "ends"),
      e.i64s([axisOf(e)], "axes"),
      e.i64s([step], "steps"),
    ],
    [e.out()],
  );
}

export function lowerConcat(e: NodeEmitter): void {
  e.emit("Concat", e.inputs, [e.out()], [attr.int("axis", axisOf(e))]);
}

export function lowerPad(e: NodeEmitter<"pad">): void {
  const { pads, value } = e.node.attrs;
  const x = e.node.inputs[0];
  e.emit("Pad", [e.inputs[0], e.i64s(pads, "pads"), e.scalar(x.dtype, value, "value")], [e.out()]);
}

export function lowerGather(e: NodeEmitter): void {
  e.emit("Gather", e.inputs, [e.out()], [attr.int("axis", axisOf(e))]);
}

export function lowerGatherElements(e: NodeEmitter): void {
  e.emit("GatherElements", e.inputs, [e.out()], [attr.int("axis", axisOf(e))]);
}
