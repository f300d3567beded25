// Comments into the layout: those attached to nodes, and lists of lines with the comments between them.
import type { CommentPlacement, PlacedComment } from "./comments.js";
import { breakNext, type Doc, freshline, hardline, indent, lineSuffix } from "./doc.js";
import type { SourceText } from "./source.js";

export interface PrintContext {
  source: SourceText;
  comments: CommentPlacement;
  /**
   * Parentheses that only help the reader (`-(-a)`, `(x / d) @ w`); off when they would nest past the parser's limit.
   */
  clarify: boolean;
}

/** `doc` with the comments attached to `node` around it. */
export function withComments(ctx: PrintContext, node: object, doc: Doc): Doc {
  if (!ctx.comments.hasAny(node)) return doc;
  return [commentsBefore(ctx, node), doc, commentsAfter(ctx, node)];
}

export function commentsBefore(ctx: PrintContext, node: object): Doc {
  return (ctx.comments.leading.get(node) ?? []).map(leadingComment);
}

export function commentsAfter(ctx: PrintContext, node: object): Doc {
  return (ctx.comments.trailing.get(node) ?? []).map(trailingComment);
}

/**
 * An own-line comment keeps a line of its own. A `//` comment stays at the end of its line (deferred past the
 * code after it on the line, which then breaks there). A block comment inside a line stays inline.
 */
function leadingComment(c: PlacedComment): Doc {
  if (c.ownLine) return [freshline, c.text, hardline];
  return c.isLineComment ? endOfLine(c) : [c.text, " "];
}

function trailingComment(c: PlacedComment): Doc {
  if (c.ownLine) return [lineSuffix(c.text, { startsLine: true, endsLine: c.isLineComment }), breakNext];
  return c.isLineComment ? endOfLine(c) : [" ", c.text];
}

function endOfLine(c: PlacedComment): Doc {
  return [endOfLineSuffix(c), breakNext];
}

function endOfLineSuffix(c: PlacedComment): Doc {
  return lineSuffix([" ", c.text], { endsLine: c.isLineComment });
}

export interface LinesStyle<T> {
  /** A `{ ... }` body; the file's top level has no braces. */
  braced: boolean;
  printElement(element: T, index: number): Doc;
  /** Whether two consecutive elements (and the comments before the second) must be separated by a blank line. */
  blankLineBetween?(previous: T, next: T): boolean;
}

type Spanned = { span: { start: number; end: number } };

type Entry<T> =
  | { kind: "element"; element: T; index: number; start: number; end: number }
  | { kind: "comment"; comment: PlacedComment; start: number; end: number };

/**
 * One element per line, with the comments between them where they were: on the line of what precedes them
 * (as trailing comments) or on lines of their own. Blank lines the author left are kept, at most one in a row.
 */
export function printLines<T extends Spanned>(ctx: PrintContext, elements: readonly T[], style: LinesStyle<T>): Doc {
  const listComments = ctx.comments.lists.get(elements);
  const comments = listComments?.comments ?? [];
  if (style.braced && elements.length === 0 && comments.every((c) => !c.isLineComment && !c.ownLine)) {
    // `{}`, or `{ /* to do */ }`: nothing but block comments written on the brace's line.
    return ["{", ...comments.map((c) => [" ", c.text]), comments.length > 0 ? " }" : "}"];
  }
  const entries = sortedEntries(elements, comments);
  const print = (entry: Entry<T>) =>
    entry.kind === "element" ? style.printElement(entry.element, entry.index) : entry.comment.text;
  const parts: Doc[] = [];
  let previousEnd = listComments?.bodyStart ?? 0;
  // `/* note */ let x = 1`: a statement may follow a block comment that starts its line.
  let afterOwnLineBlockComment = false;
  entries.forEach((entry, i) => {
    const onPreviousLine = (i > 0 || style.braced) && ctx.source.newlinesBetween(previousEnd, entry.start) === 0;
    if (entry.kind === "comment" && onPreviousLine) parts.push(endOfLineSuffix(entry.comment));
    else if (entry.kind === "element" && onPreviousLine && afterOwnLineBlockComment) parts.push(" ", print(entry));
    else {
      const breaks = i === 0 ? (style.braced ? 1 : 0) : needsBlankLine(ctx, entries, i, previousEnd, style) ? 2 : 1;
      parts.push(Array<Doc>(breaks).fill(hardline), print(entry));
    }
    afterOwnLineBlockComment = entry.kind === "comment" && !onPreviousLine && !entry.comment.isLineComment;
    previousEnd = entry.end;
  });
  return style.braced ? ["{", indent(parts), hardline, "}"] : parts;
}

function sortedEntries<T extends Spanned>(elements: readonly T[], comments: readonly PlacedComment[]): Entry<T>[] {
  const entries: Entry<T>[] = [
    ...elements.map(
      (element, index): Entry<T> => ({
        kind: "element",
        element,
        index,
        start: element.span.start,
        end: element.span.end,
      }),
    ),
    ...comments.map((comment): Entry<T> => ({ kind: "comment", comment, start: comment.start, end: comment.end })),
  ];
  return entries.sort((a, b) => a.start - b.start);
}

/** A blank line the author left, or one the style requires before the next element (and its comments). */
function needsBlankLine<T>(
  ctx: PrintContext,
  entries: Entry<T>[],
  i: number,
  previousEnd: number,
  style: LinesStyle<T>,
): boolean {
  if (ctx.source.newlinesBetween(previousEnd, entries[i].start) >= 2) return true;
  const previous = entries[i - 1];
  const next = entries.slice(i).find((e) => e.kind === "element");
  return (
    previous.kind === "element" &&
    next?.kind === "element" &&
    (style.blankLineBetween?.(previous.element, next.element) ?? false)
  );
}
