// `netc export triton <model.onnx|file.net> -o model_repository/`: adds <name>/config.pbtxt, <name>/1/model.onnx
// (with its external data) and <name>/labels.txt to a Triton model repository. The model folder is written beside
// its place and renamed in, so a failure leaves the repository as it was; an existing folder is replaced only when
// netc wrote it.
import * as fs from "node:fs";
import { basename, join } from "node:path";
import { writeOnnx } from "../../backends/onnx/index.js";
import { usesExternalData } from "../../backends/onnx/external-check.js";
import { decodeModel } from "../../backends/onnx/proto.js";
import { CliCodes, makeDiagnostic } from "../../diagnostics/codes.js";
import { DiagnosticError, SourceMap } from "../../diagnostics/diagnostics.js";
import { DatasetCodes } from "../../diagnostics/dataset-codes.js";
import { onnxSignature } from "../../dataset/runner.js";
import { displayPath } from "../../util/source-paths.js";
import { batchSymbol, tritonConfig, tritonProblem } from "../../export/triton/config.js";
import { MAX_BINARY_BYTES, readRegularFile } from "../../util/input-file.js";
import { checkOutputPlace, temporarySibling } from "../../util/output.js";
import { parseWeightSpec } from "../../weights/model-weights.js";
import { report, usage } from "../io.js";
import { compileWithWeights } from "./compile.js";
import { reporting } from "./infer.js";

export interface ExportTritonOptions {
  output: string;
  name?: string;
  maxBatch: number;
  instance: "gpu" | "cpu";
  set: string[];
  weights: string[];
  override?: string[];
  opset: number;
  seed: number;
  verbose?: boolean;
  quiet?: boolean;
}

/** The first line of every config.pbtxt netc writes: how it recognises a model folder it may replace. */
const MARKER = "# Triton model configuration written by netc export triton";

function ownedByNetc(dir: string): boolean {
  try {
    // Through the regular-file check: a FIFO named config.pbtxt must not block the export.
    return readRegularFile(join(dir, "config.pbtxt"), 1 << 20)
      .toString("utf8")
      .startsWith(MARKER);
  } catch {
    return false;
  }
}

const fail = (info: typeof DatasetCodes.TritonUnsupported, message: string, hint?: string): never => {
  throw new DiagnosticError([makeDiagnostic(info, message, undefined, hint ? { hint } : {})]);
};

export async function exportTritonCommand(model: string, opts: ExportTritonOptions): Promise<void> {
  const name = opts.name ?? basename(model).replace(/\.(net|onnx)$/, "");
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === "." || name === "..")
    usage(`--name: '${name}' is not a usable model name (letters, digits, _ . -)`);
  if (name.length > 255)
    usage(`--name: a model name of ${name.length} characters is longer than a folder name can be (255)`);
  const target = join(opts.output, name);
  const inputFiles = [model, ...opts.weights.map((w) => parseWeightSpec(w).path), ...(opts.override ?? [])];
  if (!fs.existsSync(opts.output))
    report(
      [
        makeDiagnostic(CliCodes.WriteFailed, `the model repository ${opts.output} does not exist`, undefined, {
          hint: `create it first (mkdir ${opts.output})`,
        }),
      ],
      new SourceMap(),
    );
  await reporting(() => checkOutputPlace(target, inputFiles, "the Triton model"));
  if (fs.existsSync(target) && !ownedByNetc(target))
    report(
      [
        makeDiagnostic(CliCodes.OutputNotReplaceable, `${target} exists and netc did not write it`, undefined, {
          hint: "choose another --name, or remove the folder",
        }),
      ],
      new SourceMap(),
    );
  const stage = temporarySibling(target);
  fs.mkdirSync(join(stage, "1"), { recursive: true });
  try {
    const onnxPath = join(stage, "1", "model.onnx");
    if (model.endsWith(".net")) {
      const { front, graph, weights, inputs } = compileWithWeights(model, {
        ...opts,
        allowMissing: false,
        allowUnexpected: false,
      });
      report(
        writeOnnx(onnxPath, graph, { opset: opts.opset, weights, seed: opts.seed, source: displayPath(model), inputs }),
        front.sources,
      );
    } else {
      if (opts.set.length || opts.weights.length)
        usage("--set and --weights apply to .net models; a compiled model already has its weights");
      const bytes = await reporting(() => readRegularFile(model, MAX_BINARY_BYTES));
      const external = await reporting(() => {
        try {
          return usesExternalData(decodeModel(bytes));
        } catch (e) {
          return fail(DatasetCodes.TritonUnsupported, `cannot read ${model} as an ONNX model: ${(e as Error).message}`);
        }
      });
      if (external)
        await reporting(() =>
          fail(
            DatasetCodes.TritonUnsupported,
            `${model} keeps its weights in external data files`,
            "export from the .net model, which writes the data file into the repository too",
          ),
        );
      fs.writeFileSync(onnxPath, bytes);
    }
    const signature = await reporting(() => onnxSignature(readRegularFile(onnxPath, MAX_BINARY_BYTES), model));
    const problem = tritonProblem(signature);
    if (problem) await reporting(() => fail(DatasetCodes.TritonUnsupported, problem));
    const labels = signature.preprocess?.labels;
    if (labels) fs.writeFileSync(join(stage, "labels.txt"), `${labels.join("\n")}\n`);
    const config = tritonConfig({
      name,
      ...signature,
      maxBatch: opts.maxBatch,
      instance: opts.instance,
      labelsFile: labels ? "labels.txt" : undefined,
    });
    fs.writeFileSync(join(stage, "config.pbtxt"), config);
    if (fs.existsSync(target)) fs.rmSync(target, { recursive: true });
    fs.renameSync(stage, target);
    const batch = batchSymbol(signature);
    const batching = batch
      ? `batch axis ${batch}, max_batch_size ${opts.maxBatch}, dynamic batching`
      : "no batch axis: max_batch_size 0";
    process.stderr.write(`wrote ${target}/ (config.pbtxt, 1/model.onnx${labels ? ", labels.txt" : ""}; ${batching})\n`);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}
