// The seeded normal draw behind random weights: each tensor's values come from its own stream, keyed by a seed and
// the tensor's path, so any tensor (and any piece of one) can be drawn apart from the others, in any order.
import { uniforms } from "./random.js";

/** FNV-1a of the path mixed with the seed, so each parameter's draw is independent of the others. */
export function streamSeed(seed: number, path: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Fills `out` with values [from, from + out.length) of the path's normal(0, std) stream: Box-Muller on its uniforms,
 * two values from two uniforms, each computed in double precision and stored (rounded, for f32) straight into `out`.
 * `from` must be even (a pair of values shares its uniforms); the values do not depend on how a tensor is cut.
 */
export function drawNormals(
  out: Float32Array | Float64Array,
  stream: number,
  std: number,
  from = 0,
  next: (seed: number, skip: number) => () => number = uniforms,
): void {
  const u = next(stream, from);
  const n = out.length;
  for (let i = 0; i < n; i += 2) {
    const r = std * Math.sqrt(-2 * Math.log(u()));
    const theta = 2 * Math.PI * u();
    out[i] = r * Math.cos(theta);
    if (i + 1 < n) out[i + 1] = r * Math.sin(theta);
  }
}
