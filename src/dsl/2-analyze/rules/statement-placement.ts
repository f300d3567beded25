// fns own no weights or layers; `weights { }` rules belong to the model; every body ends in a return.
import { CheckCodes, makeDiagnostic } from "../../../diagnostics/codes.js";
import type * as A from "../../1-parse/ast.js";
import type { Rule } from "./rule.js";
import { bodiesOf, forEachStmt } from "./walk.js";

function returns(stmts: readonly A.Stmt[]): boolean {
  const last = stmts[stmts.length - 1];
  if (!last) return false;
  if (last.kind === "Return") return true;
  return last.kind === "If" && !!last.else && returns(last.then) && returns(last.else);
}

export const statementPlacement: Rule = (ctx) => {
  for (const file of ctx.program.files)
    for (const body of bodiesOf(file)) {
      forEachStmt(body.stmts, (s) => {
        if (body.kind === "Fn" && (s.kind === "Param" || s.kind === "Layer"))
          ctx.report(
            makeDiagnostic(
              CheckCodes.MisplacedStatement,
              `fn ${body.name} cannot declare a ${s.kind.toLowerCase()}`,
              s.span,
              { hint: "a fn has no weights; make it a block and instantiate it with `layer`" },
            ),
          );
        if (body.kind !== "Model" && s.kind === "Weights")
          ctx.report(
            makeDiagnostic(CheckCodes.MisplacedStatement, "`weights { ... }` rules belong in the model body", s.span),
          );
      });
      if (!returns(body.stmts))
        ctx.report(
          makeDiagnostic(
            CheckCodes.MissingReturn,
            `${body.kind.toLowerCase()} ${body.name} does not end with a return`,
            body.decl.name.span,
            { hint: "end the body with `return <value>`" },
          ),
        );
    }
};
