// The weight report as text (printed whether or not the import succeeds) and as diagnostics.
import { makeDiagnostic, type CodeInfo } from "../compiler/codes.js";
import type { Diagnostic, Severity, Span } from "../compiler/diagnostics.js";
import { WeightCodes } from "./codes.js";
import type { DTypeConversion, WeightReport } from "./mapping.js";

export interface Strictness {
  /** Declared weights absent from the checkpoint become warnings instead of errors. */
  allowMissing?: boolean;
  /** Checkpoint tensors no weight takes become warnings instead of errors. */
  allowUnexpected?: boolean;
}

const shapeText = (shape: readonly number[]) => `[${shape.join(", ")}]`;
const spanText = (span?: Span) => (span ? `  (${span.file}:${span.line}:${span.col})` : "");

/** A readable summary: counts, then every entry that is not a plain one-to-one load. */
export function renderReport(report: WeightReport): string {
  const loadedUnused = report.applied.filter((a) => a.unused);
  const reshaped = report.applied.filter((a) => a.path !== a.key || a.steps.length > 0);
  const lines = [
    `weights from ${report.sources.join(", ")}: ${report.applied.length} applied, ${report.missing.length} missing, ` +
      `${report.unexpected.length} unexpected, ${report.dropped.length > 0 ? `${report.dropped.length} dropped by rules, ` : ""}` +
      `${report.shapeMismatch.length} shape mismatches, ` +
      `${report.dtypeMismatch.length} dtype mismatches, ${report.dtypeConverted.length} dtype conversions`,
  ];
  const section = (title: string, rows: string[]) => {
    if (rows.length > 0) lines.push(`  ${title} (${rows.length}):`, ...rows.map((r) => `    ${r}`));
  };
  section(
    "missing",
    report.missing.map((m) => `${m.path}  ${m.dtype} ${shapeText(m.shape)}${m.unused ? "  (unused by the forward)" : ""}${spanText(m.span)}`),
  );
  section(
    "unexpected",
    report.unexpected.map((u) => `${u.key}${u.name !== u.key ? ` (as ${u.name})` : ""}  ${u.dtype} ${shapeText(u.shape)}`),
  );
  section(
    "dropped by rules",
    report.dropped.map((d) => `${d.key}${d.name !== d.key ? ` (as ${d.name})` : ""}  ${d.dtype} ${shapeText(d.shape)}  by ${d.rule}`),
  );
  section(
    "shape mismatch",
    report.shapeMismatch.map((s) => `${s.path}: declared ${shapeText(s.expected)}, checkpoint '${s.key}' ${shapeText(s.actual)}${spanText(s.span)}`),
  );
  section(
    "dtype mismatch",
    report.dtypeMismatch.map((d) => `${d.path}: declared ${d.expected}, checkpoint '${d.key}' ${d.actual}${spanText(d.span)}`),
  );
  section(
    "dtype converted",
    report.dtypeConverted.map((c) => `${c.path}: ${c.from} -> ${c.to}${c.lossy ? " (lossy)" : ""}${c.explicit ? " (cast)" : ""}`),
  );
  section("renamed or transformed", reshaped.map((a) => `${a.path} <- ${a.key}${a.steps.length > 0 ? `  [${a.steps.join(", ")}]` : ""}`));
  section("loaded but never used by the forward", loadedUnused.map((a) => a.path));
  return lines.join("\n");
}

/**
 * Diagnostics for the report. Missing and unexpected tensors are errors unless relaxed (then warnings); shape
 * and dtype mismatches are always errors. Conversions and unused loads are summarised in notes (lossy ones warn).
 */
export function reportDiagnostics(report: WeightReport, strictness: Strictness = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const add = (info: CodeInfo, severity: Severity, message: string, span?: Span, hint?: string) =>
    out.push({ ...makeDiagnostic(info, message, span, hint === undefined ? {} : { hint }), severity });
  const from = report.sources.join(" or ");

  for (const m of report.missing) {
    const severity = m.unused ? "note" : strictness.allowMissing ? "warning" : "error";
    const unused = m.unused ? " (the forward never uses it)" : "";
    add(WeightCodes.MissingWeight, severity, `weight '${m.path}' (${m.dtype} ${shapeText(m.shape)}) is not in ${from}${unused}`, m.span, m.suggestion);
  }
  for (const u of report.unexpected) {
    const as = u.name !== u.key ? ` (mapped to '${u.name}')` : "";
    add(
      WeightCodes.UnexpectedTensor,
      strictness.allowUnexpected ? "warning" : "error",
      `checkpoint tensor '${u.key}'${as} (${u.dtype} ${shapeText(u.shape)}) in ${u.source} matches no declared weight`,
    );
  }
  for (const s of report.shapeMismatch) {
    add(
      WeightCodes.ShapeMismatch,
      "error",
      `weight '${s.path}' is declared ${shapeText(s.expected)} but checkpoint tensor '${s.key}' in ${s.source} has shape ${shapeText(s.actual)}`,
      s.span,
      shapeHint(s.expected, s.actual),
    );
  }
  for (const d of report.dtypeMismatch) {
    add(
      WeightCodes.DTypeMismatch,
      "error",
      `weight '${d.path}' is declared ${d.expected} but checkpoint tensor '${d.key}' in ${d.source} is ${d.actual}`,
      d.span,
    );
  }
  for (const group of groupConversions(report.dtypeConverted)) {
    const [first] = group;
    const names = group.slice(0, 3).map((c) => `'${c.path}'`).join(", ") + (group.length > 3 ? ", ..." : "");
    add(
      WeightCodes.DTypeConverted,
      first.lossy ? "warning" : "note",
      `${group.length} tensor${group.length === 1 ? "" : "s"} converted from ${first.from} to ${first.to}${first.lossy ? " (values may change)" : ""}: ${names}`,
      group.length === 1 ? first.span : undefined,
    );
  }
  for (const group of groupBy(report.dropped, (d) => d.rule)) {
    const [first] = group;
    const keys = group.slice(0, 3).map((d) => `'${d.key}'`).join(", ") + (group.length > 3 ? ", ..." : "");
    add(WeightCodes.DroppedByRule, "note", `${group.length} checkpoint tensor${group.length === 1 ? "" : "s"} of ${first.source} dropped by ${first.rule}: ${keys}`, first.span);
  }
  const loadedUnused = report.applied.filter((a) => a.unused);
  if (loadedUnused.length > 0) {
    add(
      WeightCodes.UnusedWeightLoaded,
      "note",
      `${loadedUnused.length} weight${loadedUnused.length === 1 ? "" : "s"} loaded but never used by the forward: ${loadedUnused.map((a) => `'${a.path}'`).join(", ")}`,
      loadedUnused.length === 1 ? loadedUnused[0].span : undefined,
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
