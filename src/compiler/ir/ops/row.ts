// The shape of one row of the op registry: everything the compiler knows about a non-elementwise core op
// (elementwise ops have their own rows in ../elementwise-ops.ts). Rows are grouped by family in this folder and
// collected, one per op, in ./index.ts; backends key their lowering tables by the same op union.
import type { HostTensor } from "../../../util/tensor.js";
import type { Dim } from "../dim.js";
import type { RuleContext, TensorType } from "../infer.js";

/** Turns a possibly symbolic shape attribute into numbers (with the run's symbol values). */
export type ShapeResolver = (shape: readonly Dim[]) => number[];

/** Multiply-accumulates of one node, given its operand and result shapes; `size` counts a shape's elements. */
export type MacCount<A> = (
  attrs: A,
  ins: readonly (readonly Dim[])[],
  outs: readonly (readonly Dim[])[],
  size: (shape: readonly Dim[]) => number,
) => number;

/**
 * The operands, by name, in order: a name ending in `?` is optional (only trailing ones), `...` after a name means
 * one or more, and "rule" leaves the count to the type rule (an op whose operand list depends on its attributes).
 */
export type Operands = readonly string[] | "rule";

/** One non-elementwise op with attributes A. */
export interface OpSpec<A> {
  /** One line for docs and hovers. */
  readonly doc: string;
  readonly operands: Operands;
  /** The type/shape rule: result types from the operand types, or an InferError phrased for the user. */
  readonly infer: (attrs: A, ins: readonly TensorType[], c: RuleContext) => TensorType[];
  /** The reference semantics on host tensors; "source" for the ops whose values the caller binds. */
  readonly evaluate: ((attrs: A, ins: HostTensor[], resolve: ShapeResolver) => HostTensor[]) | "source";
  /** The cost that `netc inspect` reports. */
  readonly macs: MacCount<A>;
}

/** No multiply-accumulates (layout, normalisations, selections: their cost is memory traffic). */
export const NO_MACS = (): number => 0;
