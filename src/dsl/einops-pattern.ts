// einops patterns (`"b c (t h) w -> (b t) c h w"`) for `rearrange`, `repeat` and `reduce`: parsed and checked from
// the pattern text and the names of the given axis sizes alone, so the static checker (literal patterns, exact
// columns) and the elaborator (computed patterns) report the same problems. Rules follow einops
// (einops/parsing.py and einops/einops.py `_prepare_transformation_recipe`).
import { BUILTIN_SIGNATURES } from "./signatures/builtins.js";
import { CheckCodes, type CodeInfo, makeDiagnostic } from "../diagnostics/codes.js";
import type { Diagnostic, Span } from "../diagnostics/diagnostics.js";
import { encodeString } from "./1-parse/strings.js";

export type PatternOperation = "rearrange" | "repeat" | "reduce";

/** One elementary axis: a name, or an anonymous size like `3` (each one distinct, as in einops). */
export interface PatternAxis {
  name: string;
  /** The size written as a number (anonymous axes). */
  size?: number;
  /** Offset of the axis in the pattern text, and its length there. */
  offset: number;
  length: number;
}

/**
 * One dimension of a side: a single axis, a parenthesised composition `(b t)` (empty for `()` and `1`), or the
 * ellipsis (an axis named `...`, alone or inside parentheses, standing for the dimensions no other group takes).
 */
export interface PatternGroup {
  axes: PatternAxis[];
  parenthesized: boolean;
  offset: number;
}

export interface PatternSide {
  groups: PatternGroup[];
  hasEllipsis: boolean;
}

export interface ParsedPattern {
  left: PatternSide;
  right: PatternSide;
}

export type PatternProblemKind = "syntax" | "unknown-axis" | "duplicate-axis" | "cannot-infer";

export interface PatternProblem {
  kind: PatternProblemKind;
  message: string;
  /** Offset and length in the pattern text; `size` problems name the given size instead (`sizeName`). */
  offset: number;
  length: number;
  /** For a size given for an axis the pattern does not have. */
  sizeName?: string;
  /** For a duplicate: where the axis first appears. */
  firstOffset?: number;
  hint?: string;
}

/** The named parameters of each operation; every other named argument is an axis size. */
export const EINOPS_PARAMETERS: Readonly<Record<PatternOperation, readonly string[]>> = {
  rearrange: BUILTIN_SIGNATURES.rearrange.params.map((p) => p.name),
  repeat: BUILTIN_SIGNATURES.repeat.params.map((p) => p.name),
  reduce: BUILTIN_SIGNATURES.reduce.params.map((p) => p.name),
};

export const REDUCTIONS = ["mean", "sum", "max", "min", "prod"] as const;
export type Reduction = (typeof REDUCTIONS)[number];

/** The name the ellipsis's axes get (never a valid axis name, so never confused with one). */
export const ELLIPSIS = "...";

const AXIS_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses one side (`text` is the whole pattern; the side spans [from, to)). */
function parseSide(text: string, from: number, to: number, problems: PatternProblem[]): PatternSide {
  const groups: PatternGroup[] = [];
  let open: PatternGroup | undefined;
  let hasEllipsis = false;
  let nested = 0;
  const syntax = (message: string, offset: number, length: number, hint?: string) =>
    problems.push({ kind: "syntax", message, offset, length, hint });
  const addAxis = (word: string, offset: number) => {
    const target = () => open ?? (groups.push({ axes: [], parenthesized: false, offset }), groups[groups.length - 1]);
    if (word === ELLIPSIS) {
      if (hasEllipsis) return syntax("'...' appears twice on one side", offset, 3);
      hasEllipsis = true;
      target().axes.push({ name: ELLIPSIS, offset, length: 3 });
      return;
    }
    if (/^[0-9]+$/.test(word)) {
      const size = Number(word);
      if (size === 0 || !Number.isSafeInteger(size))
        return syntax(`an anonymous axis needs a positive size, not ${word}`, offset, word.length);
      if (size === 1) {
        if (!open) target(); // `1` alone is an axis of size 1; inside parentheses it adds nothing
        return;
      }
      target().axes.push({ name: `${word}@${offset}`, size, offset, length: word.length });
      return;
    }
    if (!AXIS_NAME.test(word) || word === "_")
      return syntax(
        `'${word}' is not an axis name`,
        offset,
        word.length,
        "axis names are identifiers (letters, digits and _, not starting with a digit); sizes of anonymous axes " +
          "are numbers",
      );
    target().axes.push({ name: word, offset, length: word.length });
  };
  let i = from;
  while (i < to) {
    const c = text[i];
    if (c === " " || c === "\t") {
      i++;
    } else if (c === "(") {
      if (open) {
        syntax("parentheses cannot nest", i, 1, "a composition is one level deep: `(a b c)`");
        nested++; // its ')' is not reported again
      } else groups.push((open = { axes: [], parenthesized: true, offset: i }));
      i++;
    } else if (c === ")") {
      if (nested > 0) nested--;
      else if (!open) syntax("')' without a matching '('", i, 1);
      else open = undefined;
      i++;
    } else if (text.startsWith(ELLIPSIS, i)) {
      addAxis(ELLIPSIS, i);
      i += 3;
    } else if (/[A-Za-z0-9_]/.test(c)) {
      let j = i;
      while (j < to && /[A-Za-z0-9_]/.test(text[j])) j++;
      addAxis(text.slice(i, j), i);
      i = j;
    } else {
      const hint =
        c === "-" || c === ">"
          ? "a pattern has exactly one '->'"
          : c === "."
            ? "the ellipsis is three dots: `...`"
            : undefined;
      syntax(`unexpected '${c}' in the pattern`, i, 1, hint);
      i++;
    }
  }
  if (open) syntax("'(' without a matching ')'", open.offset, 1);
  return { groups, hasEllipsis };
}

/** Every named axis of a side (not anonymous, not the ellipsis), in order. */
function namedAxes(side: PatternSide): PatternAxis[] {
  return side.groups.flatMap((g) => g.axes.filter((a) => a.size === undefined && a.name !== ELLIPSIS));
}

const ellipsisOf = (side: PatternSide): PatternAxis | undefined =>
  side.groups.flatMap((g) => g.axes).find((a) => a.name === ELLIPSIS);

/** Names on a side (the ellipsis included), for set comparisons. */
function identifiers(side: PatternSide): Set<string> {
  const names = new Set(namedAxes(side).map((a) => a.name));
  if (side.hasEllipsis) names.add(ELLIPSIS);
  return names;
}

/**
 * Parses a pattern and checks it against the operation and the names of the given axis sizes. The pattern is
 * usable when no problem is returned.
 */
export function parsePattern(
  text: string,
  op: PatternOperation,
  sizeNames: readonly string[],
): { pattern: ParsedPattern; problems: PatternProblem[] } {
  const problems: PatternProblem[] = [];
  const arrow = text.indexOf("->");
  if (arrow < 0) {
    problems.push({
      kind: "syntax",
      message: "the pattern has no '->' between the input and the output axes",
      offset: text.length,
      length: 0,
      hint: `e.g. "b c h w -> b (h w) c"`,
    });
    return {
      pattern: { left: { groups: [], hasEllipsis: false }, right: { groups: [], hasEllipsis: false } },
      problems,
    };
  }
  const second = text.indexOf("->", arrow + 2);
  if (second >= 0)
    problems.push({ kind: "syntax", message: "the pattern has a second '->'", offset: second, length: 2 });
  const left = parseSide(text, 0, arrow, problems);
  const right = parseSide(text, arrow + 2, second >= 0 ? second : text.length, problems);
  const pattern = { left, right };
  if (problems.length) return { pattern, problems };

  const leftEllipsis = ellipsisOf(left);
  if (leftEllipsis && left.groups.some((g) => g.parenthesized && g.axes.includes(leftEllipsis)))
    problems.push({
      kind: "syntax",
      message: "'...' cannot be inside parentheses on the input side",
      offset: leftEllipsis.offset,
      length: 3,
    });
  for (const side of [left, right]) {
    const seen = new Map<string, number>();
    for (const a of namedAxes(side)) {
      const first = seen.get(a.name);
      if (first === undefined) seen.set(a.name, a.offset);
      else
        problems.push({
          kind: "duplicate-axis",
          message: `axis '${a.name}' appears twice on the ${side === left ? "input" : "output"} side`,
          offset: a.offset,
          length: a.length,
          firstOffset: first,
        });
    }
  }

  const [inLeft, inRight] = [identifiers(left), identifiers(right)];
  const onlyOn = (side: PatternSide, other: Set<string>, message: (name: string) => string, hint: string) => {
    for (const a of namedAxes(side))
      if (!other.has(a.name))
        problems.push({ kind: "unknown-axis", message: message(a.name), offset: a.offset, length: a.length, hint });
    const e = ellipsisOf(side);
    if (e && !other.has(ELLIPSIS))
      problems.push({ kind: "unknown-axis", message: message(ELLIPSIS), offset: e.offset, length: 3, hint });
  };
  const ellipsisOnlyOnOutput = () => {
    const e = ellipsisOf(right);
    if (e && !left.hasEllipsis)
      problems.push({
        kind: "unknown-axis",
        message: "'...' is on the output side but not on the input side",
        offset: e.offset,
        length: 3,
        hint: "write '...' on both sides",
      });
  };
  const anonymous = (side: PatternSide) => side.groups.flatMap((g) => g.axes.filter((a) => a.size !== undefined));
  const sideName = (side: PatternSide) => (side === left ? "input" : "output");
  if (op === "rearrange") {
    for (const side of [left, right])
      for (const a of anonymous(side))
        problems.push({
          kind: "unknown-axis",
          message:
            `rearrange keeps every element, so the anonymous axis ${a.size} on the ${sideName(side)} ` +
            `side has no counterpart`,
          offset: a.offset,
          length: a.length,
          hint:
            "only axes of size 1 (`1` or `()`) may be added or removed; `repeat` makes new axes, `reduce` " +
            "removes them",
        });
    onlyOn(
      left,
      inRight,
      (n) => `axis '${n}' is on the input side but not on the output side`,
      "rearrange keeps every axis; use `reduce` to remove one",
    );
    onlyOn(
      right,
      inLeft,
      (n) => `axis '${n}' is on the output side but not on the input side`,
      "rearrange keeps every axis; use `repeat` to add one",
    );
  } else if (op === "repeat") {
    onlyOn(
      left,
      inRight,
      (n) => `axis '${n}' is on the input side but not on the output side`,
      "repeat keeps every input axis; use `reduce` to remove one",
    );
    ellipsisOnlyOnOutput();
    const sized = new Set([...inLeft, ...sizeNames]);
    for (const a of namedAxes(right))
      if (!sized.has(a.name))
        problems.push({
          kind: "cannot-infer",
          message: `the new axis '${a.name}' needs a size`,
          offset: a.offset,
          length: a.length,
          hint: `give it as an argument: repeat(x, "...", ${a.name} = 4)`,
        });
  } else {
    onlyOn(
      right,
      inLeft,
      (n) => `axis '${n}' is on the output side but not on the input side`,
      "reduce can only keep or remove axes; use `repeat` to add one",
    );
    for (const a of anonymous(right))
      problems.push({
        kind: "unknown-axis",
        message: `reduce cannot add the anonymous axis ${a.size}`,
        offset: a.offset,
        length: a.length,
        hint: "only axes of size 1 (`1` or `()`) may be added",
      });
  }

  const known = new Set(sizeNames);
  for (const g of left.groups) {
    const unknown = g.axes.filter((a) => a.size === undefined && a.name !== ELLIPSIS && !known.has(a.name));
    if (unknown.length > 1)
      problems.push({
        kind: "cannot-infer",
        message:
          `the sizes of ${unknown.map((a) => `'${a.name}'`).join(" and ")} cannot both be inferred from ` +
          `one input axis`,
        offset: unknown[1].offset,
        length: unknown[1].length,
        hint: `give all but one of them as arguments, e.g. ${unknown
          .slice(0, -1)
          .map((a) => `${a.name} = ...`)
          .join(", ")}`,
      });
  }
  const all = new Set([...inLeft, ...inRight]);
  for (const name of sizeNames)
    if (!all.has(name))
      problems.push({
        kind: "unknown-axis",
        message: `a size is given for '${name}', which the pattern does not have`,
        offset: 0,
        length: 0,
        sizeName: name,
      });
  return { pattern, problems };
}

const PROBLEM_CODES: Record<PatternProblemKind, CodeInfo> = {
  syntax: CheckCodes.PatternSyntax,
  "unknown-axis": CheckCodes.PatternUnknownAxis,
  "duplicate-axis": CheckCodes.PatternDuplicateAxis,
  "cannot-infer": CheckCodes.PatternCannotInfer,
};

/**
 * A problem as a diagnostic. `span` is the pattern argument's (or, for a size the pattern lacks, that argument's).
 * When the pattern is a string literal (`literal` says which form), the span narrows to the offending characters;
 * otherwise (a computed pattern) it stays whole and the message names the column.
 */
export function patternProblemDiagnostic(
  q: PatternProblem,
  text: string,
  span: Span,
  literal?: { raw: boolean },
): Diagnostic {
  const at = (offset: number, length: number): Span => {
    if (!literal) return span;
    const into = literal.raw ? 2 + offset : encodeString(text.slice(0, offset)).length - 1;
    return { ...span, start: span.start + into, end: span.start + into + Math.max(1, length), col: span.col + into };
  };
  if (q.sizeName !== undefined) return makeDiagnostic(PROBLEM_CODES[q.kind], q.message, span);
  const where = literal ? "" : ` (column ${q.offset + 1} of the pattern "${text}")`;
  const related =
    q.firstOffset === undefined ? [] : [{ message: "first named here", span: at(q.firstOffset, q.length) }];
  return makeDiagnostic(PROBLEM_CODES[q.kind], q.message + where, at(q.offset, q.length), { related, hint: q.hint });
}
