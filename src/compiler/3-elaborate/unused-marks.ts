// The `unused` modifier (`unused layer time_project = Linear(8, 8)`, `unused param class_pos: f32[768]`): weights
// declared because a checkpoint holds them, which the forward is meant never to read. They are no NET2015/NET2017
// warning; a mark the forward contradicts (it reads a marked weight, NET2060) or that covers no weight (NET2061) is.
import { CheckCodes, makeDiagnostic } from "../../diagnostics/codes.js";
import type { Diagnostic, Span } from "../../diagnostics/diagnostics.js";
import { summarisePaths } from "../../util/paths.js";
import type { ParamInfo } from "../ir/ir.js";
import type { Elaborator } from "./elaborate.js";

export interface UnusedMark {
  span: Span;
  /** What it marks: `layer 'a.b'` or `param 'a.w'`. */
  marked: string;
}

/** The marked layers of the elaboration, by path (a marked param always declares its own weight). */
export function markedLayers(el: Elaborator): Map<string, UnusedMark> {
  const marked = new Map<string, UnusedMark>();
  for (const l of el.layerRegistry.values())
    if (l.unused) marked.set(l.path, { span: l.unused, marked: `layer '${l.path}'` });
  return marked;
}

/**
 * NET2060 for each mark whose weights the forward reads (once per statement: a block used twice gives one warning
 * listing both instances' weights), NET2061 for each marked layer that declares no weight. `params` carry `unused`
 * as dead-code elimination left it.
 */
export function checkUnusedMarks(params: readonly ParamInfo[], layers: ReadonlyMap<string, UnusedMark>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const read = new Map<string, { mark: UnusedMark; paths: string[] }>();
  for (const p of params) {
    if (!p.unusedMark || p.unused) continue;
    const key = `${p.unusedMark.span.file}:${p.unusedMark.span.start}`;
    const entry = read.get(key) ?? { mark: p.unusedMark, paths: [] };
    entry.paths.push(p.path);
    read.set(key, entry);
  }
  const bySource = (a: { mark: UnusedMark }, b: { mark: UnusedMark }) =>
    a.mark.span.file.localeCompare(b.mark.span.file) || a.mark.span.start - b.mark.span.start;
  for (const { mark, paths } of [...read.values()].sort(bySource)) {
    const weights = paths.length === 1 ? `weight '${paths[0]}'` : `${paths.length} weights: ${summarisePaths(paths)}`;
    out.push(
      makeDiagnostic(
        CheckCodes.UnusedMarkRead,
        `${mark.marked} is marked \`unused\`, but the forward computation reads its ${weights}`,
        mark.span,
      ),
    );
  }
  const empty = new Map<string, UnusedMark>();
  for (const [path, mark] of layers) {
    if (params.some((p) => p.path.startsWith(`${path}.`))) continue;
    empty.set(`${mark.span.file}:${mark.span.start}`, mark); // once per statement
  }
  for (const mark of empty.values())
    out.push(
      makeDiagnostic(
        CheckCodes.UnusedMarkEmpty,
        `${mark.marked} is marked \`unused\` but declares no weights`,
        mark.span,
      ),
    );
  return out;
}
