// A small deterministic generator, so seeded weights and test data reproduce everywhere.

/**
 * mulberry32: a small, fast, well-mixed 32-bit generator; returns uniforms in (0, 1). Its state is a counter, so the
 * stream can start `skip` draws in (for drawing one stream in pieces, in parallel).
 */
export function uniforms(seed: number, skip = 0): () => number {
  let a = (seed + Math.imul(skip, 0x6d2b79f5)) | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
}
