// Loads a `.net` file and everything it imports (the standard library under `std/`), parsing each once.
import { dirname, join, resolve } from "node:path";
import { CheckCodes, makeDiagnostic } from "../../diagnostics/codes.js";
import { type Diagnostic, SourceMap } from "../../diagnostics/diagnostics.js";
import type { SourceFile } from "../1-parse/ast.js";
import { type ParseResult, parseSource } from "../1-parse/parse.js";
import { readSourceFile } from "../../util/input-file.js";
import { displayPath, STDLIB_PREFIX, stdlibDir } from "../../util/source-paths.js";

/** Reads a file's text, or undefined when it does not exist. */
export type ReadFile = (path: string) => string | undefined;

export const readFromDisk: ReadFile = (path) => {
  try {
    return readSourceFile(path);
  } catch {
    return undefined; // missing, not a regular text file, or too large: reported as an import that cannot be read
  }
};

/** Parses one file's text (spans name it `name`). */
export type ParseFile = (name: string, source: string) => ParseResult;

export interface Program {
  entry: SourceFile;
  /** Every loaded file, the entry first. */
  files: SourceFile[];
  sources: SourceMap;
  diagnostics: Diagnostic[];
}

export function loadProgram(
  entryPath: string,
  text: string,
  readFile: ReadFile = readFromDisk,
  parseFile: ParseFile = parseSource,
  /** The folder file names are relative to (see displayPath). */
  namesBase: string = process.cwd(),
): Program {
  const sources = new SourceMap();
  const diagnostics: Diagnostic[] = [];
  const files: SourceFile[] = [];
  // Files are found by absolute path but named by displayPath (or `std/...`) in spans.
  const seen = new Set<string>();
  const load = (path: string, name: string, source: string): SourceFile => {
    seen.add(path);
    sources.add(name, source);
    const parsed = parseFile(name, source);
    diagnostics.push(...parsed.diagnostics);
    files.push(parsed.ast);
    for (const item of parsed.ast.items) {
      if (item.kind !== "Import") continue;
      const std = item.path.startsWith(STDLIB_PREFIX);
      const target = std ? join(stdlibDir(), item.path.slice(STDLIB_PREFIX.length)) : resolve(dirname(path), item.path);
      if (seen.has(target)) continue;
      // Only sources are imported: a diagnostic quotes lines of what it imports, which must not be any file's.
      if (!target.endsWith(".net")) {
        diagnostics.push(
          makeDiagnostic(
            CheckCodes.ImportNotNet,
            `cannot import '${item.path}': only .net files are imported`,
            item.pathSpan,
          ),
        );
        continue;
      }
      const imported = readFile(target);
      if (imported === undefined) {
        diagnostics.push(
          makeDiagnostic(
            CheckCodes.ImportNotFound,
            `cannot read '${item.path}' (looked at ${std ? item.path : displayPath(target, namesBase)})`,
            item.pathSpan,
            { hint: "paths are relative to the importing file; the standard library is `std/nn.net`" },
          ),
        );
        continue;
      }
      load(target, std ? item.path : displayPath(target, namesBase), imported);
    }
    return parsed.ast;
  };
  const entry = load(resolve(entryPath), displayPath(entryPath, namesBase), text);
  return { entry, files, sources, diagnostics };
}
