// Generic traversal of statements and expressions, for rules that look for one kind of node.
import type * as A from "../../1-parse/ast.js";

export function forEachStmt(stmts: readonly A.Stmt[], visit: (s: A.Stmt) => void): void {
  for (const s of stmts) {
    visit(s);
    if (s.kind === "If") {
      forEachStmt(s.then, visit);
      if (s.else) forEachStmt(s.else, visit);
    } else if (s.kind === "For") forEachStmt(s.body, visit);
  }
}

/** Direct sub-expressions of an expression. */
export function childExprs(e: A.Expr): A.Expr[] {
  switch (e.kind) {
    case "List":
    case "Tuple":
      return e.elements;
    case "ListComp":
      return [e.iterable, e.element];
    case "Unary":
      return [e.operand];
    case "Binary":
      return [e.left, e.right];
    case "Call":
      return [e.callee, ...e.args.map((a) => a.value)];
    case "Index":
      return [
        e.target,
        ...e.subscripts.flatMap((s) =>
          s.kind === "At"
            ? [s.expr]
            : s.kind === "Slice"
              ? [s.start, s.end, s.step].filter((x): x is A.Expr => !!x)
              : [],
        ),
      ];
    case "Member":
      return [e.target];
    case "Cond":
      return [e.cond, e.then, e.else];
    case "Range":
      return [e.start, e.end];
    case "SplitIndex":
      return [e.input, e.axis, ...e.args.map((a) => a.value)];
    case "Lift":
      return [e.approx.value, e.detail.value, ...e.steps.map((s) => s.value)];
    default:
      return [];
  }
}

export function forEachExpr(e: A.Expr, visit: (e: A.Expr) => void): void {
  visit(e);
  for (const c of childExprs(e)) forEachExpr(c, visit);
}

/** Every expression directly held by a statement (not those of nested statements). */
export function stmtExprs(s: A.Stmt): A.Expr[] {
  switch (s.kind) {
    case "Param":
      return [s.weightName, s.init].filter((e): e is A.Expr => !!e);
    case "Layer":
      return [...s.path.flatMap((p) => (p.kind === "Index" ? [p.expr] : [])), s.init];
    case "Tap":
      return s.index ? [s.index, s.value] : [s.value];
    case "Let":
    case "Assign":
    case "Return":
      return [s.value];
    case "If":
      return [s.cond];
    case "For":
      return [s.iterable];
    case "Assert":
      return s.message ? [s.cond, s.message] : [s.cond];
    case "Print":
      return s.args.map((a) => a.value);
    case "Weights":
      return s.rules.flatMap((r) => r.args);
    case "Preprocess":
      return s.fields.map((f) => f.value);
  }
}

export type Body = {
  kind: "Block" | "Fn" | "Model";
  name: string;
  stmts: readonly A.Stmt[];
  decl: A.BlockDecl | A.FnDecl | A.ModelDecl;
};

export function bodiesOf(file: A.SourceFile): Body[] {
  return file.items.flatMap((i) =>
    i.kind === "Import" ? [] : [{ kind: i.kind, name: i.name.name, stmts: i.body, decl: i }],
  );
}
