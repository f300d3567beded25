// Each rule of a `weights { ... }` block is a verb of the table (src/dsl/signatures/weights.ts) with as many
// arguments as it takes, none a literal of a kind it never accepts; reported at the rule's line by `netc check`,
// before any checkpoint is read.
import { CheckCodes, makeDiagnostic } from "../../../diagnostics/codes.js";
import { closestName } from "../../../util/suggest.js";
import { acceptsKinds, describeKinds, describeLiteral, literalKinds } from "../../signatures/signature.js";
import { WEIGHTS_VERBS, weightsVerb, weightsVerbSpellings, weightsVerbText } from "../../signatures/weights.js";
import type * as A from "../../1-parse/ast.js";
import type { Rule, RuleContext } from "./rule.js";
import { bodiesOf, forEachStmt } from "./walk.js";

export const weightsRules: Rule = (ctx) => {
  for (const file of ctx.program.files)
    for (const body of bodiesOf(file))
      forEachStmt(body.stmts, (s) => s.kind === "Weights" && s.rules.forEach((r) => checkRule(ctx, r)));
};

function checkRule(ctx: RuleContext, r: A.WeightRule): void {
  const written = r.verb.name;
  const found = weightsVerb(written);
  if (!found) {
    const near = closestName(written, weightsVerbSpellings());
    ctx.report(
      makeDiagnostic(CheckCodes.UnknownWeightsRule, `'${written}' is not a weights rule`, r.verb.span, {
        hint: `${near ? `did you mean '${near}'? ` : ""}rules: ${weightsVerbSpellings().join(", ")}`,
      }),
    );
    return;
  }
  const v = WEIGHTS_VERBS[found.name];
  const hint = weightsVerbText(written, v);
  const required = v.params.filter((p) => !p.optional).length + (v.variadic === undefined ? 0 : v.variadic - 1);
  const most = v.variadic === undefined ? v.params.length : Infinity;
  if (r.args.length < required || r.args.length > most) {
    const wanted =
      most === Infinity ? `at least ${required}` : required === most ? `${required}` : `${required} or ${most}`;
    const at = r.args.length > most ? r.args[most].span : r.span;
    ctx.report(
      makeDiagnostic(
        CheckCodes.BadWeightsRule,
        `${written} takes ${wanted} argument${wanted === "1" ? "" : "s"}, got ${r.args.length}`,
        at,
        { hint },
      ),
    );
    return;
  }
  r.args.forEach((a, i) => {
    const p = v.params[Math.min(i, v.params.length - 1)];
    const kinds = literalKinds(a);
    if (kinds && !acceptsKinds(p, kinds))
      ctx.report(
        makeDiagnostic(
          CheckCodes.BadWeightsRule,
          `the ${p.name} of ${written} should be ${describeKinds(p.kinds)}, got ${describeLiteral(a)}`,
          a.span,
          { hint },
        ),
      );
  });
}
