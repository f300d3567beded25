// `preprocess { }` is declared once, at the top of a model body, with known fields and literal values.
import { makeDiagnostic } from "../../../diagnostics/codes.js";
import { PreprocessCodes } from "../../../diagnostics/preprocess-codes.js";
import { readPreprocess } from "../../preprocess-spec.js";
import type * as A from "../../1-parse/ast.js";
import type { Rule } from "./rule.js";
import { bodiesOf, forEachStmt } from "./walk.js";

export const preprocessFields: Rule = (ctx) => {
  for (const file of ctx.program.files)
    for (const body of bodiesOf(file)) {
      const topLevel = new Set(body.kind === "Model" ? body.stmts : []);
      let first: A.PreprocessStmt | undefined;
      forEachStmt(body.stmts, (s) => {
        if (s.kind !== "Preprocess") return;
        if (!topLevel.has(s)) {
          const where = body.kind === "Model" ? "inside `if` or `for`" : `in ${body.kind.toLowerCase()} ${body.name}`;
          return ctx.report(
            makeDiagnostic(
              PreprocessCodes.Misplaced,
              `\`preprocess { ... }\` belongs at the top of the model body, not ${where}`,
              s.span,
            ),
          );
        }
        if (first)
          return ctx.report(
            makeDiagnostic(PreprocessCodes.Misplaced, `model ${body.name} declares \`preprocess\` twice`, s.span, {
              related: [{ message: "the first declaration", span: first.span }],
            }),
          );
        first = s;
        for (const d of readPreprocess(s).diagnostics) ctx.report(d);
      });
    }
};
