// Shared command-line plumbing: reading sources, printing diagnostics, exit codes.
import {
  type Diagnostic,
  diagnosticToJson,
  hasErrors,
  renderDiagnostics,
  type SourceMap,
} from "../diagnostics/diagnostics.js";
import { InputFileError, readSourceFile } from "../util/input-file.js";

/** Exit codes: 0 success, 1 diagnostics (bad input), 2 usage errors. */
export const EXIT_DIAGNOSTICS = 1;
export const EXIT_USAGE = 2;

/** A command's failure that has already been reported; carries the exit code. */
export class ExitError extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

export interface OutputStyle {
  format: "text" | "json";
  color: boolean;
}

export const defaultStyle = (): OutputStyle => ({
  format: "text",
  color: process.stderr.isTTY === true && !process.env.NO_COLOR,
});

/** Prints diagnostics to stderr (or stdout as JSON); exits with code 1 when any is an error. */
export function report(
  diagnostics: readonly Diagnostic[],
  sources: SourceMap,
  style: OutputStyle = defaultStyle(),
): void {
  if (style.format === "json") {
    process.stdout.write(`${JSON.stringify({ diagnostics: diagnostics.map(diagnosticToJson) }, null, 2)}\n`);
  } else if (diagnostics.length) {
    process.stderr.write(`${renderDiagnostics(diagnostics, sources, { color: style.color })}\n`);
    const errors = diagnostics.filter((d) => d.severity === "error").length;
    const warnings = diagnostics.filter((d) => d.severity === "warning").length;
    if (errors || warnings)
      process.stderr.write(
        `${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}\n`,
      );
  }
  if (hasErrors(diagnostics)) throw new ExitError(EXIT_DIAGNOSTICS);
}

/** A source file's text: a regular file of bounded size holding UTF-8 text; anything else is reported. */
export function readSource(path: string, sources: SourceMap): string {
  try {
    return readSourceFile(path);
  } catch (e) {
    if (!(e instanceof InputFileError)) throw e;
    report([e.diagnostic], sources);
    throw new ExitError(EXIT_DIAGNOSTICS);
  }
}

/** A --set value is a number, a name or a short expression; this bounds the parser's work on it. */
const MAX_SET_LENGTH = 4096;
const MAX_SET_NESTING = 32;

function nesting(text: string): number {
  let [depth, deepest] = [0, 0];
  for (const c of text) {
    if (c === "(" || c === "[" || c === "{") deepest = Math.max(deepest, ++depth);
    else if (c === ")" || c === "]" || c === "}") depth--;
  }
  return deepest;
}

/** Parses repeated `--set name=value` options. */
export function parseSets(sets: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of sets) {
    const eq = s.indexOf("=");
    if (eq <= 0) usage(`--set expects name=value, got '${s}'`);
    const [name, value] = [s.slice(0, eq).trim(), s.slice(eq + 1).trim()];
    if (value.length > MAX_SET_LENGTH)
      usage(`--set ${name}: the value has ${value.length} characters, more than ${MAX_SET_LENGTH}`);
    if (nesting(value) > MAX_SET_NESTING)
      usage(`--set ${name}: the value nests brackets more than ${MAX_SET_NESTING} deep`);
    // defineProperty, not assignment: `--set __proto__=5` is a name like any other (and then an unknown one).
    Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export function usage(message: string): never {
  process.stderr.write(`netc: ${message}\n`);
  throw new ExitError(EXIT_USAGE);
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
