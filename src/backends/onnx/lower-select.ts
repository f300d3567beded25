// Top-k and linear sampling along one axis.
import { type Dim, dimToString, isStatic, shapeEq } from "../../compiler/ir/dim.js";
import { normAxis, type TensorType } from "../../compiler/ir/infer.js";
import { LoweringError, type NodeEmitter } from "./context.js";
import { attr, onnxDataType } from "./proto.js";
import { expandTarget, reshapeTarget } from "./shapes.js";

export function lowerTopk(e: NodeEmitter<"topk">): void {
  const { axis, k, largest } = e.node.attrs;
  const a = normAxis(axis, e.node.inputs[0].shape.length);
  e.emit(
    "TopK",
    [e.inputs[0], e.i64s([k], "k")],
    [e.out(0), e.out(1)],
    [attr.int("axis", a), attr.int("largest", largest ? 1 : 0), attr.int("sorted", 1)],
  );
}

function reshapeTo(e: NodeEmitter, input: string, from: TensorType, shape: Dim[], tag: string): string {
  const t = reshapeTarget(e, from.shape, shape);
  return e.apply(
    "Reshape",
    [input, t.shape],
    { dtype: from.dtype, shape },
    t.allowZero ? [attr.int("allowzero", 1)] : [],
    tag,
  );
}

/**
 * How sample_linear reads x at integer positions `idx` (shaped like pos). Positions shared by every leading index
 * (leading dims all 1) use Gather along the axis; otherwise the indices are broadcast to the output's shape and
 * read with GatherElements.
 */
function positionReader(e: NodeEmitter, ax: number, aligned: Dim[]): (idx: string, tag: string) => string {
  const [x, pos] = e.node.inputs;
  const out = e.node.outputs[0];
  const idxType = { dtype: "i64" as const, shape: pos.shape };
  const trail = x.shape.length - ax - 1;
  if (pos.shape.slice(0, ax).every((d) => d === 1)) {
    const flat = (idx: string) => (pos.shape.length === 1 ? idx : reshapeTo(e, idx, idxType, [pos.shape[ax]], "flat"));
    return (idx, tag) => e.apply("Gather", [e.inputs[0], flat(idx)], out, [attr.int("axis", ax)], tag);
  }
  const expand = (idx: string) => {
    const r = trail > 0 ? reshapeTo(e, idx, idxType, aligned, "aligned") : idx;
    if (shapeEq(aligned, out.shape)) return r;
    return e.apply(
      "Expand",
      [r, expandTarget(e, aligned, out.shape)],
      { dtype: "i64", shape: out.shape },
      [],
      "expanded",
    );
  };
  return (idx, tag) => e.apply("GatherElements", [e.inputs[0], expand(idx)], out, [attr.int("axis", ax)], tag);
}

/** sample_linear (semantics.md) as Clip, Floor, Cast, two gathers and (1 - f) * x0 + f * x1. */
export function lowerSampleLinear(e: NodeEmitter<"sample_linear">): void {
  const [x, pos] = e.node.inputs;
  const out = e.node.outputs[0];
  const ax = normAxis(e.node.attrs.axis, x.shape.length);
  const n = x.shape[ax];
  if (!isStatic(n))
    throw new LoweringError(`sample_linear needs a static size along the sampled axis, got ${dimToString(n)}`);
  const posType = { dtype: pos.dtype, shape: pos.shape };
  const idxType = { dtype: "i64" as const, shape: pos.shape };
  const p = e.apply(
    "Clip",
    [e.inputs[1], e.scalar(pos.dtype, 0, "lo"), e.scalar(pos.dtype, n - 1, "hi")],
    posType,
    [],
    "clamped",
  );
  const floor = e.apply("Floor", [p], posType);
  let frac = e.apply("Sub", [p, floor], posType, [], "frac");
  const i0 = e.apply("Cast", [floor], idxType, [attr.int("to", onnxDataType("i64"))], "i0");
  const i1 = e.apply(
    "Min",
    [e.apply("Add", [i0, e.i64s([1], "one")], idxType, [], "next"), e.i64s([n - 1], "last")],
    idxType,
    [],
    "i1",
  );

  // Indices and weights get singleton trailing dims, so they line up with x's layout.
  const trail = x.shape.length - ax - 1;
  const aligned: Dim[] = [...pos.shape, ...Array<Dim>(trail).fill(1)];
  const read = positionReader(e, ax, aligned);
  const x0 = read(i0, "x0");
  const x1 = read(i1, "x1");
  if (pos.dtype !== x.dtype)
    frac = e.apply(
      "Cast",
      [frac],
      { dtype: x.dtype, shape: pos.shape },
      [attr.int("to", onnxDataType(x.dtype))],
      "frac",
    );
  const w = trail > 0 ? reshapeTo(e, frac, { dtype: x.dtype, shape: pos.shape }, aligned, "weight") : frac;
  const keep = e.apply("Sub", [e.scalar(x.dtype, 1, "one"), w], { dtype: x.dtype, shape: aligned }, [], "keep");
  const a = e.apply("Mul", [x0, keep], out, [], "left");
  const b = e.apply("Mul", [x1, w], out, [], "right");
  e.emit("Add", [a, b], [e.out()]);
}
