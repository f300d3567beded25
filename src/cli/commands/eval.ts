// `netc eval <model> --clips <manifest with labels>...`: scores the clips (as netc infer does, resumable with
// -o), then WAR, UAR, per-class recall and the confusion matrix; one row per manifest (fold) and their mean.
import { makeDiagnostic } from "../../diagnostics/codes.js";
import { SourceMap } from "../../diagnostics/diagnostics.js";
import { type ClipEntry, listClips } from "../../dataset/clips.js";
import { DatasetCodes } from "../../diagnostics/dataset-codes.js";
import { planClips } from "../../dataset/infer.js";
import { classificationMetrics, confusionSvg, type Metrics, metricsText } from "../../dataset/metrics.js";
import { type ClipResult, resultKey } from "../../dataset/results.js";
import { writeAll } from "../../util/atomic.js";
import { checkFileOutput, writeFileOutput } from "../../util/output.js";
import { report, usage } from "../io.js";
import { type ModelOptions, openModel, reporting, scoreClips } from "./infer.js";

export interface EvalOptions extends ModelOptions {
  clips: string[];
  output?: string;
  batch: number;
  root?: string;
  svg?: string;
  json?: string;
  labelBase: number;
}

/** A label as the class index: one of the model's label names (any case), or a number counted from `base`. */
export function classIndex(label: string, labels: readonly string[], base: number): number | undefined {
  const byName = labels.findIndex((l) => l.toLowerCase() === label.toLowerCase());
  if (byName >= 0) return byName;
  if (!/^\d+$/.test(label)) return undefined;
  const index = Number(label) - base;
  return index >= 0 && index < labels.length ? index : undefined;
}

interface Scored {
  fold: string;
  truth: number;
  predicted: number;
}

function scoredClips(
  clips: readonly ClipEntry[],
  results: ReadonlyMap<string, ClipResult>,
  labels: readonly string[],
  base: number,
): Scored[] {
  const unlabelled = clips.filter((c) => c.label === undefined);
  if (unlabelled.length)
    report(
      [
        makeDiagnostic(
          DatasetCodes.NoLabels,
          `${unlabelled.length} of ${clips.length} clip${clips.length === 1 ? "" : "s"} ` +
            `${unlabelled.length === 1 ? "has" : "have"} no label (the first: ${unlabelled[0].id})`,
        ),
      ],
      new SourceMap(),
    );
  const unknown = clips.filter((c) => classIndex(c.label!, labels, base) === undefined);
  if (unknown.length) {
    const examples = [...new Set(unknown.map((c) => c.label))].slice(0, 5).join(", ");
    report(
      [
        makeDiagnostic(
          DatasetCodes.UnknownLabel,
          `${unknown.length === 1 ? "1 clip has a label" : `${unknown.length} clips have labels`} that ` +
            `${unknown.length === 1 ? "is" : "are"} not the model's classes: ${examples}`,
          undefined,
          {
            hint:
              `classes: ${labels.map((l, i) => `${i + base}=${l}`).join(", ")}` +
              `${base === 0 ? "; DFEW's CSVs count from 1: --label-base 1" : ""}`,
          },
        ),
      ],
      new SourceMap(),
    );
  }
  return clips.flatMap((c) => {
    const r = results.get(resultKey({ clip: c.id, fold: c.fold }));
    return r && r.error === undefined
      ? [{ fold: c.fold ?? "clips", truth: classIndex(c.label!, labels, base)!, predicted: r.prediction! }]
      : [];
  });
}

export async function evalCommand(model: string, opts: EvalOptions): Promise<void> {
  if (opts.clips.length === 0) usage("eval needs --clips <manifest with labels> (repeat it for each fold)");
  const { runner, inputFiles } = await openModel(model, opts);
  let scored: Scored[];
  let labels: string[];
  try {
    const plan = await reporting(() => planClips(runner, model));
    labels = plan.labels;
    const clips = await reporting(() => listClips(opts.clips, { root: opts.root, inputNames: plan.videoInputs }));
    // outputs and labels are checked before any clip runs: a wrong path or --label-base should not cost a fold
    for (const [target, what] of [
      [opts.output, "the results"],
      [opts.svg, "the confusion matrix picture"],
      [opts.json, "the metrics"],
    ] as const)
      if (target !== undefined) await reporting(() => checkFileOutput(target, [...inputFiles, ...opts.clips], what));
    scoredClips(clips, new Map(), labels, opts.labelBase);
    const results = await scoreClips(clips, plan, runner, opts.output, opts.batch);
    scored = scoredClips(clips, results, labels, opts.labelBase);
  } finally {
    await runner.close();
  }
  if (scored.length === 0)
    report(
      [makeDiagnostic(DatasetCodes.NoPredictions, "no clip could be scored; the warnings above say why")],
      new SourceMap(),
    );
  const foldNames = [...new Set(scored.map((s) => s.fold))];
  const metricsOf = (rows: Scored[]): Metrics =>
    classificationMetrics(
      rows.map((r) => r.truth),
      rows.map((r) => r.predicted),
      labels.length,
    );
  const folds = foldNames.map((name) => ({ name, metrics: metricsOf(scored.filter((s) => s.fold === name)) }));
  const overall = metricsOf(scored);
  process.stdout.write(metricsText(folds, overall, labels));
  const inputs = [...inputFiles, ...opts.clips];
  const write = (target: string, text: string, what: string) =>
    reporting(() => writeFileOutput(target, inputs, what, (fd) => writeAll(fd, new TextEncoder().encode(text))));
  if (opts.svg)
    await write(
      opts.svg,
      confusionSvg(overall, labels, `${model}: ${foldNames.length > 1 ? `${foldNames.length} folds` : foldNames[0]}`),
      "the confusion matrix picture",
    );
  if (opts.json) {
    const mean = (pick: (m: Metrics) => number) => folds.reduce((s, f) => s + pick(f.metrics), 0) / folds.length;
    const json = { labels, folds, mean: { war: mean((m) => m.war), uar: mean((m) => m.uar) }, all: overall };
    await write(opts.json, `${JSON.stringify(json, null, 1)}\n`, "the metrics");
  }
}
