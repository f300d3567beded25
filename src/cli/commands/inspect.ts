// `netc inspect <file.net|model.onnx>`: inputs, outputs, parameters, MACs, node counts and op histograms.
import { type OnnxSummary, summarizeOnnx } from "../../backends/onnx/summary.js";
import { makeDiagnostic, OnnxCodes } from "../../diagnostics/codes.js";
import { SourceMap } from "../../diagnostics/diagnostics.js";
import { compileToGraph } from "../../driver.js";
import { summarizeGraph } from "../../pipeline.js";
import { InputFileError, MAX_BINARY_BYTES, readRegularFile } from "../../util/input-file.js";
import { parseSets, readSource, report } from "../io.js";

const histogramText = (h: Record<string, number>) =>
  Object.entries(h)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([op, n]) => `${op} ${n}`)
    .join(", ");

const count = (n: number) => n.toLocaleString("en-US");

export function inspectCommand(model: string, opts: { set: string[]; json: boolean }): void {
  const sources = new SourceMap();
  if (!model.endsWith(".net")) {
    let summary: OnnxSummary;
    let bytes: Uint8Array;
    try {
      bytes = readRegularFile(model, MAX_BINARY_BYTES);
    } catch (e) {
      if (!(e instanceof InputFileError)) throw e;
      return report([e.diagnostic], sources);
    }
    try {
      summary = summarizeOnnx(bytes);
    } catch (e) {
      return report(
        [makeDiagnostic(OnnxCodes.RuntimeFailed, `cannot read ${model} as an ONNX model: ${(e as Error).message}`)],
        sources,
      );
    }
    if (opts.json) return void process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    process.stdout.write(
      `${[
        `onnx ${model} (opset ${summary.opset})`,
        `inputs:  ${summary.inputs.join("; ")}`,
        `outputs: ${summary.outputs.join("; ")}`,
        `parameters: ${count(summary.parameters)} in ${summary.initializers} initializers`,
        `nodes: ${summary.nodes}: ${histogramText(summary.histogram)}`,
      ].join("\n")}\n`,
    );
    return;
  }
  const front = compileToGraph(readSource(model, sources), { file: model, overrides: parseSets(opts.set) });
  report(
    front.diagnostics.filter((d) => d.severity === "error"),
    front.sources,
  );
  const graph = front.graph!;
  const summary = summarizeGraph(graph);
  report(summary.diagnostics, front.sources);
  const { ir: stats, onnx, wgsl } = summary;
  if (opts.json) {
    const out = {
      model: summary.model,
      inputs: summary.inputs,
      outputs: summary.outputs,
      symbols: summary.symbols,
      ir: stats,
      onnx,
      wgsl,
    };
    return void process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  }
  const taps = graph.taps.length ? ` (+${graph.taps.length} taps with --debug-outputs)` : "";
  const unused = stats.unusedParameters ? ` (+${count(stats.unusedParameters)} declared but unused)` : "";
  const macs = stats.macs >= 1e9 ? `${(stats.macs / 1e9).toFixed(2)} G` : `${(stats.macs / 1e6).toFixed(2)} M`;
  const symbolsAtOne = graph.symbols.length ? ` (${graph.symbols.map((s) => `${s} = 1`).join(", ")})` : "";
  const noKernels = graph.symbols.length
    ? `bundles need static shapes: inspect with ${graph.symbols.map((s) => `--set ${s}=1`).join(" ")}`
    : "not plannable (netc compile --target wgsl says why)";
  process.stdout.write(
    `${[
      `model ${graph.name} (${model})`,
      `inputs:  ${summary.inputs.join("; ")}`,
      `outputs: ${summary.outputs.join("; ")}${taps}`,
      `symbols: ${graph.symbols.join(", ") || "none"}`,
      `parameters: ${count(stats.parameters)}${unused}`,
      `MACs: ${macs}${symbolsAtOne}`,
      `IR nodes: ${stats.nodes}: ${histogramText(stats.histogram)}`,
      `ONNX nodes (opset ${onnx!.opset}): ${onnx!.nodes}: ${histogramText(onnx!.histogram)}`,
      wgsl ? `WGSL kernels: ${wgsl.kernels}: ${histogramText(wgsl.histogram)}` : `WGSL kernels: ${noKernels}`,
    ].join("\n")}\n`,
  );
}
