// Top-level blocks, fns and models have distinct names across all loaded files; parameter lists have distinct names.
import { CheckCodes, makeDiagnostic } from "../../../compiler/codes.js";
import type { Span } from "../../../compiler/diagnostics.js";
import type * as A from "../../1-parse/ast.js";
import type { Rule } from "./rule.js";

export const uniqueDefinitions: Rule = (ctx) => {
  const top = new Map<string, Span>();
  for (const file of ctx.program.files)
    for (const item of file.items) {
      if (item.kind === "Import" || (item.kind === "Model" && file !== ctx.program.entry)) continue;
      const first = top.get(item.name.name);
      if (first)
        ctx.report(makeDiagnostic(CheckCodes.DuplicateDefinition, `'${item.name.name}' is defined twice`, item.name.span, { related: [{ message: "first defined here", span: first }] }));
      else top.set(item.name.name, item.name.span);
      const lists: A.ParamDecl[][] = item.kind === "Fn" ? [item.params] : [item.config, item.inputs];
      const names = new Map<string, Span>();
      for (const p of lists.flat()) {
        const prev = names.get(p.name.name);
        if (prev) ctx.report(makeDiagnostic(CheckCodes.DuplicateDefinition, `parameter '${p.name.name}' is declared twice`, p.name.span, { related: [{ message: "first declared here", span: prev }] }));
        else names.set(p.name.name, p.name.span);
      }
    }
};
