// "Did you mean ...?" for unknown names: the closest candidate by edit distance, if it is close enough.
// Each call does bounded work whatever the input (a file can hold 10k unknown names, or names of 100k characters):
// long names get no suggestion, at most MAX_CANDIDATES candidates are looked at, those whose length alone rules
// them out are skipped, a comparison stops once it cannot beat the best, and all comparisons share a budget of
// MAX_CELLS steps.

/** Names longer than this are not typos of a name worth suggesting. */
const MAX_NAME_LENGTH = 64;
const MAX_CANDIDATES = 1000;
const MAX_CELLS = 10_000;

export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  if (name.length > MAX_NAME_LENGTH) return undefined;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  let [looked, cells] = [0, 0];
  for (const c of candidates) {
    if (++looked > MAX_CANDIDATES || cells > MAX_CELLS) break;
    // the distance is at least the length difference
    if (c === best || Math.abs(c.length - name.length) >= bestDistance) continue;
    cells += name.length * (c.length + 1);
    const d = editDistance(name, c, bestDistance);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** Levenshtein distance, or `limit` as soon as the distance is known to be at least `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    let rowMin = row[0];
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
      rowMin = Math.min(rowMin, row[j]);
    }
    if (rowMin >= limit) return limit;
  }
  return row[b.length];
}
