// `netc fmt <files...>`: rewrites files in the canonical format; `--check` only reports the ones that differ.
import { CliCodes, makeDiagnostic } from "../../compiler/codes.js";
import { type Diagnostic, SourceMap } from "../../compiler/diagnostics.js";
import { formatSource } from "../../dsl/format.js";
import { writeFileAtomic, writeAll } from "../../util/atomic.js";
import { readSource, report } from "../io.js";

export function fmtCommand(files: string[], opts: { check: boolean }): void {
  const sources = new SourceMap();
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    const text = readSource(file, sources);
    sources.add(file, text);
    const formatted = formatSource(file, text);
    diagnostics.push(...formatted.diagnostics);
    if (formatted.text === undefined || formatted.text === text) continue;
    if (opts.check) diagnostics.push(makeDiagnostic(CliCodes.NotFormatted, `${file} is not formatted`, { file, start: 0, end: 0, line: 1, col: 1 }));
    else {
      writeFileAtomic(file, (fd) => writeAll(fd, Buffer.from(formatted.text!, "utf8")));
      process.stderr.write(`formatted ${file}\n`);
    }
  }
  report(diagnostics, sources);
}
