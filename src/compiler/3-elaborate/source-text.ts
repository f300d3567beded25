// Expressions and patterns as short source text, for messages.
import type * as A from "../../dsl/1-parse/ast.js";

export function exprText(e: A.Expr): string {
  switch (e.kind) {
    case "Number":
      return e.raw;
    case "Name":
      return e.name;
    case "Binary":
      return `${exprText(e.left)} ${e.op} ${exprText(e.right)}`;
    case "Unary":
      return `${e.op === "not" ? "not " : "-"}${exprText(e.operand)}`;
    case "Member":
      return `${exprText(e.target)}.${e.member.name}`;
    case "Call":
      return `${exprText(e.callee)}(...)`;
    case "Index":
      return `${exprText(e.target)}[...]`;
    case "String":
      return JSON.stringify(e.value);
    default:
      return e.kind.toLowerCase();
  }
}

export function patternText(p: A.Pattern): string {
  return p.kind === "NamePattern" ? p.name : `(${p.elements.map(patternText).join(", ")})`;
}
