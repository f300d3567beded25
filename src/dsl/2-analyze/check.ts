// Runs the static rules over a loaded program; their diagnostics come before elaboration's.
import type { Diagnostic } from "../../diagnostics/diagnostics.js";
import type { Program } from "./load.js";
import { builtinCalls } from "./rules/builtin-calls.js";
import { einopsPatterns } from "./rules/einops-patterns.js";
import { liftSteps } from "./rules/lift-steps.js";
import { preprocessFields } from "./rules/preprocess-fields.js";
import { namesDefined } from "./rules/names-defined.js";
import type { Rule } from "./rules/rule.js";
import { statementPlacement } from "./rules/statement-placement.js";
import { uniqueDefinitions } from "./rules/unique-definitions.js";
import { weightsRules } from "./rules/weights-rules.js";

export const RULES: readonly Rule[] = [
  uniqueDefinitions,
  namesDefined,
  builtinCalls,
  statementPlacement,
  liftSteps,
  weightsRules,
  einopsPatterns,
  preprocessFields,
];

export function checkProgram(program: Program): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const rule of RULES) rule({ program, report: (d) => out.push(d) });
  return out;
}
