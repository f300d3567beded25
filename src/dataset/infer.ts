// Runs a model over many clips: each clip prepared as the model's preprocessing says (one tensor per test-time
// view), views batched into runs, outputs merged per clip, one result per clip. A clip that fails is recorded with
// its error and the run goes on.
import { makeDiagnostic } from "../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError } from "../diagnostics/diagnostics.js";
import { DEFAULT_PREPROCESS, type PreprocessSpec, videoDims } from "../dsl/preprocess-spec.js";
import type { HostTensor } from "../util/tensor.js";
import { ANY_INPUT, type ClipEntry } from "./clips.js";
import { DatasetCodes } from "../diagnostics/dataset-codes.js";
import { ClipError, openClip } from "./frames.js";
import { prepareClip, type ResolvedPreprocess } from "./prepare.js";
import type { ClipResult } from "./results.js";
import type { ModelRunner, TensorSignature } from "./runner.js";

/** How a model takes clips: its video inputs, the output with the scores, and the batch size it fixes (if any). */
export interface ClipPlan {
  spec: ResolvedPreprocess;
  videoInputs: string[];
  output: string;
  classes: number;
  labels: string[];
  /** A batch dimension fixed by the model (a WGSL bundle's B); undefined where it is symbolic. */
  fixedBatch?: number;
  /** Said once before the run (the defaults used when the model declares no preprocessing). */
  notes: string[];
}

const mismatch = (message: string, hint?: string): never => {
  throw new DiagnosticError([
    makeDiagnostic(DatasetCodes.PreprocessMismatch, message, undefined, hint ? { hint } : {}),
  ]);
};

/** Checks the model's preprocessing against its signature and fills in what the input fixes. */
export function planClips(runner: Pick<ModelRunner, "inputs" | "outputs" | "preprocess">, modelName: string): ClipPlan {
  const declared = runner.preprocess;
  const spec: PreprocessSpec = declared ?? DEFAULT_PREPROCESS;
  const notes = declared
    ? []
    : [
        `${modelName} declares no preprocessing: each frame is resized to the input's size (bilinear) and ` +
          `scaled to [0, 1], ${spec.sampling} sampling, no views`,
      ];
  const isVideo = (s: TensorSignature) => {
    const dims = videoDims(spec.layout, s.shape);
    return (
      dims !== undefined &&
      dims.channels === 3 &&
      [dims.frames, dims.height, dims.width].every((d) => typeof d === "number")
    );
  };
  let videoInputs: TensorSignature[];
  if (spec.input !== undefined) {
    const named = runner.inputs.find((i) => i.name === spec.input);
    if (!named)
      return mismatch(
        `preprocess names the input '${spec.input}', which ${modelName} does not have`,
        `inputs: ${runner.inputs.map((i) => i.name).join(", ")}`,
      );
    videoInputs = [named];
  } else videoInputs = runner.inputs.filter(isVideo);
  const shapeText = (s: TensorSignature) => `${s.name}: ${s.dtype}[${s.shape.join(", ")}]`;
  if (videoInputs.length === 0 || !videoInputs.every(isVideo) || videoInputs.some((v) => v.dtype !== "f32"))
    throw new DiagnosticError([
      makeDiagnostic(
        DatasetCodes.NotVideoModel,
        `${modelName} has no float video input ` +
          `${spec.layout === "BCTHW" ? "[B, 3, T, H, W]" : "[B, T, 3, H, W]"} of fixed T, H and W (layout ` +
          `${spec.layout}): ${runner.inputs.map(shapeText).join(", ")}`,
      ),
    ]);
  const others = runner.inputs.filter((i) => !videoInputs.includes(i));
  if (others.length) mismatch(`${modelName} also takes ${others.map(shapeText).join(", ")}, which clips cannot feed`);
  const shapes = new Set(videoInputs.map((v) => v.shape.slice(1).join(",")));
  if (shapes.size > 1)
    mismatch(
      `the video inputs of ${modelName} differ in shape (${videoInputs.map(shapeText).join(", ")}); one ` +
        `preprocessing cannot feed them all`,
    );
  const dims = videoDims(spec.layout, videoInputs[0].shape)!;
  const [frames, height, width] = [dims.frames, dims.height, dims.width] as number[];
  if (spec.frames !== undefined && spec.frames !== frames)
    mismatch(`preprocess takes ${spec.frames} frames per view, the input ${videoInputs[0].name} has ${frames}`);
  if (frames % (spec.segment_length ?? 1) !== 0)
    mismatch(
      `preprocess takes segments of ${spec.segment_length} frames, and the input ${videoInputs[0].name}'s ` +
        `${frames} frames do not split into them`,
    );
  const final = spec.crop ?? (Array.isArray(spec.resize) ? spec.resize : undefined);
  if (final && (final[0] !== height || final[1] !== width))
    mismatch(
      `preprocess makes ${final[0]}x${final[1]} frames (${spec.crop ? "crop" : "resize"} [H, W]), the input ` +
        `${videoInputs[0].name} takes ${height}x${width}`,
    );
  if (typeof spec.resize === "number" && spec.resize < Math.max(height, width))
    mismatch(`preprocess resizes the shorter side to ${spec.resize}, less than the input's ${height}x${width}`);
  const output = runner.outputs.find((o) => o.name === (spec.output ?? runner.outputs[0]?.name));
  if (!output)
    return mismatch(
      `preprocess names the output '${spec.output}', which ${modelName} does not have`,
      `outputs: ${runner.outputs.map((o) => o.name).join(", ")}`,
    );
  const classes =
    output.shape.length === 2 && typeof output.shape[1] === "number"
      ? output.shape[1]
      : mismatch(`the output ${shapeText(output)} is not class scores [B, classes]`);
  if (spec.labels && spec.labels.length !== classes)
    mismatch(`preprocess names ${spec.labels.length} labels, the output ${output.name} has ${classes} classes`);
  const batch = videoInputs[0].shape[0];
  return {
    spec: { ...spec, frames, height, width },
    videoInputs: videoInputs.map((v) => v.name),
    output: output.name,
    classes,
    labels: spec.labels ?? Array.from({ length: classes }, (_, i) => String(i)),
    fixedBatch: typeof batch === "number" ? batch : undefined,
    notes,
  };
}

function softmax(row: Float32Array | number[]): number[] {
  const max = Math.max(...row);
  const e = Array.from(row, (x) => Math.exp(x - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

/** The clip's scores from its views' output rows. */
export function mergeViews(rows: readonly Float32Array[], merge: PreprocessSpec["merge"]): number[] {
  const vectors = merge === "mean-softmax" ? rows.map(softmax) : rows.map((r) => Array.from(r));
  const out = new Array<number>(vectors[0].length).fill(0);
  for (const v of vectors) v.forEach((x, i) => (out[i] += x / vectors.length));
  return out;
}

const argmax = (xs: readonly number[]) => xs.reduce((best, x, i) => (x > xs[best] ? i : best), 0);

interface PreparedClip {
  entry: ClipEntry;
  /** Per video input, the clip's view tensors. */
  views: Map<string, Float32Array[]>;
}

async function prepare(entry: ClipEntry, plan: ClipPlan): Promise<PreparedClip> {
  const views = new Map<string, Float32Array[]>();
  const shared = entry.paths[ANY_INPUT];
  if (plan.videoInputs.length > 1 && shared !== undefined && Object.keys(entry.paths).length === 1)
    throw new ClipError(
      DatasetCodes.ClipUnreadable,
      `the model takes ${plan.videoInputs.join(" and ")}: give each its frames (manifest columns ` +
        `${plan.videoInputs.join(", ")})`,
    );
  for (const input of plan.videoInputs) {
    const path = entry.paths[input] ?? shared;
    if (path === undefined)
      throw new ClipError(DatasetCodes.ClipUnreadable, `the clip gives no frames for the input ${input}`);
    views.set(input, await prepareClip(await openClip(path), plan.spec));
  }
  return { entry, views };
}

const failed = (entry: ClipEntry, code: string, message: string): ClipResult => ({
  clip: entry.id,
  ...(entry.fold ? { fold: entry.fold } : {}),
  ...(entry.label !== undefined ? { label: entry.label } : {}),
  error: { code, message },
});

/** Runs one batch of prepared clips: their views stacked along the batch axis, in runs of the fixed batch if any. */
async function runBatch(clips: readonly PreparedClip[], plan: ClipPlan, runner: ModelRunner): Promise<ClipResult[]> {
  const perClip = clips.map((c) => c.views.get(plan.videoInputs[0])!.length);
  const rows = perClip.reduce((a, b) => a + b, 0);
  const rowSize = 3 * plan.spec.frames * plan.spec.height * plan.spec.width;
  const runRows = plan.fixedBatch ?? rows;
  const shapeOf = (b: number) =>
    plan.spec.layout === "BCTHW"
      ? [b, 3, plan.spec.frames, plan.spec.height, plan.spec.width]
      : [b, plan.spec.frames, 3, plan.spec.height, plan.spec.width];
  const outputs: Float32Array[] = [];
  for (let start = 0; start < rows; start += runRows) {
    const feeds = new Map<string, HostTensor>();
    for (const input of plan.videoInputs) {
      const data = new Float32Array(runRows * rowSize); // rows past the clips (a fixed batch's padding) stay zero
      const all = clips.flatMap((c) => c.views.get(input)!);
      for (let r = start; r < Math.min(start + runRows, rows); r++) data.set(all[r], (r - start) * rowSize);
      feeds.set(input, { dtype: "f32", shape: shapeOf(runRows), data });
    }
    const out = (await runner.run(feeds, [plan.output])).get(plan.output)!;
    const scores = out.data as Float32Array;
    for (let r = 0; r < Math.min(runRows, rows - start); r++)
      outputs.push(scores.slice(r * plan.classes, (r + 1) * plan.classes));
  }
  let row = 0;
  return clips.map((c, i) => {
    const views = outputs.slice(row, (row += perClip[i]));
    const scores = mergeViews(views, plan.spec.merge);
    const prediction = argmax(scores);
    const entry = c.entry;
    return {
      clip: entry.id,
      ...(entry.fold ? { fold: entry.fold } : {}),
      ...(entry.label !== undefined ? { label: entry.label } : {}),
      scores,
      prediction,
      ...(plan.spec.labels ? { predicted_label: plan.spec.labels[prediction] } : {}),
      views: views.length,
    };
  });
}

export interface InferOptions {
  /** Clips per run. */
  batch: number;
  /** Called with each batch's results as soon as it finishes. */
  onResults(results: ClipResult[]): void;
}

/** Runs every clip; batches run on as many sessions as the runner has, the next batch prepared meanwhile. */
export async function inferClips(
  clips: readonly ClipEntry[],
  plan: ClipPlan,
  runner: ModelRunner,
  opts: InferOptions,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for (let start = 0; start < clips.length; start += opts.batch) {
    const prepared: PreparedClip[] = [];
    const errors: ClipResult[] = [];
    for (const entry of clips.slice(start, start + opts.batch)) {
      try {
        prepared.push(await prepare(entry, plan));
      } catch (e) {
        if (!(e instanceof ClipError)) throw e;
        errors.push(failed(entry, e.info.code, e.message));
      }
    }
    if (errors.length) opts.onResults(errors);
    if (!prepared.length) continue;
    const run = runBatch(prepared, plan, runner).then(
      (results) => opts.onResults(results),
      (e: unknown) => {
        if (!(e instanceof DiagnosticError)) throw e;
        const d: Diagnostic = e.diagnostics[0];
        opts.onResults(prepared.map((p) => failed(p.entry, d.code, d.message)));
      },
    );
    const tracked: Promise<void> = run.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= runner.parallel) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}
