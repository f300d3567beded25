// A static validation rule over the loaded program (graphql-js style: one rule per file).
import type { Diagnostic } from "../../../diagnostics/diagnostics.js";
import type { Program } from "../load.js";

export interface RuleContext {
  program: Program;
  report(d: Diagnostic): void;
}

export type Rule = (ctx: RuleContext) => void;
