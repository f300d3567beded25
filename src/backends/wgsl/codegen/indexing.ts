// Flat-index arithmetic for WGSL: every tensor is row-major and every shape static, so index maps are
// emitted as u32 expressions over constants (the shader compiler folds what it can).
import { stridesOf } from "../../../util/tensor.js";

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A u32 literal. */
export const u = (n: number): string => `${n}u`;

/** Parenthesises a compound index expression so it can be an operand. */
const atom = (i: string) => (/^\w+$/.test(i) ? i : `(${i})`);

/** Coordinate `d` of the flat index `i` of a tensor of `shape`. */
export function coord(index: string, shape: readonly number[], d: number): string {
  const i = atom(index);
  const stride = stridesOf(shape)[d];
  if (shape[d] === 1) return "0u";
  const div = stride === 1 ? i : `(${i} / ${u(stride)})`;
  return d === 0 ? div : `(${div} % ${u(shape[d])})`;
}

/** Σ terms[k] * factors[k], skipping zero factors; "0u" when nothing is left. */
export function linear(terms: readonly string[], factors: readonly number[]): string {
  const parts: string[] = [];
  terms.forEach((t, k) => {
    if (factors[k] === 0 || t === "0u") return;
    parts.push(factors[k] === 1 ? t : `${t} * ${u(factors[k])}`);
  });
  return parts.length === 0 ? "0u" : parts.join(" + ");
}

/**
 * The flat index into a tensor of shape `from` that numpy broadcasting reads for the flat index `i` of shape `to`.
 * The common cases (same shape, a scalar, a trailing-suffix match) avoid per-axis arithmetic.
 */
export function broadcastIndex(to: readonly number[], from: readonly number[], index: string): string {
  const i = atom(index);
  const n = numelOf(from);
  if (n === 1) return "0u";
  const lead = to.length - from.length;
  const padded = [...new Array<number>(lead).fill(1), ...from];
  if (n === numelOf(to) && padded.every((d, k) => d === to[k])) return i;
  // `from` matches a suffix of `to` after leading 1s: the index wraps around.
  const firstReal = padded.findIndex((d) => d !== 1);
  if (padded.slice(firstReal).every((d, k) => d === to[firstReal + k])) return `(${i} % ${u(n)})`;
  const fs = stridesOf(padded);
  const terms = to.map((_, d) => (padded[d] === 1 ? "0u" : coord(i, to, d)));
  return `(${linear(
    terms,
    fs.map((s, d) => (padded[d] === 1 ? 0 : s)),
  )})`;
}
