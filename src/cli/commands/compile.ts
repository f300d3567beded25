// `netc compile <file.net> --target onnx -o out.onnx [--weights ...] [--set ...]`.
import { writeOnnx } from "../../backends/onnx/index.js";
import { emitWgslBundle } from "../../backends/wgsl/index.js";
import { compileToGraph, type FrontendResult } from "../../compiler/compile.js";
import { hasErrors, SourceMap } from "../../compiler/diagnostics.js";
import type { HostTensor } from "../../util/tensor.js";
import { loadModelWeights, parseWeightSpec } from "../../weights/model-weights.js";
import { renderReport } from "../../weights/report.js";
import { parseSets, readSource, report } from "../io.js";
import { progressBar } from "../progress.js";

export interface CompileOptions {
  target: "onnx" | "wgsl";
  precision: "f32" | "f16";
  output: string;
  set: string[];
  weights: string[];
  override?: string[];
  opset: number;
  seed: number;
  debugOutputs: boolean;
  allowMissing: boolean;
  allowUnexpected: boolean;
}

/** Every file a compile reads (the sources it loaded, checkpoints, overrides): no output may be written over one. */
export function inputsOf(front: FrontendResult, opts: Pick<CompileOptions, "weights" | "override">): string[] {
  return [...(front.program?.files.map((f) => f.file) ?? []), ...opts.weights.map((w) => parseWeightSpec(w).path), ...(opts.override ?? [])];
}

/** Front end plus weights: shared by compile, run and weights import. Exits on errors. */
export function compileWithWeights(
  file: string,
  opts: Pick<CompileOptions, "set" | "weights" | "override" | "allowMissing" | "allowUnexpected">,
): { front: FrontendResult & { graph: NonNullable<FrontendResult["graph"]> }; weights?: Map<string, HostTensor>; inputs: string[] } {
  const text = readSource(file, new SourceMap());
  const front = compileToGraph(text, { file, overrides: parseSets(opts.set) });
  report(front.diagnostics.filter((d) => hasErrors([d]) || d.severity === "warning"), front.sources);
  if (!front.graph) throw new Error("compileToGraph returned no graph without an error");
  const inputs = [file, ...inputsOf(front, opts)];
  if (opts.weights.length === 0) return { front: front as never, inputs };
  const bar = progressBar("loading weights");
  const loaded = loadModelWeights(front.graph, opts.weights.map(parseWeightSpec), front.weightRules, {
    allowMissing: opts.allowMissing,
    allowUnexpected: opts.allowUnexpected,
    overrides: opts.override,
    onProgress: bar.update,
  });
  bar.done();
  if (loaded.report) process.stderr.write(renderReport(loaded.report) + "\n");
  report(loaded.diagnostics, front.sources);
  return { front: front as never, weights: loaded.weights, inputs };
}

export function compileCommand(file: string, opts: CompileOptions): void {
  const { front, weights, inputs } = compileWithWeights(file, opts);
  if (opts.target === "wgsl") {
    const bundle = emitWgslBundle(front.graph, { weights, seed: opts.seed, debugOutputs: opts.debugOutputs, precision: opts.precision, outDir: opts.output, source: file, inputs });
    report(bundle.diagnostics, front.sources);
    process.stderr.write(`wrote ${opts.output}/ (${bundle.program!.manifest.kernels.length} kernels)${weights ? "" : ` (random weights, seed ${opts.seed})`}\n`);
    return;
  }
  const diagnostics = writeOnnx(opts.output, front.graph, {
    opset: opts.opset,
    weights,
    seed: opts.seed,
    debugOutputs: opts.debugOutputs,
    source: file,
    inputs,
  });
  report(diagnostics, front.sources);
  process.stderr.write(`wrote ${opts.output}${weights ? "" : ` (random weights, seed ${opts.seed})`}\n`);
}
