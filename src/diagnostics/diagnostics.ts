// The one Diagnostic type used from the lexer to the backends, plus its renderer.
// Every message has a stable code (see codes.ts); spans point into registered source files.

export type Severity = "error" | "warning" | "note";

/** A half-open range [start, end) of character offsets in one source file, with 1-based line/column of start. */
export interface Span {
  file: string;
  start: number;
  end: number;
  line: number;
  col: number;
}

export interface RelatedInfo {
  message: string;
  span?: Span;
}

/** Text to put in place of a span (an empty span inserts). */
export interface TextEdit {
  span: Span;
  text: string;
}

/** A change that resolves a diagnostic, when the compiler knows it (the language server offers it as a quick fix). */
export interface Fix {
  title: string;
  edits: TextEdit[];
}

export interface Diagnostic {
  code: string;
  severity: Severity;
  message: string;
  span?: Span;
  related: RelatedInfo[];
  hint?: string;
  fixes?: Fix[];
}

/** Thrown to unwind out of a phase when a diagnostic makes further work meaningless. */
export class DiagnosticError extends Error {
  constructor(public readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n"));
    this.name = "DiagnosticError";
  }
}

/** Source texts by file name, so diagnostics can be rendered with the offending line. */
export class SourceMap {
  private readonly texts = new Map<string, string>();
  private readonly lineStarts = new Map<string, number[]>();

  add(file: string, text: string): void {
    this.texts.set(file, text);
    const starts = [0];
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
    this.lineStarts.set(file, starts);
  }

  text(file: string): string | undefined {
    return this.texts.get(file);
  }

  /** Builds a span from offsets, computing the 1-based line and column. */
  span(file: string, start: number, end: number): Span {
    const starts = this.lineStarts.get(file) ?? [0];
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= start) lo = mid;
      else hi = mid - 1;
    }
    return { file, start, end: Math.max(end, start), line: lo + 1, col: start - starts[lo] + 1 };
  }

  lineText(file: string, line: number): string | undefined {
    const text = this.texts.get(file);
    const starts = this.lineStarts.get(file);
    if (text === undefined || starts === undefined || line < 1 || line > starts.length) return undefined;
    const from = starts[line - 1];
    const to = line < starts.length ? starts[line] - 1 : text.length;
    return text.slice(from, to).replace(/\r$/, "");
  }
}

export function spanUnion(a: Span, b: Span): Span {
  if (a.file !== b.file) return a;
  return a.start <= b.start ? { ...a, end: Math.max(a.end, b.end) } : { ...b, end: Math.max(a.end, b.end) };
}

export interface RenderOptions {
  color?: boolean;
}

function paint(on: boolean, code: string, s: string): string {
  return on ? `\x1b[${code}m${s}\x1b[0m` : s;
}

function location(span: Span): string {
  return `${span.file}:${span.line}:${span.col}`;
}

function excerpt(sources: SourceMap, span: Span, color: boolean, caretColor: string): string[] {
  const line = sources.lineText(span.file, span.line);
  if (line === undefined) return [];
  const gutter = String(span.line).length;
  const width = Math.max(1, Math.min(span.end - span.start, line.length - span.col + 1));
  const pad = " ".repeat(gutter);
  const underline = `${" ".repeat(span.col - 1)}^${"~".repeat(Math.max(0, width - 1))}`;
  return [`${pad} |`, `${span.line} | ${line}`, `${pad} | ${paint(color, caretColor, underline)}`];
}

/** Renders one diagnostic like modern compilers: location, message, source line, caret, notes, hint. */
export function renderDiagnostic(d: Diagnostic, sources: SourceMap, opts: RenderOptions = {}): string {
  const color = opts.color ?? false;
  const sevColor = d.severity === "error" ? "1;31" : d.severity === "warning" ? "1;33" : "1;36";
  const head =
    `${d.span ? `${location(d.span)}: ` : ""}${paint(color, sevColor, `${d.severity} ${d.code}`)}: ` + `${d.message}`;
  const out = [head];
  if (d.span) out.push(...excerpt(sources, d.span, color, sevColor));
  for (const r of d.related) {
    out.push(`${r.span ? `${location(r.span)}: ` : ""}${paint(color, "1;36", "note")}: ${r.message}`);
    if (r.span) out.push(...excerpt(sources, r.span, color, "1;36"));
  }
  if (d.hint) out.push(`  = ${paint(color, "1", "hint")}: ${d.hint}`);
  return out.join("\n");
}

export function renderDiagnostics(ds: readonly Diagnostic[], sources: SourceMap, opts: RenderOptions = {}): string {
  return ds.map((d) => renderDiagnostic(d, sources, opts)).join("\n\n");
}

/** Machine-readable form for editors and CI annotations. */
export function diagnosticToJson(d: Diagnostic): object {
  const loc = (s?: Span) =>
    s ? { file: s.file, line: s.line, column: s.col, offset: s.start, length: s.end - s.start } : undefined;
  return {
    code: d.code,
    severity: d.severity,
    message: d.message,
    location: loc(d.span),
    related: d.related.map((r) => ({ message: r.message, location: loc(r.span) })),
    hint: d.hint,
    fixes: d.fixes?.map((f) => ({
      title: f.title,
      edits: f.edits.map((e) => ({ location: loc(e.span), text: e.text })),
    })),
  };
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === "error");
}
