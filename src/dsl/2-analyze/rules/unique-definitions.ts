// Top-level blocks, fns and models have distinct names across all loaded files; parameter lists have distinct names;
// the params of one statement list have distinct weight names where the names are written out (a `named` name
// computed from a loop variable is known only at elaboration, which checks it there).
import { CheckCodes, makeDiagnostic } from "../../../diagnostics/codes.js";
import type { Diagnostic, Span } from "../../../diagnostics/diagnostics.js";
import type * as A from "../../1-parse/ast.js";
import type { Rule } from "./rule.js";

export const uniqueDefinitions: Rule = (ctx) => {
  const top = new Map<string, Span>();
  for (const file of ctx.program.files)
    for (const item of file.items) {
      if (item.kind === "Import" || (item.kind === "Model" && file !== ctx.program.entry)) continue;
      const first = top.get(item.name.name);
      if (first)
        ctx.report(
          makeDiagnostic(CheckCodes.DuplicateDefinition, `'${item.name.name}' is defined twice`, item.name.span, {
            related: [{ message: "first defined here", span: first }],
          }),
        );
      else top.set(item.name.name, item.name.span);
      const lists: A.ParamDecl[][] = item.kind === "Fn" ? [item.params] : [item.config, item.inputs];
      const names = new Map<string, Span>();
      for (const p of lists.flat()) {
        const prev = names.get(p.name.name);
        if (prev)
          ctx.report(
            makeDiagnostic(
              CheckCodes.DuplicateDefinition,
              `parameter '${p.name.name}' is declared twice`,
              p.name.span,
              { related: [{ message: "first declared here", span: prev }] },
            ),
          );
        else names.set(p.name.name, p.name.span);
      }
      if (item.kind !== "Fn") checkWeightNames(item.body, ctx.report);
    }
};

/**
 * The statements of one list run together, so two params there with the same written weight name always clash.
 * Lists nested in an `if` or a loop are checked on their own: a branch may not run, a loop may run once.
 */
function checkWeightNames(stmts: readonly A.Stmt[], report: (d: Diagnostic) => void): void {
  const seen = new Map<string, Span>();
  for (const s of stmts) {
    if (s.kind === "If") {
      checkWeightNames(s.then, report);
      if (s.else) checkWeightNames(s.else, report);
    } else if (s.kind === "For") checkWeightNames(s.body, report);
    else if (s.kind === "Param") {
      const written = writtenWeightName(s);
      if (!written) continue;
      const first = seen.get(written.name);
      if (first)
        report(
          makeDiagnostic(CheckCodes.DuplicateDefinition, `weight '${written.name}' is declared twice`, written.span, {
            related: [{ message: "first declared here", span: first }],
            hint: "the weights of one block need distinct names: rename one, or compute the name with `named`",
          }),
        );
      else seen.set(written.name, written.span);
    }
  }
}

/** The weight name when the source spells it: the param's own name, or a `named` string literal. */
function writtenWeightName(s: A.ParamStmt): { name: string; span: Span } | undefined {
  if (!s.weightName) return { name: s.name.name, span: s.name.span };
  return s.weightName.kind === "String" ? { name: s.weightName.value, span: s.weightName.span } : undefined;
}
