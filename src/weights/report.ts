// The weight report as text (printed whether or not the import succeeds) and as diagnostics.
import { makeDiagnostic, type CodeInfo } from "../diagnostics/codes.js";
import type { Diagnostic, Fix, RelatedInfo, Severity, Span } from "../diagnostics/diagnostics.js";
import { summarisePaths } from "../util/paths.js";
import { WeightCodes } from "../diagnostics/weight-codes.js";
import {
  type DTypeConversion,
  type MissingWeight,
  ruleInBlock,
  type SuggestedRule,
  type WeightReport,
} from "./mapping.js";

export interface Strictness {
  /** Declared weights absent from the checkpoint become warnings instead of errors. */
  allowMissing?: boolean;
  /** Checkpoint tensors no weight takes become warnings instead of errors. */
  allowUnexpected?: boolean;
}

/** How much of the weight report to print: counts and the first lines of each list, everything, or nothing. */
export type Verbosity = "summary" | "verbose" | "quiet";

/** Lines of each list the summary shows. */
const SUMMARY_LINES = 5;

const shapeText = (shape: readonly number[]) => `[${shape.join(", ")}]`;
const spanText = (span?: Span) => (span ? `  (${span.file}:${span.line}:${span.col})` : "");
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Where a diagnostic about a weight points: the user's `layer` line, with the standard library's as a note. */
function weightSite(w: { span?: Span; layerSpan?: Span }): { span?: Span; related: RelatedInfo[] } {
  if (!w.layerSpan) return { span: w.span, related: [] };
  return {
    span: w.layerSpan,
    related: w.span ? [{ message: "the weight is declared here, in the standard library", span: w.span }] : [],
  };
}

/** The weights that are neither standard-library buffers (reported in one line) nor used: reported once, grouped. */
const unusedMissing = (report: WeightReport) => report.missing.filter((m) => m.unused && !m.stdlibBuffer);
const usedMissing = (report: WeightReport) => report.missing.filter((m) => !m.unused);
const loadedUnused = (report: WeightReport) => report.applied.filter((a) => a.unused && !a.stdlibBuffer);

/**
 * The report as text: the counts, then each list that no diagnostic gives key by key (errors are printed in full
 * as diagnostics, so they are only counted here), its first lines or, verbose, all of them. Each key once.
 */
export function renderReport(
  report: WeightReport,
  options: { verbosity?: Verbosity; strictness?: Strictness } = {},
): string {
  const verbosity = options.verbosity ?? "summary";
  if (verbosity === "quiet") return "";
  const strictness = options.strictness ?? {};
  const reshaped = report.applied.filter((a) => a.path !== a.key || a.steps.length > 0);
  const lines = [
    `weights from ${report.sources.join(", ")}: ${report.applied.length} applied, ${report.missing.length} missing, ` +
      `${report.unexpected.length} unexpected, ` +
      `${report.dropped.length > 0 ? `${report.dropped.length} dropped by rules, ` : ""}` +
      `${report.shapeMismatch.length} shape mismatches, ` +
      `${report.dtypeMismatch.length} dtype mismatches, ${report.dtypeConverted.length} dtype conversions`,
  ];
  const buffers = [...report.applied, ...report.missing].filter((w) => w.stdlibBuffer);
  if (buffers.length > 0) {
    const names = [...new Set(buffers.map((b) => b.path.slice(b.path.lastIndexOf(".") + 1)))].join(", ");
    const missing = report.missing.filter((m) => m.stdlibBuffer).length;
    lines.push(
      `  ${plural(buffers.length, "standard-library buffer")} the forward never reads (${names}): ` +
        `${buffers.length - missing} loaded, ${missing} not in the checkpoint`,
    );
  }
  const section = (title: string, rows: string[]) => {
    if (rows.length === 0) return;
    const shown = verbosity === "verbose" ? rows : rows.slice(0, SUMMARY_LINES);
    lines.push(`  ${title} (${rows.length}):`, ...shown.map((r) => `    ${r}`));
    if (shown.length < rows.length) lines.push(`    ... and ${rows.length - shown.length} more (--verbose lists them)`);
  };
  if (strictness.allowMissing)
    section(
      "missing, drawn at random",
      usedMissing(report).map((m) => `${m.path}  ${m.dtype} ${shapeText(m.shape)}`),
    );
  section(
    "missing, never read by the forward",
    unusedMissing(report).map((m) => `${m.path}  ${m.dtype} ${shapeText(m.shape)}`),
  );
  if (strictness.allowUnexpected)
    section(
      "unexpected, ignored",
      report.unexpected.map(
        (u) => `${u.key}${u.name !== u.key ? ` (as ${u.name})` : ""}  ${u.dtype} ${shapeText(u.shape)}`,
      ),
    );
  section(
    "dropped by rules",
    report.dropped.map(
      (d) => `${d.key}${d.name !== d.key ? ` (as ${d.name})` : ""}  ${d.dtype} ${shapeText(d.shape)}  by ${d.rule}`,
    ),
  );
  section(
    "dtype converted",
    report.dtypeConverted.map(
      (c) => `${c.path}: ${c.from} -> ${c.to}${c.lossy ? " (lossy)" : ""}${c.explicit ? " (cast)" : ""}`,
    ),
  );
  section(
    "renamed or transformed",
    reshaped.map((a) => `${a.path} <- ${a.key}${a.steps.length > 0 ? `  [${a.steps.join(", ")}]` : ""}`),
  );
  section(
    "loaded but never used by the forward",
    loadedUnused(report).map((a) => `${a.path}${spanText(a.layerSpan ?? a.span)}`),
  );
  return lines.join("\n");
}

/** Makes the edit that writes a suggested `weights { }` rule into the model's source (see model-fixes.ts). */
export type RuleFixer = (rule: SuggestedRule) => Fix | undefined;

/**
 * Diagnostics for the report. Missing and unexpected tensors are errors, one per key, unless relaxed (then one
 * warning for all, the keys being in the report); shape and dtype mismatches are always errors. Conversions, drops
 * and unused weights are summarised in notes; standard-library buffers the forward never reads are not mentioned.
 * A missing weight and the unexpected tensor a rule would map onto it share the rule's hint (and fix, given
 * `ruleFix`), and the weight's line.
 */
export function reportDiagnostics(
  report: WeightReport,
  strictness: Strictness = {},
  ruleFix?: RuleFixer,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const add = (
    info: CodeInfo,
    severity: Severity,
    message: string,
    span?: Span,
    extra: { hint?: string; related?: RelatedInfo[]; fixes?: Fix[] } = {},
  ) => out.push({ ...makeDiagnostic(info, message, span, extra), severity });
  const fixesOf = (rule: SuggestedRule | undefined) => {
    const fix = rule && ruleFix?.(rule);
    return fix ? { fixes: [fix] } : {};
  };
  const from = report.sources.join(" or ");

  for (const r of report.unmatchedRules) {
    add(
      WeightCodes.UnmatchedRule,
      "warning",
      `the rule ${r.rule} matches no key of ${r.sources.join(" or ")}`,
      r.span,
      r.closest ? { hint: `did you mean '${r.closest}'?` } : {},
    );
  }
  const missing = usedMissing(report);
  if (strictness.allowMissing && missing.length > 0) {
    const hinted = missing.find((m) => m.suggestion);
    add(
      WeightCodes.MissingWeight,
      "warning",
      `${plural(missing.length, "weight")} not in ${from}, drawn at random: ` +
        `${summarisePaths(missing.map((m) => m.path))}`,
      missing.length === 1 ? weightSite(missing[0]).span : undefined,
      { hint: hinted ? `for '${hinted.path}', ${hinted.suggestion}` : "the weight report lists them (--verbose: all)" },
    );
  } else {
    for (const m of missing) {
      const { span, related } = weightSite(m);
      add(
        WeightCodes.MissingWeight,
        "error",
        `weight '${m.path}' (${m.dtype} ${shapeText(m.shape)}) is not in ${from}`,
        span,
        { related, ...(m.suggestion ? { hint: m.suggestion } : {}), ...fixesOf(m.rule) },
      );
    }
  }
  const neverRead = unusedMissing(report);
  if (neverRead.length > 0) {
    add(
      WeightCodes.MissingWeight,
      "note",
      `${plural(neverRead.length, "weight")} the forward never reads ${neverRead.length === 1 ? "is" : "are"} ` +
        `not in ${from}: ${summarisePaths(neverRead.map((m) => m.path))}`,
      neverRead.length === 1 ? weightSite(neverRead[0]).span : undefined,
    );
  }
  if (strictness.allowUnexpected && report.unexpected.length > 0) {
    add(
      WeightCodes.UnexpectedTensor,
      "warning",
      `${plural(report.unexpected.length, "checkpoint tensor")} of ${from} ` +
        `${report.unexpected.length === 1 ? "matches" : "match"} no declared weight, ignored: ` +
        `${summarisePaths(report.unexpected.map((u) => u.name))}`,
      undefined,
      { hint: "the weight report lists them (--verbose: all)" },
    );
  } else {
    const pairs = new Map<string, MissingWeight>();
    for (const m of missing) if (m.rule) pairs.set(`${m.rule.source}\0${m.rule.key}`, m);
    for (const u of report.unexpected) {
      const as = u.name !== u.key ? ` (mapped to '${u.name}')` : "";
      const pair = pairs.get(`${u.source}\0${u.key}`);
      const rule = pair?.rule;
      add(
        WeightCodes.UnexpectedTensor,
        "error",
        `checkpoint tensor '${u.key}'${as} (${u.dtype} ${shapeText(u.shape)}) in ${u.source} matches no ` +
          `declared weight`,
        pair && weightSite(pair).span,
        pair && rule
          ? {
              hint: `the model's '${pair.path}' is missing: rename? ${ruleInBlock(rule)}`,
              ...fixesOf(rule),
            }
          : {},
      );
    }
  }
  for (const s of report.shapeMismatch) {
    const { span, related } = weightSite(s);
    const hint = shapeHint(s.expected, s.actual);
    add(
      WeightCodes.ShapeMismatch,
      "error",
      `weight '${s.path}' is declared ${shapeText(s.expected)} but checkpoint tensor '${s.key}' in ${s.source} ` +
        `has shape ${shapeText(s.actual)}`,
      span,
      { related, ...(hint ? { hint } : {}) },
    );
  }
  for (const d of report.dtypeMismatch) {
    const { span, related } = weightSite(d);
    add(
      WeightCodes.DTypeMismatch,
      "error",
      `weight '${d.path}' is declared ${d.expected} but checkpoint tensor '${d.key}' in ${d.source} is ${d.actual}`,
      span,
      { related },
    );
  }
  for (const group of groupConversions(report.dtypeConverted)) {
    const [first] = group;
    const names =
      group
        .slice(0, 3)
        .map((c) => `'${c.path}'`)
        .join(", ") + (group.length > 3 ? ", ..." : "");
    add(
      WeightCodes.DTypeConverted,
      first.lossy ? "warning" : "note",
      `${group.length} tensor${group.length === 1 ? "" : "s"} converted from ${first.from} to ` +
        `${first.to}${first.lossy ? " (values may change)" : ""}: ${names}`,
      group.length === 1 ? weightSite(first).span : undefined,
    );
  }
  for (const group of groupBy(report.dropped, (d) => d.rule)) {
    const [first] = group;
    const keys =
      group
        .slice(0, 3)
        .map((d) => `'${d.key}'`)
        .join(", ") + (group.length > 3 ? ", ..." : "");
    add(
      WeightCodes.DroppedByRule,
      "note",
      `${group.length} checkpoint tensor${group.length === 1 ? "" : "s"} of ${first.source} dropped by ` +
        `${first.rule}: ${keys}`,
      first.span,
    );
  }
  const unused = loadedUnused(report);
  if (unused.length > 0) {
    add(
      WeightCodes.UnusedWeightLoaded,
      "note",
      `${plural(unused.length, "weight")} loaded but never used by the forward: ` +
        `${summarisePaths(unused.map((a) => a.path))}`,
      unused.length === 1 ? weightSite(unused[0]).span : undefined,
    );
  }
  return out;
}

function groupConversions(conversions: readonly DTypeConversion[]): DTypeConversion[][] {
  return groupBy(conversions, (c) => `${c.from}->${c.to}`);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}

function shapeHint(expected: readonly number[], actual: readonly number[]): string | undefined {
  if (expected.length === 2 && actual.length === 2 && expected[0] === actual[1] && expected[1] === actual[0]) {
    return "the checkpoint tensor looks transposed: add a transpose transform";
  }
  const count = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  if (count(expected) === count(actual)) return "same number of elements: add a reshape transform";
  return undefined;
}
