// Recovery after a failed statement (see Elaborator.recovering): what it would have bound is poisoned.
import type * as A from "../../dsl/1-parse/ast.js";
import type { Scope } from "./scope.js";
import { POISON } from "./values.js";

export function poisonBindings(s: A.Stmt, scope: Scope): void {
  const names = (p: A.Pattern): string[] =>
    p.kind === "NamePattern" ? (p.name === "_" ? [] : [p.name]) : p.elements.flatMap(names);
  const assigned = (stmts: readonly A.Stmt[]): void =>
    stmts.forEach((x) => (x.kind === "Assign" || x.kind === "If" || x.kind === "For") && poisonAssigned(x));
  const poisonAssigned = (x: A.AssignStmt | A.IfStmt | A.ForStmt): void => {
    if (x.kind === "Assign") names(x.target).forEach((n) => scope.assign(n, POISON));
    else if (x.kind === "If") [x.then, x.else ?? []].forEach(assigned);
    else assigned(x.body);
  };
  switch (s.kind) {
    case "Let":
      return names(s.pattern).forEach((n) => scope.define(n, POISON));
    case "Param":
      return scope.define(s.name.name, POISON);
    case "Layer":
      return s.path[0].kind === "Name" ? scope.define(s.path[0].name, POISON) : undefined;
    case "Assign":
    case "If":
    case "For":
      return poisonAssigned(s);
    default:
      return;
  }
}
