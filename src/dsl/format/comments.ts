// Decides where each comment is printed. A comment between the lines of a list (the file's items, a body's
// statements, weights rules, lift steps) belongs to that list; any other comment is attached to the nearest
// syntax node inside the innermost node that holds it, as a leading or a trailing comment (prettier's scheme).
import type { Comment, SourceFile } from "../1-parse/ast.js";
import type { SourceText } from "./source.js";

export interface PlacedComment {
  /** The text as printed: trailing spaces and carriage returns dropped from each of its lines. */
  text: string;
  start: number;
  end: number;
  /** A `//` comment, which must end its line. */
  isLineComment: boolean;
  /** Written on a line of its own; otherwise it ends a line of code (`//`) or, a block comment, sits inside one. */
  ownLine: boolean;
}

/** Comments that sit between the lines of a list, and the offset just past the list's `{` (0 for the file). */
export interface ListComments {
  bodyStart: number;
  comments: PlacedComment[];
}

export class CommentPlacement {
  readonly leading = new Map<object, PlacedComment[]>();
  readonly trailing = new Map<object, PlacedComment[]>();
  /** Keyed by the list's array (a body's statements, ...). */
  readonly lists = new Map<object, ListComments>();

  hasAny(node: object): boolean {
    return this.leading.has(node) || this.trailing.has(node);
  }

  hasOwnLineLeading(node: object): boolean {
    return (this.leading.get(node) ?? []).some((c) => c.ownLine);
  }
}

export function normalizeCommentText(text: string): string {
  return text
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n");
}

/** A node or a line list as seen by the placement search. */
interface Child {
  key: object;
  start: number;
  end: number;
  /** For a line list: its elements (statements, rules, steps); the list's comments go between them. */
  elements?: readonly object[];
}

const SPAN_KEYS = new Set(["span", "opSpan", "pathSpan"]);
/** Properties holding lists of lines written between braces. */
const LINE_LIST_KEYS = new Set(["body", "then", "else", "steps", "rules", "fields"]);

export function placeComments(file: SourceFile, source: SourceText): CommentPlacement {
  const placement = new CommentPlacement();
  const root: Child = { key: file.items, start: 0, end: source.text.length, elements: file.items };
  placement.lists.set(file.items, { bodyStart: 0, comments: [] });
  for (const comment of file.comments) place(toPlaced(comment, source), root, placement, source);
  return placement;
}

function toPlaced(comment: Comment, source: SourceText): PlacedComment {
  const { start, end } = comment.span;
  const isLineComment = comment.text.startsWith("//");
  return {
    text: normalizeCommentText(comment.text),
    start,
    end,
    isLineComment,
    ownLine: source.startsLine(start) && (isLineComment || source.endsLine(end)),
  };
}

function place(comment: PlacedComment, root: Child, placement: CommentPlacement, source: SourceText): void {
  let container = root;
  for (;;) {
    const children = childrenOf(container, source);
    const inner = children.find((c) => c.start <= comment.start && comment.end <= c.end);
    if (!inner) {
      if (container.elements) addToList(placement, container, comment);
      else attachToNeighbour(placement, container, children, comment, source);
      return;
    }
    container = inner;
  }
}

function addToList(placement: CommentPlacement, list: Child, comment: PlacedComment): void {
  let entry = placement.lists.get(list.key);
  if (!entry) {
    entry = { bodyStart: list.start + 1, comments: [] };
    placement.lists.set(list.key, entry);
  }
  entry.comments.push(comment);
}

/**
 * Own-line comments lead the node right after them. A `//` comment at the end of a line of code trails the node
 * before it, or with none (`f[ // why`) leads the container, printed at the end of its first line. A block
 * comment inside a line goes with the node it touches. With no neighbour at all, a comment trails the container.
 */
function attachToNeighbour(
  placement: CommentPlacement,
  container: Child,
  children: Child[],
  comment: PlacedComment,
  source: SourceText,
): void {
  const preceding = children.filter((c) => c.end <= comment.start).at(-1);
  const following = children.find((c) => c.start >= comment.end);
  const lead = (c: Child) => push(placement.leading, c.key, comment);
  const trail = (c: Child) => push(placement.trailing, c.key, comment);
  if (comment.ownLine) {
    // Before an operator or keyword (`a\n// c\n+ b`) it stays after the code above, where the line breaks.
    if (following && (!preceding || source.isBlank(comment.end, following.start))) lead(following);
    else trail(preceding ?? container);
  } else if (comment.isLineComment) {
    if (preceding) trail(preceding);
    else lead(container);
  } else if (preceding && following) {
    if (source.isBlank(comment.end, following.start)) lead(following);
    else trail(preceding);
  } else if (following) lead(following);
  else trail(preceding ?? container);
}

function push(map: Map<object, PlacedComment[]>, key: object, comment: PlacedComment): void {
  const list = map.get(key);
  if (list) list.push(comment);
  else map.set(key, [comment]);
}

/**
 * The syntax nodes directly inside a node, in source order, found generically: every property value that has a
 * span, and arrays of them. Brace-delimited line lists become one child spanning their braces.
 */
function childrenOf(container: Child, source: SourceText): Child[] {
  if (container.elements) return container.elements.map(nodeChild);
  const children: Child[] = [];
  const visit = (property: string, value: unknown): void => {
    if (Array.isArray(value)) {
      if (LINE_LIST_KEYS.has(property))
        children.push(...lineListChildren(property, value, children.at(-1)?.end ?? container.start, source));
      else for (const element of value) visit(property, element);
    } else if (isSyntaxNode(value)) children.push(nodeChild(value));
    else if (typeof value === "object" && value !== null) for (const [k, v] of Object.entries(value)) visit(k, v);
  };
  for (const [property, value] of Object.entries(container.key)) if (!SPAN_KEYS.has(property)) visit(property, value);
  return children.sort((a, b) => a.start - b.start);
}

/** A `{ ... }` list; an `else if` has no braces of its own, so its `if` is an ordinary child. */
function lineListChildren(property: string, elements: object[], after: number, source: SourceText): Child[] {
  const [first] = elements;
  if (
    property === "else" &&
    elements.length === 1 &&
    isSyntaxNode(first) &&
    !source.hasBraceBetween(after, first.span.start)
  )
    return [nodeChild(first)];
  const { open, end } = source.braces(after);
  return [{ key: elements, start: open, end, elements }];
}

function nodeChild(node: object): Child {
  const { start, end } = (node as { span: { start: number; end: number } }).span;
  return { key: node, start, end };
}

function isSyntaxNode(value: unknown): value is { span: { start: number; end: number } } {
  return typeof value === "object" && value !== null && "span" in value;
}
