// Statements and `{ ... }` bodies.
import type * as A from "../1-parse/ast.js";
import { type Doc, group, indent, line } from "./doc.js";
import { printLines, type PrintContext, withComments } from "./print-comments.js";
import { printArgs, printExpr, printIdent, printPattern } from "./print-expr.js";
import { printType } from "./print-types.js";

export function printBody(ctx: PrintContext, stmts: readonly A.Stmt[]): Doc {
  const lines = printLines(ctx, stmts, {
    braced: true,
    printElement: (s) => printStmt(ctx, s),
  });
  return withComments(ctx, stmts, lines);
}

function printStmt(ctx: PrintContext, s: A.Stmt): Doc {
  return withComments(ctx, s, printBareStmt(ctx, s));
}

/** The `unused` modifier, with any comment written next to it. */
const printUnused = (ctx: PrintContext, s: A.ParamStmt | A.LayerStmt): Doc =>
  s.unused ? [withComments(ctx, s.unused, "unused"), " "] : "";

function printBareStmt(ctx: PrintContext, s: A.Stmt): Doc {
  switch (s.kind) {
    case "Param":
      return [
        printUnused(ctx, s),
        "param ",
        printIdent(ctx, s.name),
        ": ",
        printType(ctx, s.type),
        s.weightName ? [" named ", printValue(ctx, s.weightName)] : "",
        s.init ? [" = ", printValue(ctx, s.init)] : "",
      ];
    case "Layer":
      return [
        printUnused(ctx, s),
        "layer ",
        s.path.map((segment, i) => printPathSegment(ctx, segment, i)),
        " = ",
        printValue(ctx, s.init),
      ];
    case "Let":
      return [
        "let ",
        printPattern(ctx, s.pattern),
        s.type ? [": ", printType(ctx, s.type)] : "",
        " = ",
        printValue(ctx, s.value),
      ];
    case "Assign":
      return [printPattern(ctx, s.target), ` ${s.op} `, printValue(ctx, s.value)];
    case "If":
      return printIf(ctx, s);
    case "For":
      return ["for ", printIdent(ctx, s.variable), " in ", printExpr(ctx, s.iterable), " ", printBody(ctx, s.body)];
    case "Return":
      return ["return ", printValue(ctx, s.value)];
    case "Tap":
      return [
        "tap ",
        printIdent(ctx, s.name),
        s.index ? ["[", printExpr(ctx, s.index), "]"] : "",
        " = ",
        printValue(ctx, s.value),
      ];
    case "Assert":
      // A long assert breaks before its message, not inside its condition.
      return group([
        "assert ",
        printExpr(ctx, s.cond),
        s.message ? [",", indent([line, printExpr(ctx, s.message)])] : "",
      ]);
    case "Print":
      return ["print", printArgs(ctx, s.args)];
    case "Weights":
      return ["weights ", s.name ? [printIdent(ctx, s.name), " "] : "", printWeightRules(ctx, s.rules)];
    case "Preprocess":
      return [
        "preprocess ",
        withComments(
          ctx,
          s.fields,
          printLines(ctx, s.fields, {
            braced: true,
            printElement: (f) => withComments(ctx, f, [printIdent(ctx, f.name), " = ", printExpr(ctx, f.value)]),
          }),
        ),
      ];
  }
}

function printWeightRules(ctx: PrintContext, rules: readonly A.WeightRule[]): Doc {
  return withComments(
    ctx,
    rules,
    printLines(ctx, rules, { braced: true, printElement: (r) => printWeightRule(ctx, r) }),
  );
}

/** The value after `=` or `return`: indented when comments on lines of their own come before it. */
function printValue(ctx: PrintContext, value: A.Expr): Doc {
  const doc = printExpr(ctx, value);
  return ctx.comments.hasOwnLineLeading(value) ? indent(doc) : doc;
}

/** The `.` before a name stays outside the name's comments, so a comment there reads back as the name's again. */
function printPathSegment(ctx: PrintContext, segment: A.PathSegment, index: number): Doc {
  if (segment.kind === "Name") return [index > 0 ? "." : "", withComments(ctx, segment, segment.name)];
  return withComments(ctx, segment, ["[", printExpr(ctx, segment.expr), "]"]);
}

/** `else { if ... }` prints as `else if ...` unless comments sit in its braces. */
function printIf(ctx: PrintContext, s: A.IfStmt): Doc {
  const head = ["if ", printExpr(ctx, s.cond), " ", printBody(ctx, s.then)];
  if (!s.else) return head;
  const [only] = s.else;
  const elseIf =
    s.else.length === 1 && only.kind === "If" && !ctx.comments.lists.has(s.else) && !ctx.comments.hasAny(s.else);
  return [head, " else ", elseIf ? printStmt(ctx, only) : printBody(ctx, s.else)];
}

/** `rename "a" -> "b"`: each separator is kept as written (`,` or `->`), since the tree does not record it. */
function printWeightRule(ctx: PrintContext, rule: A.WeightRule): Doc {
  const args = rule.args.map((arg, i) => [
    i === 0 ? "" : ctx.source.isArrowAt(rule.args[i - 1].span.end) ? " -> " : ", ",
    printExpr(ctx, arg),
  ]);
  return withComments(ctx, rule, [printIdent(ctx, rule.verb), " ", args]);
}
