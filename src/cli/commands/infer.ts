// `netc infer <model.onnx|bundle/|file.net> <clips...> -o results.jsonl`: scores clips (frame folders, videos,
// manifests) with the model's own preprocessing, in batches, resumably, one JSON line per clip.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { emitOnnx, type OnnxDevice } from "../../backends/onnx/index.js";
import { WgslCodes } from "../../diagnostics/wgsl-codes.js";
import { allCodes } from "../../diagnostics/all-codes.js";
import { CliCodes, makeDiagnostic } from "../../diagnostics/codes.js";
import { DiagnosticError, SourceMap } from "../../diagnostics/diagnostics.js";
import { type ClipEntry, listClips } from "../../dataset/clips.js";
import { DatasetCodes } from "../../diagnostics/dataset-codes.js";
import { type ClipPlan, inferClips, planClips } from "../../dataset/infer.js";
import { appendResults, type ClipResult, latestResults, readResults, resultKey } from "../../dataset/results.js";
import { bundleRunner, type ModelRunner, onnxRunner } from "../../dataset/runner.js";
import { displayPath } from "../../util/source-paths.js";
import { WgslRuntimeError } from "../../runtime/model.js";
import { InputFileError, MAX_BINARY_BYTES, readRegularFile } from "../../util/input-file.js";
import { checkFileOutput } from "../../util/output.js";
import { parseWeightSpec } from "../../weights/model-weights.js";
import { report, usage } from "../io.js";
import { type Progress, progressBar } from "../progress.js";
import { compileWithWeights, onnxruntimeOpsOn } from "./compile.js";

export interface ModelOptions {
  set: string[];
  weights: string[];
  override?: string[];
  threads: number;
  sessions: number;
  device: OnnxDevice;
  verbose?: boolean;
  quiet?: boolean;
}

export interface InferOptions extends ModelOptions {
  output: string;
  batch: number;
  root?: string;
}

/** Reports a DiagnosticError (or the runtime's bundle errors) thrown by `work` and exits. */
export async function reporting<T>(work: () => Promise<T> | T, sources = new SourceMap()): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof DiagnosticError) {
      report(e.diagnostics, sources);
      throw e;
    }
    if (e instanceof InputFileError) {
      report([e.diagnostic], sources);
      throw e;
    }
    if (e instanceof WgslRuntimeError) {
      const code = Object.values(WgslCodes).find((c) => c.code === e.code) ?? WgslCodes.RuntimeFailed;
      report([makeDiagnostic(code, e.message)], sources);
    }
    throw e;
  }
}

/** The model opened for many runs, with the files it was read from (which outputs must not replace). */
export async function openModel(
  model: string,
  opts: ModelOptions,
): Promise<{ runner: ModelRunner; inputFiles: string[] }> {
  const inputFiles = [model, ...opts.weights.map((w) => parseWeightSpec(w).path), ...(opts.override ?? [])];
  const threads = Math.min(opts.threads, availableParallelism());
  const onFallback = (note: string) => process.stderr.write(`note: --device auto: ${note}\n`);
  if (model.endsWith(".net")) {
    const onnxruntimeOps = onnxruntimeOpsOn(opts.device);
    const { front, graph, weights, inputs } = compileWithWeights(model, {
      ...opts,
      allowMissing: false,
      allowUnexpected: false,
      onnxruntimeOps,
    });
    inputFiles.push(...inputs);
    const emitted = emitOnnx(graph, { weights, source: displayPath(model), onnxruntimeOps });
    report(emitted.diagnostics, front.sources);
    const bytes = emitted.bytes!;
    return {
      runner: await reporting(() =>
        onnxRunner(bytes, bytes, model, { device: opts.device, threads, sessions: opts.sessions, onFallback }),
      ),
      inputFiles,
    };
  }
  if (opts.set.length || opts.weights.length)
    usage("--set and --weights apply to .net models; a compiled model already has its weights");
  if (existsSync(join(model, "manifest.json"))) {
    if (opts.device !== "cpu")
      usage("--device chooses onnxruntime's execution provider; a WGSL bundle runs on the WebGPU adapter");
    return { runner: await reporting(() => bundleRunner(model)), inputFiles };
  }
  const bytes = await reporting(() => readRegularFile(model, MAX_BINARY_BYTES));
  return {
    runner: await reporting(() =>
      onnxRunner(model, bytes, model, { device: opts.device, threads, sessions: opts.sessions, onFallback }),
    ),
    inputFiles,
  };
}

const duration = (s: number) =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`
      : `${s.toFixed(0)}s`;

/** Failed clips shown as their own warnings; the rest are counted. */
const FAILURES_SHOWN = 10;

/**
 * Runs the clips not yet in `output` and appends their results; returns every clip's latest result. Shared by
 * infer and eval.
 */
export async function scoreClips(
  clips: readonly ClipEntry[],
  plan: ClipPlan,
  runner: ModelRunner,
  output: string | undefined,
  batch: number,
): Promise<Map<string, ClipResult>> {
  const earlier = output ? await reporting(() => latestResults(readResults(output))) : new Map<string, ClipResult>();
  // clips scored before are skipped; failed ones are tried again
  const todo = clips.filter((c) => {
    const before = earlier.get(resultKey({ clip: c.id, fold: c.fold }));
    return before === undefined || before.error !== undefined;
  });
  const skipped = clips.length - todo.length;
  for (const note of plan.notes) process.stderr.write(`note: ${note}\n`);
  if (skipped)
    process.stderr.write(`${skipped} clip${skipped === 1 ? " is" : "s are"} already in ${output}: skipped\n`);
  const progress: Progress = progressBar("scoring clips");
  const started = performance.now();
  let done = 0;
  const results = new Map(earlier);
  try {
    await inferClips(todo, plan, runner, {
      batch,
      onResults: (batchResults) => {
        if (output) appendResults(output, batchResults);
        for (const r of batchResults) results.set(resultKey(r), r);
        done += batchResults.length;
        const seconds = (performance.now() - started) / 1000;
        const rate = done / seconds;
        progress.update(
          done,
          todo.length,
          `${done}/${todo.length} clips, ${rate.toFixed(1)} clips/s, ETA ${duration((todo.length - done) / rate)}`,
        );
      },
    });
  } finally {
    progress.done();
  }
  const seconds = (performance.now() - started) / 1000;
  const failures = todo.map((c) => results.get(resultKey({ clip: c.id, fold: c.fold }))!).filter((r) => r.error);
  // the summary is the command's result, on stdout: diagnostics alone go to stderr
  if (todo.length)
    process.stdout.write(
      `scored ${todo.length - failures.length} of ${todo.length} clips in ${seconds.toFixed(1)} s ` +
        `(${(todo.length / seconds).toFixed(2)} clips/s)\n`,
    );
  if (failures.length) {
    const codes = allCodes();
    const shown = failures
      .slice(0, FAILURES_SHOWN)
      .map((f) =>
        makeDiagnostic(
          codes.find((c) => c.code === f.error!.code) ?? DatasetCodes.ClipUnreadable,
          `${f.clip}: ${f.error!.message}`,
        ),
      );
    const more = failures.length > FAILURES_SHOWN ? `; the first ${FAILURES_SHOWN} are shown above` : "";
    report(
      [
        ...shown,
        makeDiagnostic(
          DatasetCodes.ClipsFailed,
          `${failures.length} clip${failures.length === 1 ? "" : "s"} ` +
            `failed${output ? `, each recorded in ${output}` : ""}${more}`,
        ),
      ],
      new SourceMap(),
    );
  }
  return results;
}

export async function inferCommand(model: string, clipArgs: string[], opts: InferOptions): Promise<void> {
  const { runner, inputFiles } = await openModel(model, opts);
  try {
    const plan = await reporting(() => planClips(runner, model));
    const clips = await reporting(() => listClips(clipArgs, { root: opts.root, inputNames: plan.videoInputs }));
    await reporting(() => checkFileOutput(opts.output, [...inputFiles, ...clipArgs], "the results"));
    if (clips.length === 0)
      report([makeDiagnostic(CliCodes.FileNotFound, `no clips in ${clipArgs.join(", ")}`)], new SourceMap());
    await scoreClips(clips, plan, runner, opts.output, opts.batch);
  } finally {
    await runner.close();
  }
}
