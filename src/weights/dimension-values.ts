// Model parameters a checkpoint determines: a weight sized by a parameter (`Linear(dim, 3)` declares f32[3, dim])
// and the checkpoint tensor it maps to (f32[3, 768]) give the parameter's value (dim = 768), for a model whose
// parameter has no value yet. Found on the mapping the weight report uses, so the rules of `weights { }` apply.
import type { Span } from "../diagnostics/diagnostics.js";
import type { Dim } from "../compiler/ir/dim.js";
import type { DType } from "../util/tensor.js";
import { type DeclaredWeight, planWeights, type WeightSource } from "./mapping.js";

/** A weight as an elaboration on symbolic parameters declares it (see FrontendResult.symbolicWeights). */
export interface SymbolicWeight {
  path: string;
  dtype: DType;
  shape: readonly Dim[];
  span?: Span;
  layerSpan?: Span;
}

/** A parameter's value, and the first weight whose checkpoint shape gave it. */
export interface DimensionValue {
  name: string;
  value: number;
  weight: string;
  key: string;
  source: string;
  /** The checkpoint tensor's shape, and the weight's in the model. */
  shape: readonly number[];
  declared: readonly Dim[];
}

/** Stands for a size the checkpoint is to tell: no checkpoint tensor has it, so each symbolic weight mismatches. */
const UNKNOWN = -1;

/**
 * The values of `names` (model parameters without a value) that the checkpoints' shapes give, each only when every
 * weight it sizes agrees. A size that is a product or multiple of parameters is solved once the others are known
 * (`heads * head_dim` after `heads`). Throws the mapping's DiagnosticError for an invalid rule.
 */
export function dimensionValues(
  weights: readonly SymbolicWeight[],
  sources: readonly WeightSource[],
  names: ReadonlySet<string>,
): Map<string, DimensionValue> {
  const declared: DeclaredWeight[] = weights.map((w) => ({
    path: w.path,
    dtype: w.dtype,
    shape: w.shape.map((d) => (typeof d === "number" ? d : UNKNOWN)),
  }));
  const actual = new Map<string, { key: string; source: string; shape: readonly number[] }>();
  for (const m of planWeights(declared, sources).report.shapeMismatch)
    actual.set(m.path, { key: m.key, source: m.source, shape: m.actual });
  const equations = weights.flatMap((w) => {
    const found = actual.get(w.path);
    if (!found || found.shape.length !== w.shape.length) return [];
    return w.shape.flatMap((d, axis) =>
      typeof d === "number" ? [] : [{ dim: d, size: found.shape[axis], weight: w.path, declared: w.shape, ...found }],
    );
  });
  const values = new Map<string, DimensionValue>();
  const conflicting = new Set<string>();
  for (let progress = true; progress; ) {
    progress = false;
    for (const e of equations) {
      const solved = solve(e.dim, e.size, values);
      if (!solved || !names.has(solved.name) || conflicting.has(solved.name)) continue;
      const known = values.get(solved.name);
      if (known && known.value !== solved.value) {
        values.delete(solved.name);
        conflicting.add(solved.name);
        continue;
      }
      if (known) continue;
      const { weight, key, source, shape, declared } = e;
      values.set(solved.name, { ...solved, weight, key, source, shape, declared });
      progress = true;
    }
  }
  // A value that disagrees with a size it takes part in (dim = 768 where a weight is dim * 4 = 3000) is no value.
  for (const e of equations) {
    const rest = substitute(e.dim, values);
    if (rest.size === 1 && rest.has("") && rest.get("") !== e.size)
      for (const symbol of symbolsOf(e.dim)) values.delete(symbol);
  }
  return values;
}

/** The dimension with the known values put in: monomial key ("" for the constant) to coefficient. */
function substitute(dim: Exclude<Dim, number>, values: ReadonlyMap<string, DimensionValue>): Map<string, number> {
  const terms = new Map<string, number>();
  for (const [monomial, coefficient] of dim.terms) {
    let c = coefficient;
    const unknown: string[] = [];
    for (const s of monomial === "" ? [] : monomial.split("*")) {
      const v = values.get(s);
      if (v) c *= v.value;
      else unknown.push(s);
    }
    const key = unknown.join("*");
    terms.set(key, (terms.get(key) ?? 0) + c);
  }
  for (const [k, c] of terms) if (c === 0) terms.delete(k);
  return terms;
}

/** `a * s + c = size` for one unknown symbol s, when s comes out a positive integer. */
function solve(
  dim: Exclude<Dim, number>,
  size: number,
  values: ReadonlyMap<string, DimensionValue>,
): { name: string; value: number } | undefined {
  const terms = substitute(dim, values);
  const constant = terms.get("") ?? 0;
  terms.delete("");
  if (terms.size !== 1) return undefined;
  const [[name, coefficient]] = terms;
  if (name.includes("*")) return undefined;
  const value = (size - constant) / coefficient;
  return Number.isInteger(value) && value >= 1 ? { name, value } : undefined;
}

function symbolsOf(dim: Exclude<Dim, number>): string[] {
  return [...dim.terms.keys()].flatMap((k) => (k === "" ? [] : k.split("*")));
}
