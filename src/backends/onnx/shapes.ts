// Shape tensors for Reshape/Expand targets. Static dims are literals; a symbolic dim is computed from the Shape
// of a model input that has it (Shape nodes appear nowhere else), once per dim and graph.
import { type Dim, dimEq, dimToString, isStatic } from "../../compiler/ir/dim.js";
import { symbolFactor } from "../../compiler/ir/symbols.js";
import { LoweringError, type NodeEmitter } from "./context.js";
import { attr } from "./proto.js";

const I64_1 = { dtype: "i64", shape: [1] } as const;

/** The value of symbol `s` as an i64 [1] tensor, read off the first input axis of the form c*s. */
function symbolTensor(e: NodeEmitter, s: string): string {
  for (const { name, value } of e.g.inputs)
    for (const [axis, d] of value.shape.entries()) {
      const f = symbolFactor(d);
      if (f?.[0] !== s) continue;
      const size = e.apply("Shape", [name], I64_1, [attr.int("start", axis), attr.int("end", axis + 1)], s);
      return f[1] === 1 ? size : e.apply("Div", [size, e.i64s([f[1]], "coef")], I64_1, [], s);
    }
  throw new LoweringError(
    `the symbolic dim ${s} is not the size of any model input axis, so its value cannot be computed`,
  );
}

/** The value of `d` as an i64 [1] tensor. */
function dimTensor(e: NodeEmitter, d: Dim): string {
  if (isStatic(d)) return e.i64s([d], "dim");
  const key = dimToString(d);
  const known = e.g.dimTensors.get(key);
  if (known) return known;
  let sum: string | undefined;
  for (const [monomial, coef] of d.terms) {
    let term =
      monomial === ""
        ? undefined
        : monomial
            .split("*")
            .map((s) => cachedSymbol(e, s))
            .reduce((a, b) => e.apply("Mul", [a, b], I64_1, [], key));
    if (term === undefined) term = e.i64s([coef], "dim");
    else if (coef !== 1) term = e.apply("Mul", [term, e.i64s([coef], "coef")], I64_1, [], key);
    sum = sum === undefined ? term : e.apply("Add", [sum, term], I64_1, [], key);
  }
  e.g.dimTensors.set(key, sum!);
  return sum!;
}

function cachedSymbol(e: NodeEmitter, s: string): string {
  const known = e.g.dimTensors.get(s);
  if (known) return known;
  const t = symbolTensor(e, s);
  e.g.dimTensors.set(s, t);
  return t;
}

/** A shape as an i64 [rank] tensor: a literal when static, else a Concat of per-dim tensors. */
export function shapeTensor(e: NodeEmitter, dims: readonly Dim[]): string {
  if (dims.every(isStatic)) return e.i64s(dims as number[], "shape");
  return e.apply(
    "Concat",
    dims.map((d) => dimTensor(e, d)),
    { dtype: "i64", shape: [dims.length] },
    [attr.int("axis", 0)],
    "shape",
  );
}

/** The Reshape shape input and whether it needs allowzero (a literal 0 dim must not mean "copy"). */
export function reshapeTarget(
  e: NodeEmitter,
  from: readonly Dim[],
  to: readonly Dim[],
): { shape: string; allowZero: boolean } {
  const allowZero = to.some((d) => d === 0);
  if (to.every(isStatic)) return { shape: e.i64s(to as number[], "shape"), allowZero };
  // A symbolic dim kept in place is copied with 0; one remaining symbolic dim is inferred with -1.
  const copied = to.map((d, i) => (!allowZero && !isStatic(d) && i < from.length && dimEq(d, from[i]) ? 0 : d));
  const open = copied.filter((d) => !isStatic(d)).length;
  if (open === 0) return { shape: e.i64s(copied as number[], "shape"), allowZero };
  if (open === 1 && !allowZero)
    return {
      shape: e.i64s(
        copied.map((d) => (isStatic(d) ? d : -1)),
        "shape",
      ),
      allowZero,
    };
  return { shape: shapeTensor(e, to), allowZero };
}

/** Emits a Reshape of `input` (of shape `from`) into `output` (of shape `to`). */
export function emitReshape(
  e: NodeEmitter,
  input: string,
  from: readonly Dim[],
  to: readonly Dim[],
  output: string,
): void {
  const { shape, allowZero } = reshapeTarget(e, from, to);
  e.emit("Reshape", [input, shape], [output], allowZero ? [attr.int("allowzero", 1)] : []);
}

/** The Expand shape input: dims that equal the input's symbolic dims become 1 (Expand broadcasts both ways). */
export function expandTarget(e: NodeEmitter, from: readonly Dim[], to: readonly Dim[]): string {
  const lead = to.length - from.length;
  return shapeTensor(
    e,
    to.map((d, i) => (i >= lead && !isStatic(d) && dimEq(d, from[i - lead]) ? 1 : d)),
  );
}
