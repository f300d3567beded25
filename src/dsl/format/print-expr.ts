// Expressions, with the fewest parentheses that keep the tree (a child is parenthesized only when it binds
// more loosely than the grammar allows in its position), plus a few that keep it readable (mixesUnclearly,
// negatedLevel).
import type * as A from "../1-parse/ast.js";
import { encodeString } from "../1-parse/strings.js";
import { bracketed, type Doc, group, indent, line, softline } from "./doc.js";
import { commentsAfter, commentsBefore, printLines, type PrintContext, withComments } from "./print-comments.js";

/** Binding strength, loosest first, following the grammar's rules (parser.ts, `expr` down to `primary`). */
export const Level = {
  Cond: 0,
  Range: 1,
  Or: 2,
  And: 3,
  Not: 4,
  Compare: 5,
  Sum: 6,
  Product: 7,
  Negate: 8,
  Power: 9,
  Postfix: 10,
  Primary: 11,
} as const;

const BINARY_LEVEL: Record<A.BinaryOp, number> = {
  or: Level.Or,
  and: Level.And,
  "==": Level.Compare,
  "!=": Level.Compare,
  "<": Level.Compare,
  "<=": Level.Compare,
  ">": Level.Compare,
  ">=": Level.Compare,
  "+": Level.Sum,
  "-": Level.Sum,
  "*": Level.Product,
  "/": Level.Product,
  "%": Level.Product,
  "@": Level.Product,
  "**": Level.Power,
};

function levelOf(e: A.Expr): number {
  switch (e.kind) {
    case "Cond":
      return Level.Cond;
    case "Range":
      return Level.Range;
    case "Binary":
      return BINARY_LEVEL[e.op];
    case "Unary":
      return e.op === "not" ? Level.Not : Level.Negate;
    case "Call":
    case "Index":
    case "Member":
      return Level.Postfix;
    default:
      return Level.Primary;
  }
}

/** `e` where the grammar accepts expressions of at least `minLevel`. */
export function printExpr(ctx: PrintContext, e: A.Expr, minLevel: number = Level.Cond): Doc {
  const doc = printBareExpr(ctx, e);
  return withComments(ctx, e, levelOf(e) < minLevel ? ["(", doc, ")"] : doc);
}

function printBareExpr(ctx: PrintContext, e: A.Expr): Doc {
  switch (e.kind) {
    case "Number":
      return e.raw;
    case "String":
      return encodeString(e.value, e.raw);
    case "Bool":
      return e.value ? "true" : "false";
    case "Name":
      return e.name;
    case "List":
      return bracketed(
        "[",
        e.elements.map((x) => printExpr(ctx, x)),
        "]",
      );
    case "ListComp":
      return printListComp(ctx, e);
    case "Tuple":
      return printTuple(ctx, e);
    case "Unary":
      return e.op === "not"
        ? ["not ", printExpr(ctx, e.operand, Level.Not)]
        : ["-", printExpr(ctx, e.operand, ctx.clarify ? negatedLevel(e.operand) : Level.Negate)];
    case "Binary":
      return printBinary(ctx, e);
    case "Call":
      return [printCallee(ctx, e.callee), printArgs(ctx, e.args)];
    case "Index":
      return [
        printExpr(ctx, e.target, Level.Postfix),
        bracketed(
          "[",
          e.subscripts.map((s) => printSubscript(ctx, s)),
          "]",
        ),
      ];
    case "Member":
      return [printExpr(ctx, e.target, Level.Postfix), ".", printIdent(ctx, e.member)];
    case "Cond":
      return printCond(ctx, e);
    case "Range":
      return [printExpr(ctx, e.start, Level.Or), "..", printExpr(ctx, e.end, Level.Or)];
    case "SplitIndex":
      return printSplitIndex(ctx, e);
    case "Lift":
      return printLift(ctx, e);
  }
}

export function printIdent(ctx: PrintContext, ident: A.Ident): Doc {
  return withComments(ctx, ident, ident.name);
}

/** `(x,)` keeps its comma: without it the parentheses would only group. */
function printTuple(ctx: PrintContext, e: A.TupleExpr): Doc {
  const elements = e.elements.map((x) => printExpr(ctx, x));
  return bracketed("(", elements.length === 1 ? [[elements[0], ","]] : elements, ")");
}

function printListComp(ctx: PrintContext, e: A.ListCompExpr): Doc {
  const clause = ["for ", printIdent(ctx, e.variable), " in ", printExpr(ctx, e.iterable)];
  return group(["[", indent([softline, printExpr(ctx, e.element), line, clause]), softline, "]"]);
}

/**
 * A run of operators of one precedence prints as a chain that breaks before each operator:
 * `a\n  + b\n  + c`. Comparisons do not chain, and `**` groups to the right. The comments of the inner
 * operations go where those begin (before the chain) and end (after their right operand).
 */
function printBinary(ctx: PrintContext, e: A.BinaryExpr): Doc {
  const level = BINARY_LEVEL[e.op];
  const [leftLevel, rightLevel] = operandLevels(level);
  const links: Doc[] = [[line, e.op, " ", printExpr(ctx, e.right, rightLevel)]];
  const before: Doc[] = [];
  let head = e.left;
  let joined = e.op;
  while (leftLevel === level && head.kind === "Binary" && BINARY_LEVEL[head.op] === level) {
    if (ctx.clarify && mixesUnclearly(head.op, joined)) break;
    links.unshift([line, head.op, " ", printExpr(ctx, head.right, rightLevel), commentsAfter(ctx, head)]);
    before.unshift(commentsBefore(ctx, head));
    joined = head.op;
    head = head.left;
  }
  const headLevel =
    ctx.clarify && head.kind === "Binary" && mixesUnclearly(head.op, joined) ? leftLevel + 1 : leftLevel;
  return group([before, printExpr(ctx, head, headLevel), indent(links)]);
}

/**
 * `%` and `@` share `*` and `/`'s precedence, which few readers remember: `(x / d) @ w` keeps its parentheses
 * (as prettier keeps them around mixed `%`), while `a * b / c` reads as it always has.
 */
function mixesUnclearly(inner: A.BinaryOp, outer: A.BinaryOp): boolean {
  return (
    inner !== outer && BINARY_LEVEL[inner] === Level.Product && [inner, outer].some((op) => op === "%" || op === "@")
  );
}

/** The operand of unary minus: `-(a ** 2)` and `-(-a)` keep parentheses (`-a ** 2` misleads, `--a` looks like C). */
function negatedLevel(operand: A.Expr): number {
  const clarify =
    (operand.kind === "Binary" && operand.op === "**") || (operand.kind === "Unary" && operand.op === "-");
  return clarify ? Level.Postfix : Level.Negate;
}

/** The least levels of a binary operator's operands: most operators group to the left, `**` to the right. */
function operandLevels(level: number): [left: number, right: number] {
  if (level === Level.Power) return [Level.Postfix, Level.Negate];
  if (level === Level.Compare) return [Level.Sum, Level.Sum];
  return [level, level + 1];
}

/** `if a then x else if b then y else z`, breaking before each `else`; inner conditionals' comments as in chains. */
function printCond(ctx: PrintContext, e: A.CondExpr): Doc {
  const branches: Doc[] = [];
  const after: Doc[] = [];
  let rest: A.Expr = e.else;
  while (rest.kind === "Cond") {
    branches.push([
      line,
      "else ",
      commentsBefore(ctx, rest),
      "if ",
      printExpr(ctx, rest.cond),
      " then ",
      printExpr(ctx, rest.then),
    ]);
    after.unshift(commentsAfter(ctx, rest));
    rest = rest.else;
  }
  branches.push([line, "else ", printExpr(ctx, rest), after]);
  return group(["if ", printExpr(ctx, e.cond), " then ", printExpr(ctx, e.then), indent(branches)]);
}

/** A `split_index` without arguments is closed by parentheses when called, or the call would become its arguments. */
function printCallee(ctx: PrintContext, callee: A.Expr): Doc {
  const openEnded = callee.kind === "SplitIndex" && callee.args.length === 0;
  return openEnded
    ? withComments(ctx, callee, ["(", printBareExpr(ctx, callee), ")"])
    : printExpr(ctx, callee, Level.Postfix);
}

export function printArgs(ctx: PrintContext, args: readonly A.Arg[]): Doc {
  return bracketed(
    "(",
    args.map((a) => printArg(ctx, a)),
    ")",
  );
}

function printArg(ctx: PrintContext, arg: A.Arg): Doc {
  const value = printExpr(ctx, arg.value);
  return withComments(ctx, arg, arg.name ? [printIdent(ctx, arg.name), " = ", value] : value);
}

function printSubscript(ctx: PrintContext, s: A.Subscript): Doc {
  const optional = (x: A.Expr | undefined) => (x ? printExpr(ctx, x) : "");
  switch (s.kind) {
    case "At":
      return withComments(ctx, s, printExpr(ctx, s.expr));
    case "Ellipsis":
      return withComments(ctx, s, "...");
    case "Slice":
      return withComments(ctx, s, [
        optional(s.start),
        ":",
        optional(s.end),
        s.step ? [":", printExpr(ctx, s.step)] : "",
      ]);
  }
}

function printSplitIndex(ctx: PrintContext, e: A.SplitIndexExpr): Doc {
  const input = printExpr(ctx, e.input, Level.Postfix);
  const axis = printExpr(ctx, e.axis, Level.Sum);
  return [
    "split_index ",
    input,
    " along ",
    axis,
    " by ",
    printIdent(ctx, e.mode),
    e.args.length > 0 ? printArgs(ctx, e.args) : "",
  ];
}

function printLift(ctx: PrintContext, e: A.LiftExpr): Doc {
  const binding = (b: A.LiftExpr["approx"]) => [printIdent(ctx, b.name), " = ", printExpr(ctx, b.value)];
  const steps = printLines(ctx, e.steps, { braced: true, printElement: (step) => printLiftStep(ctx, step) });
  return ["lift ", bracketed("(", [binding(e.approx), binding(e.detail)], ")"), " ", withComments(ctx, e.steps, steps)];
}

function printLiftStep(ctx: PrintContext, step: A.LiftStep): Doc {
  return withComments(ctx, step, [
    printIdent(ctx, step.step),
    " ",
    printIdent(ctx, step.target),
    " ",
    step.op,
    " ",
    printExpr(ctx, step.value),
  ]);
}

export function printPattern(ctx: PrintContext, p: A.Pattern): Doc {
  const doc =
    p.kind === "NamePattern"
      ? p.name
      : bracketed(
          "(",
          p.elements.map((x) => printPattern(ctx, x)),
          ")",
        );
  return withComments(ctx, p, doc);
}
