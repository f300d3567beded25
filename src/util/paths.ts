// Long lists of dotted weight paths, summarised for messages: grouped under the shortest prefix that tells them apart
// (one segment, or more while every path shares it), with numeric indices written `*`.

export interface PathGroup {
  /** `landmark.conv_45.*`, `blocks.*.*`. */
  pattern: string;
  count: number;
  /** The first path of the group. */
  first: string;
}

const segmentPattern = (s: string) => (/^\d+$/.test(s) ? "*" : s);

/** Groups in order of first appearance. */
export function groupPaths(paths: readonly string[]): PathGroup[] {
  const split = paths.map((p) => p.split("."));
  // A loop, not Math.max(...): a checkpoint can offer 200,000 unexpected tensors, more than a call takes arguments.
  const deepest = split.reduce((d, s) => Math.max(d, s.length - 1), 1);
  let groups = new Map<string, PathGroup>();
  for (let depth = 1; depth <= deepest; depth++) {
    groups = new Map();
    split.forEach((segments, i) => {
      const pattern =
        segments.length <= depth ? paths[i] : [...segments.slice(0, depth).map(segmentPattern), "*"].join(".");
      const group = groups.get(pattern);
      if (group) group.count++;
      else groups.set(pattern, { pattern, count: 1, first: paths[i] });
    });
    if (groups.size > 1) break;
  }
  return [...groups.values()];
}

/** `fc.* (2), blocks.*.* (24), head.weight, and 3 more groups`: at most `shown` groups; a group of one is its path. */
export function summarisePaths(paths: readonly string[], shown = 5): string {
  const groups = groupPaths(paths);
  const text = groups.slice(0, shown).map((g) => (g.count === 1 ? g.first : `${g.pattern} (${g.count})`));
  const more = groups.length - shown;
  return text.join(", ") + (more > 0 ? `, and ${more} more group${more === 1 ? "" : "s"}` : "");
}
