// The layout language the printer builds and render.ts lays out (after Wadler's "prettier printer"):
// text, line breaks that a group either keeps on one line or breaks all together, and indentation.

export type Doc = string | readonly Doc[] | Group | Indent | Line | LineSuffix | BreakParent;

export interface Group {
  kind: "group";
  contents: Doc;
  /** Set by propagateBreaks when the contents hold a forced break: then the group cannot be laid flat. */
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
}

/** Forces the enclosing groups to break (a line comment must end its line). */
export interface BreakParent {
  kind: "breakParent";
}

export const line: Line = { kind: "line", mode: "space" };
export const softline: Line = { kind: "line", mode: "soft" };
export const hardline: Line = { kind: "line", mode: "hard" };
export const freshline: Line = { kind: "line", mode: "fresh" };
export const breakParent: BreakParent = { kind: "breakParent" };

export const group = (contents: Doc, options: { wrapsFirst?: boolean } = {}): Group => ({
  kind: "group",
  contents,
  broken: false,
  wrapsFirst: options.wrapsFirst ?? false,
});
export const indent = (contents: Doc): Indent => ({ kind: "indent", contents });
export const lineSuffix = (contents: Doc): LineSuffix => ({ kind: "lineSuffix", contents });

export function join(separator: Doc, docs: readonly Doc[]): Doc[] {
  return docs.flatMap((d, i) => (i === 0 ? [d] : [separator, d]));
}

/** Marks every group that contains a forced break (hard or fresh line, breakParent, multi-line text) as broken. */
export function propagateBreaks(doc: Doc): boolean {
  if (typeof doc === "string") return doc.includes("\n");
  if (isDocArray(doc)) return doc.map(propagateBreaks).some(Boolean);
  switch (doc.kind) {
    case "group":
      doc.broken = propagateBreaks(doc.contents) || doc.broken;
      return doc.broken;
    case "indent":
      return propagateBreaks(doc.contents);
    case "line":
      return doc.mode === "hard" || doc.mode === "fresh";
    case "lineSuffix":
      propagateBreaks(doc.contents);
      return false;
    case "breakParent":
      return true;
  }
}

export function isDocArray(doc: Doc): doc is readonly Doc[] {
  return Array.isArray(doc);
}

/** `(a, b, c)`: on one line when it fits, else one item per line, indented, with no trailing comma. */
export function bracketed(open: string, items: readonly Doc[], close: string, options: { wrapsFirst?: boolean } = {}): Doc {
  if (items.length === 0) return open + close;
  return group([open, indent([softline, join([",", line], items)]), softline, close], options);
}
