// Literal patterns of `rearrange`, `repeat` and `reduce` are checked from the source alone (with the caret at the
// offending column), even in blocks no model uses; shapes are checked when the call is elaborated.
import { CheckCodes, makeDiagnostic } from "../../../diagnostics/codes.js";
import type * as A from "../../1-parse/ast.js";
import {
  EINOPS_PARAMETERS,
  parsePattern,
  patternProblemDiagnostic,
  type PatternOperation,
  REDUCTIONS,
} from "../../einops-pattern.js";
import type { Rule } from "./rule.js";
import { bodiesOf, forEachExpr, forEachStmt, stmtExprs } from "./walk.js";

export const einopsPatterns: Rule = (ctx) => {
  const defined = new Set(
    ctx.program.files.flatMap((f) => f.items.flatMap((i) => (i.kind === "Import" ? [] : [i.name.name]))),
  );
  for (const file of ctx.program.files)
    for (const body of bodiesOf(file))
      forEachStmt(body.stmts, (s) => {
        for (const root of stmtExprs(s))
          forEachExpr(root, (e) => {
            if (
              e.kind !== "Call" ||
              e.callee.kind !== "Name" ||
              !(e.callee.name in EINOPS_PARAMETERS) ||
              defined.has(e.callee.name)
            )
              return;
            checkCall(e.callee.name as PatternOperation, e, ctx.report);
          });
      });
};

function checkCall(
  op: PatternOperation,
  call: A.CallExpr,
  report: (d: ReturnType<typeof makeDiagnostic>) => void,
): void {
  const fixed = EINOPS_PARAMETERS[op];
  const positional = call.args.filter((a) => !a.name);
  const argument = (name: string) => call.args.find((a) => a.name?.name === name) ?? positional[fixed.indexOf(name)];
  const sizes = call.args.filter((a) => a.name && !fixed.includes(a.name.name));
  const reduction = op === "reduce" ? argument("reduction")?.value : undefined;
  if (reduction?.kind === "String" && !(REDUCTIONS as readonly string[]).includes(reduction.value))
    report(
      makeDiagnostic(CheckCodes.UnknownReduction, `'${reduction.value}' is not a reduction`, reduction.span, {
        hint: `reduce with one of ${REDUCTIONS.map((n) => `"${n}"`).join(", ")}`,
      }),
    );
  const pattern = argument("pattern")?.value;
  if (pattern?.kind !== "String") return;
  const { problems } = parsePattern(
    pattern.value,
    op,
    sizes.map((a) => a.name!.name),
  );
  for (const q of problems) {
    const sizeArg = q.sizeName === undefined ? undefined : sizes.find((a) => a.name!.name === q.sizeName);
    report(
      patternProblemDiagnostic(
        q,
        pattern.value,
        sizeArg ? sizeArg.name!.span : pattern.span,
        sizeArg ? undefined : { raw: pattern.raw === true },
      ),
    );
  }
}
