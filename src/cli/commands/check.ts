// `netc check <file.net>`: diagnostics only. Elaborates the model (with --set) when the file has one; with
// --weights, also maps the checkpoints onto its weights from their names and shapes (no tensor data is read).
import type * as A from "../../dsl/1-parse/ast.js";
import { compileToGraph, type FrontendResult } from "../../driver.js";
import { CheckCodes } from "../../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError, SourceMap } from "../../diagnostics/diagnostics.js";
import { type Checkpoint, openCheckpoint } from "../../weights/checkpoint.js";
import { checkWeights, withDimensionHints } from "../../weights/model-check.js";
import { parseWeightSpec } from "../../weights/model-weights.js";
import { defaultStyle, parseSets, readSource, report } from "../io.js";

export interface CheckOptions {
  set: string[];
  weights: string[];
  format: "text" | "json";
}

export function checkCommand(file: string, opts: CheckOptions): void {
  const text = readSource(file, new SourceMap());
  const withWeights = opts.weights.length > 0;
  const r = compileToGraph(text, {
    file,
    overrides: parseSets(opts.set),
    requireModel: false,
    noteUncheckedBlocks: true,
    // A parameter without a value is still an error, but the weights sized by it can then tell its value.
    symbolicParams: withWeights,
  });
  const diagnostics = withWeights ? checkedWithWeights(r, opts.weights) : r.diagnostics;
  report(diagnostics, r.sources, { ...defaultStyle(), format: opts.format });
  if (opts.format === "text") process.stderr.write(`${file}: ok\n`);
}

/** The front end's diagnostics with the weight report's (unused weights are the report's business then). */
function checkedWithWeights(r: FrontendResult, weights: readonly string[]): Diagnostic[] {
  const model = r.program?.entry.items.find((i): i is A.ModelDecl => i.kind === "Model");
  if (!model || (!r.graph && !r.symbolicWeights)) return r.diagnostics;
  const opened: Checkpoint[] = [];
  try {
    const checkpoints = weights.map(parseWeightSpec).map((f) => {
      const checkpoint = openCheckpoint(f.path);
      opened.push(checkpoint);
      return { ...f, checkpoint };
    });
    const checked = checkWeights({
      model,
      sources: r.sources,
      graph: r.graph,
      symbolicWeights: r.symbolicWeights,
      rules: r.weightRules,
      checkpoints,
    });
    const front = withDimensionHints(r.diagnostics, model, r.sources, checked.dimensions);
    return [...front.filter((d) => d.code !== CheckCodes.UnusedParameter.code), ...checked.diagnostics];
  } catch (e) {
    if (e instanceof DiagnosticError) return [...r.diagnostics, ...e.diagnostics];
    throw e;
  } finally {
    for (const c of opened) c.close();
  }
}
