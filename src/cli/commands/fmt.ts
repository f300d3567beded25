// `netc fmt <files...>`: rewrites files in the canonical format; `--check` only reports the ones that differ.
import { CliCodes, makeDiagnostic } from "../../diagnostics/codes.js";
import { type Diagnostic, SourceMap, type Span } from "../../diagnostics/diagnostics.js";
import { formatSource } from "../../dsl/format/index.js";
import { writeAll, writeFilesAtomic } from "../../util/output.js";
import { readSource, report } from "../io.js";

/** Where the file and its formatted text first part (a span over that line of the file), and what fmt writes there. */
function firstDifference(file: string, text: string, formatted: string): { span: Span; what: string } {
  const [have, want] = [text.split("\n"), formatted.split("\n")];
  let line = 0;
  while (line < have.length && line < want.length && have[line] === want[line]) line++;
  // Past the end of the file's lines: it lacks the final newline; point at its last line.
  const at = Math.min(line, have.length - 1);
  const start = have.slice(0, at).reduce((n, l) => n + l.length + 1, 0);
  const span = { file, start, end: start + Math.max(have[at].length, 1), line: at + 1, col: 1 };
  if (line >= have.length) return { span, what: "the file does not end with a newline" };
  if (line >= want.length) return { span, what: "fmt ends the file before this line" };
  return { span, what: `from this line on, fmt writes ${JSON.stringify(want[line])}` };
}

export function fmtCommand(files: string[], opts: { check: boolean }): void {
  const sources = new SourceMap();
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    const text = readSource(file, sources);
    sources.add(file, text);
    const formatted = formatSource(file, text);
    diagnostics.push(...formatted.diagnostics);
    if (formatted.text === undefined || formatted.text === text) continue;
    if (opts.check) {
      const { span, what } = firstDifference(file, text, formatted.text);
      diagnostics.push(makeDiagnostic(CliCodes.NotFormatted, `${file} is not formatted: ${what}`, span));
    } else {
      writeFilesAtomic([{ target: file, write: (fd) => writeAll(fd, Buffer.from(formatted.text!, "utf8")) }]);
      process.stderr.write(`formatted ${file}\n`);
    }
  }
  report(diagnostics, sources);
}
