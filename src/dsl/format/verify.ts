// Checks that formatting changed only the layout: same syntax tree (spans aside), same comments.
import type { SourceFile } from "../1-parse/ast.js";
import { parseSource } from "../1-parse/parse.js";
import { normalizeCommentText } from "./comments.js";

/** Positions, and the comment list (compared on its own), are not part of a program's syntax. */
const LAYOUT_KEYS = new Set(["span", "opSpan", "pathSpan", "comments"]);

/** The path of the first place where two syntax trees differ, ignoring positions; undefined when they agree. */
export function syntaxDifference(a: unknown, b: unknown, path = "$"): string | undefined {
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null)
    return Object.is(a, b) ? undefined : path;
  if (Array.isArray(a) !== Array.isArray(b)) return path;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}.length`;
    for (let i = 0; i < a.length; i++) {
      const difference = syntaxDifference(a[i], b[i], `${path}[${i}]`);
      if (difference) return difference;
    }
    return undefined;
  }
  const keys = new Set([...syntaxKeys(a), ...syntaxKeys(b)]);
  for (const key of keys) {
    const difference = syntaxDifference(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      `${path}.${key}`,
    );
    if (difference) return difference;
  }
  return undefined;
}

/** Keys that carry syntax; an absent optional and one set to undefined are the same. */
function syntaxKeys(node: object): string[] {
  return Object.entries(node)
    .filter(([key, value]) => value !== undefined && !LAYOUT_KEYS.has(key))
    .map(([key]) => key);
}

/** The comments' texts, as the formatter prints them, in sorted order: a multiset. */
export function commentTexts(file: SourceFile): string[] {
  return file.comments.map((c) => normalizeCommentText(c.text)).sort();
}

/**
 * Throws when `formatted` does not parse back to `original`'s program and comments: a formatter bug, reported
 * instead of writing a file whose meaning changed.
 */
export function verifyFormatting(original: SourceFile, formatted: string): void {
  const problem = formattingProblem(original, formatted);
  if (problem) throw new Error(`fmt would change ${original.file}: ${problem}; the file was left unchanged`);
}

function formattingProblem(original: SourceFile, formatted: string): string | undefined {
  const reparsed = parseSource(original.file, formatted);
  if (reparsed.diagnostics.length > 0) return `the output does not parse: ${reparsed.diagnostics[0].message}`;
  const difference = syntaxDifference(original, reparsed.ast);
  if (difference) return `the syntax tree differs at ${difference}`;
  if (commentTexts(original).join("\n") !== commentTexts(reparsed.ast).join("\n"))
    return "comments were lost or changed";
  return undefined;
}
