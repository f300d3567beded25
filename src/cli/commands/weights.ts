// `netc weights inspect <ckpt>` and `netc weights import <[name=]ckpt>... --model file.net -o out.safetensors`.
import { DiagnosticError, SourceMap } from "../../diagnostics/diagnostics.js";
import { inspectCheckpoint, openCheckpoint, writeSafetensors } from "../../weights/index.js";
import { IMPORTED_FOR_MODEL } from "../../weights/model-weights.js";
import { displayPath } from "../../util/source-paths.js";
import { checkFileOutput } from "../../util/output.js";
import { report } from "../io.js";
import { compileWithWeights } from "./compile.js";

export function weightsInspectCommand(path: string): void {
  try {
    const ckpt = openCheckpoint(path);
    try {
      process.stdout.write(`${inspectCheckpoint(ckpt)}\n`);
    } finally {
      ckpt.close();
    }
  } catch (e) {
    if (e instanceof DiagnosticError) report(e.diagnostics, new SourceMap());
    throw e;
  }
}

export interface WeightsImportOptions {
  model: string;
  output: string;
  set: string[];
  allowMissing: boolean;
  allowUnexpected: boolean;
  verbose?: boolean;
  quiet?: boolean;
}

/**
 * Each checkpoint is `file` or `name=file` (the model's `weights name { }` rules), as with `compile --weights`. The
 * tensors go from the checkpoints into the file one at a time (streamed), never all in memory.
 */
export function weightsImportCommand(checkpoints: string[], opts: WeightsImportOptions): void {
  const { weights: loaded, inputs } = compileWithWeights(opts.model, {
    ...opts,
    weights: checkpoints,
    streamWeights: true,
  });
  try {
    checkFileOutput(opts.output, inputs, "the safetensors file");
    writeSafetensors(opts.output, loaded!, {
      metadata: new Map([
        [IMPORTED_FOR_MODEL, displayPath(opts.model)],
        ["netc.checkpoint", checkpoints.join(" ")],
      ]),
    });
  } catch (e) {
    if (e instanceof DiagnosticError) report(e.diagnostics, new SourceMap());
    throw e;
  }
  process.stderr.write(`wrote ${loaded!.size} tensors to ${opts.output}\n`);
}
