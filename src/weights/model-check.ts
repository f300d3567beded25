// A model's weights checked against checkpoints from names and shapes alone (no tensor data is read): what
// `netc check --weights` and the language server report. A fully elaborated model gets the weight report's
// diagnostics, with the rename rules as fixes; a model with parameters still without a value gets those values,
// when the checkpoints' shapes give them, as the hint and fix of the parameter's error (NET2006).
import type * as A from "../dsl/1-parse/ast.js";
import { CheckCodes } from "../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError, type SourceMap } from "../diagnostics/diagnostics.js";
import type { WeightRuleUse } from "../compiler/3-elaborate/elaborate.js";
import type { Graph } from "../compiler/ir/ir.js";
import { shapeToString } from "../compiler/ir/dim.js";
import type { Checkpoint } from "./checkpoint.js";
import { type DimensionValue, dimensionValues, type SymbolicWeight } from "./dimension-values.js";
import { planWeights } from "./mapping.js";
import { addWeightRuleFix, parameterDefaultFix } from "./model-fixes.js";
import { declaredWeights, misspelledSets, type WeightFileSpec, weightSources } from "./model-weights.js";
import { reportDiagnostics, type Strictness } from "./report.js";

export interface WeightCheck {
  /** The model as parsed: where fixes edit, and the line of a diagnostic about no weight in particular. */
  model: A.ModelDecl;
  sources: SourceMap;
  /** The elaborated model, when it elaborated. */
  graph?: Graph;
  /** Its weights in terms of parameters without a value, when it had some (FrontendResult.symbolicWeights). */
  symbolicWeights?: readonly SymbolicWeight[];
  rules: readonly WeightRuleUse[];
  /** The checkpoints, opened (the caller closes them). */
  checkpoints: readonly (WeightFileSpec & { checkpoint: Checkpoint })[];
  /** --allow-missing / --allow-unexpected: those become warnings, as they do when compiling. */
  strictness?: Strictness;
}

export interface WeightCheckResult {
  /** The weight report's diagnostics, or the mapping rules' errors. */
  diagnostics: Diagnostic[];
  /** Values of model parameters without one that the checkpoints' shapes give. */
  dimensions: Map<string, DimensionValue>;
}

export function checkWeights(c: WeightCheck): WeightCheckResult {
  const dimensions = new Map<string, DimensionValue>();
  const anchor = (d: Diagnostic): Diagnostic => (d.span ? d : { ...d, span: c.model.name.span });
  try {
    const sources = weightSources(c.checkpoints, c.rules);
    if (c.graph) {
      const plan = planWeights(declaredWeights(c.graph), sources);
      const fix = (rule: Parameters<typeof addWeightRuleFix>[2]) => addWeightRuleFix(c.model, c.sources, rule);
      const diagnostics = [
        ...misspelledSets(c.checkpoints, c.rules),
        ...reportDiagnostics(plan.report, c.strictness, fix),
      ];
      return { diagnostics: diagnostics.map(anchor), dimensions };
    }
    if (c.symbolicWeights) {
      const unset = new Set(c.model.config.filter((p) => !p.default).map((p) => p.name.name));
      return { diagnostics: [], dimensions: dimensionValues(c.symbolicWeights, sources, unset) };
    }
    return { diagnostics: [], dimensions };
  } catch (e) {
    if (e instanceof DiagnosticError) return { diagnostics: e.diagnostics.map(anchor), dimensions };
    throw e;
  }
}

/**
 * The front end's diagnostics with each "needs a value for 'dim'" (NET2006) of a parameter the checkpoints size
 * given that value: `--set dim=768` in the hint, and a fix that makes it the parameter's default.
 */
export function withDimensionHints(
  diagnostics: readonly Diagnostic[],
  model: A.ModelDecl,
  sources: SourceMap,
  dimensions: ReadonlyMap<string, DimensionValue>,
): Diagnostic[] {
  return diagnostics.map((d) => {
    if (d.code !== CheckCodes.MissingArgument.code || !d.span) return d;
    const param = model.config.find((p) => p.span.file === d.span!.file && p.span.start === d.span!.start);
    const found = param && dimensions.get(param.name.name);
    if (!param || !found) return d;
    const { name, value } = found;
    const fix = parameterDefaultFix(model, sources, name, value);
    return {
      ...d,
      hint:
        `the checkpoint gives ${name} = ${value} (its '${found.key}' is [${found.shape.join(", ")}], the model's ` +
        `'${found.weight}' ${shapeToString(found.declared)}): --set ${name}=${value}, or give '${name}' a default`,
      ...(fix ? { fixes: [...(d.fixes ?? []), fix] } : {}),
    };
  });
}
