// The layout language the printer builds and render.ts lays out (after Wadler's "prettier printer"):
// text, line breaks that their group either keeps on one line or breaks all together, and indentation.

export type Doc = string | readonly Doc[] | Group | Indent | Line | LineSuffix | BreakNext;

export interface Group {
  kind: "group";
  contents: Doc;
  /**
   * Set by resolveBreaks when a break is forced among the group's own lines: then it cannot be laid flat.
   * A group decides for itself: a broken group inside a flat one keeps its breaks.
   */
  broken: boolean;
  /**
   * Stays flat only if the whole rest of its line fits with the groups after it flat too, so that on a line of
   * several lists this one wraps first. A plain group stays flat if the text up to the next possible break fits.
   */
  wrapsFirst: boolean;
}

export interface Indent {
  kind: "indent";
  contents: Doc;
}

/**
 * A line break. In a flat group `space` prints one space and `soft` nothing; `hard` always breaks;
 * `fresh` breaks unless the current line is still empty (for comments that must start their own line).
 */
export interface Line {
  kind: "line";
  mode: "space" | "soft" | "hard" | "fresh";
}

/** Printed just before the next line break: keeps a trailing `// comment` at the end of its line. */
export interface LineSuffix {
  kind: "lineSuffix";
  contents: Doc;
  /** Printed on a line of its own (a comment that had one), instead of at the end of the current line. */
  startsLine: boolean;
  /** Nothing may follow it on its line (a `//` comment): a suffix due at the same break goes on a new line. */
  endsLine: boolean;
}

/** Makes the next line (in print order) break, so that a pending line suffix ends the line it is on. */
export interface BreakNext {
  kind: "breakNext";
}

export const line: Line = { kind: "line", mode: "space" };
export const softline: Line = { kind: "line", mode: "soft" };
export const hardline: Line = { kind: "line", mode: "hard" };
export const freshline: Line = { kind: "line", mode: "fresh" };
export const breakNext: BreakNext = { kind: "breakNext" };

export const group = (contents: Doc, options: { wrapsFirst?: boolean } = {}): Group => ({
  kind: "group",
  contents,
  broken: false,
  wrapsFirst: options.wrapsFirst ?? false,
});
export const indent = (contents: Doc): Indent => ({ kind: "indent", contents });
export const lineSuffix = (contents: Doc, options: { startsLine?: boolean; endsLine?: boolean } = {}): LineSuffix => ({
  kind: "lineSuffix",
  contents,
  startsLine: options.startsLine ?? false,
  endsLine: options.endsLine ?? false,
});

export function join(separator: Doc, docs: readonly Doc[]): Doc[] {
  return docs.flatMap((d, i) => (i === 0 ? [d] : [separator, d]));
}

/** `(a, b, c)`: on one line when it fits, else one item per line, indented, with no trailing comma. */
export function bracketed(
  open: string,
  items: readonly Doc[],
  close: string,
  options: { wrapsFirst?: boolean } = {},
): Doc {
  if (items.length === 0) return open + close;
  return group([open, indent([softline, join([",", line], items)]), softline, close], options);
}

export function isDocArray(doc: Doc): doc is readonly Doc[] {
  return Array.isArray(doc);
}

/**
 * Marks the groups that cannot be flat. A hard or fresh line, or a multi-line text, breaks every group around
 * it, as the text cannot fit on one line. A breakNext breaks only the group owning the next line, to end the
 * line there. Line suffixes are skipped: they print later, at a line break.
 */
export function resolveBreaks(doc: Doc): void {
  const groups: Group[] = [];
  let breakNextLine = false;
  /** Whether `d` holds a forced line break. */
  const visit = (d: Doc): boolean => {
    if (typeof d === "string") return d.includes("\n");
    if (isDocArray(d)) return d.reduce((forced: boolean, x) => visit(x) || forced, false);
    switch (d.kind) {
      case "group": {
        groups.push(d);
        const forced = visit(d.contents);
        groups.pop();
        if (forced) d.broken = true;
        return forced;
      }
      case "indent":
        return visit(d.contents);
      case "lineSuffix":
        return false;
      case "breakNext":
        breakNextLine = true;
        return false;
      case "line": {
        const forced = d.mode === "hard" || d.mode === "fresh";
        const owner = groups.at(-1);
        if (breakNextLine && !forced && owner) owner.broken = true;
        breakNextLine = false;
        return forced;
      }
    }
  };
  visit(doc);
}
