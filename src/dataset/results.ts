// The JSONL results of netc infer: one line per clip, appended as each batch finishes, so an interrupted run
// resumes where it stopped (clips already scored are skipped; failed clips are tried again).
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { makeDiagnostic } from "../diagnostics/codes.js";
import { DiagnosticError } from "../diagnostics/diagnostics.js";
import { InputFileError, MAX_BINARY_BYTES, readRegularFile } from "../util/input-file.js";
import { DatasetCodes } from "../diagnostics/dataset-codes.js";

export interface ClipResult {
  clip: string;
  fold?: string;
  label?: string;
  /** The merged scores of the output the labels name (softmax probabilities with merge = "mean-softmax"). */
  scores?: number[];
  /** Index of the highest score. */
  prediction?: number;
  /** The model's name for the prediction, when it declares labels. */
  predicted_label?: string;
  /** Test-time views merged into the scores. */
  views?: number;
  error?: { code: string; message: string };
}

export const resultKey = (r: { clip: string; fold?: string }) => `${r.fold ?? ""}\u0000${r.clip}`;

function isResult(value: unknown): value is ClipResult {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  if (typeof r.clip !== "string") return false;
  if (r.error !== undefined) return typeof r.error === "object" && r.error !== null;
  return Array.isArray(r.scores) && r.scores.every((x) => typeof x === "number") && typeof r.prediction === "number";
}

/**
 * The results already in `path` (none when it does not exist). A last line cut short by an interrupted write is
 * dropped from the file; any other line that is not a result makes the file someone else's: an error.
 */
export function readResults(path: string): ClipResult[] {
  if (!existsSync(path)) return [];
  let text: string;
  try {
    // Through the regular-file check: an -o naming a FIFO or a device would block or never end.
    text = readRegularFile(path, MAX_BINARY_BYTES).toString("utf8");
  } catch (e) {
    const message =
      e instanceof InputFileError
        ? e.message
        : `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    throw new DiagnosticError([makeDiagnostic(DatasetCodes.BadResults, message)]);
  }
  const lines = text.split("\n");
  const results: ClipResult[] = [];
  const complete = text.endsWith("\n") || text === "";
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(lines[i]);
    } catch {
      parsed = undefined;
    }
    if (isResult(parsed)) {
      results.push(parsed);
      continue;
    }
    if (i === lines.length - 1 && !complete) {
      writeFileSync(path, lines.slice(0, i).join("\n") + (i > 0 ? "\n" : ""));
      break;
    }
    throw new DiagnosticError([
      makeDiagnostic(DatasetCodes.BadResults, `${path}:${i + 1} is not a netc infer result line`),
    ]);
  }
  return results;
}

/** The last result of each clip (a retried clip's new line replaces its earlier error). */
export function latestResults(results: readonly ClipResult[]): Map<string, ClipResult> {
  return new Map(results.map((r) => [resultKey(r), r]));
}

/** Appends results as whole lines, in one write. */
export function appendResults(path: string, results: readonly ClipResult[]): void {
  if (results.length) appendFileSync(path, `${results.map((r) => JSON.stringify(r)).join("\n")}\n`);
}
