// Each step of a `lift` is `update <approx> += ...` or `predict <detail> -= ...`, and there is at least one.
import { CheckCodes, makeDiagnostic } from "../../../diagnostics/codes.js";
import type * as A from "../../1-parse/ast.js";
import type { Rule } from "./rule.js";
import { bodiesOf, forEachExpr, forEachStmt, stmtExprs } from "./walk.js";

export const liftSteps: Rule = (ctx) => {
  for (const file of ctx.program.files)
    for (const body of bodiesOf(file))
      forEachStmt(body.stmts, (s) => {
        for (const root of stmtExprs(s)) forEachExpr(root, (e) => e.kind === "Lift" && checkLift(e, ctx.report));
      });
};

function checkLift(e: A.LiftExpr, report: (d: ReturnType<typeof makeDiagnostic>) => void): void {
  if (e.steps.length === 0)
    report(makeDiagnostic(CheckCodes.LiftStep, "a lift needs at least one update or predict step", e.span));
  if (e.approx.name.name === e.detail.name.name)
    report(
      makeDiagnostic(CheckCodes.LiftStep, "the approximation and the detail need different names", e.detail.name.span),
    );
  for (const step of e.steps) {
    const kind = step.step.name;
    if (kind !== "update" && kind !== "predict") {
      report(
        makeDiagnostic(CheckCodes.LiftStep, `'${kind}' is not a lifting step`, step.step.span, {
          hint: "steps are `update <approx> += U(...)` and `predict <detail> -= P(...)`",
        }),
      );
      continue;
    }
    const [target, op, role] =
      kind === "update" ? [e.approx.name, "+=", "approximation"] : [e.detail.name, "-=", "detail"];
    if (step.target.name !== target.name)
      report(
        makeDiagnostic(
          CheckCodes.LiftStep,
          `${kind} changes the ${role} '${target.name}', not '${step.target.name}'`,
          step.target.span,
          { related: [{ message: `the ${role} is named here`, span: target.span }] },
        ),
      );
    else if (step.op !== op)
      report(makeDiagnostic(CheckCodes.LiftStep, `${kind} uses ${op}, not ${step.op}`, step.span));
  }
}
