// `netc check <file.net>`: diagnostics only. Elaborates the model (with --set) when the file has one; with
// --weights, also maps the checkpoints onto its weights from their names and shapes (no tensor data is read).
import type * as A from "../../dsl/1-parse/ast.js";
import { compileToGraph, type FrontendResult } from "../../driver.js";
import { CheckCodes } from "../../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError, SourceMap } from "../../diagnostics/diagnostics.js";
import type { Checkpoint } from "../../weights/checkpoint.js";
import type { Strictness } from "../../weights/report.js";
import { defaultStyle, parseSets, readSource, report } from "../io.js";

export interface CheckOptions {
  set: string[];
  weights: string[];
  allowMissing: boolean;
  allowUnexpected: boolean;
  format: "text" | "json";
}

export async function checkCommand(file: string, opts: CheckOptions): Promise<void> {
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
  const diagnostics = withWeights ? await checkedWithWeights(r, opts.weights, opts) : r.diagnostics;
  report(diagnostics, r.sources, { ...defaultStyle(), format: opts.format });
  if (opts.format === "text") process.stderr.write(`${file}: ok\n`);
}

/** The front end's diagnostics with the weight report's (unused weights are the report's business then). */
async function checkedWithWeights(
  r: FrontendResult,
  weights: readonly string[],
  strictness: Strictness,
): Promise<Diagnostic[]> {
  const model = r.program?.entry.items.find((i): i is A.ModelDecl => i.kind === "Model");
  if (!model || (!r.graph && !r.symbolicWeights)) return r.diagnostics;
  // The checkpoint readers load only here, so that a plain `netc check` starts without them (docs/benchmarks.md).
  const [{ openCheckpoint }, { checkWeights, withDimensionHints }, { parseWeightSpec }] = await Promise.all([
    import("../../weights/checkpoint.js"),
    import("../../weights/model-check.js"),
    import("../../weights/model-weights.js"),
  ]);
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
      strictness,
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
