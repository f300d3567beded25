// Loads a `.net` file and everything it imports (the standard library under `std/`), parsing each once.
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { CheckCodes, makeDiagnostic } from "../../compiler/codes.js";
import { type Diagnostic, SourceMap } from "../../compiler/diagnostics.js";
import type { SourceFile } from "../1-parse/ast.js";
import { parseSource } from "../1-parse/parse.js";
import { readSourceFile } from "../../util/input-file.js";
import { packageFolder } from "../../util/package-folder.js";

/** Reads a file's text, or undefined when it does not exist. */
export type ReadFile = (path: string) => string | undefined;

export const readFromDisk: ReadFile = (path) => {
  try {
    return readSourceFile(path);
  } catch {
    return undefined; // missing, not a regular text file, or too large: reported as an import that cannot be read
  }
};

/** The standard library folder shipped with the package (stdlib/ beside src/ or dist/src/). */
export const stdlibDir = (): string => packageFolder("stdlib", "nn.net");

/** The prefix that names the standard library in imports, diagnostics and outputs (`std/nn.net`). */
export const STDLIB_PREFIX = "std/";

/** Whether a source file name (a span's `file`) is one of the standard library's. */
export const isStdlibFile = (file: string): boolean => file.startsWith(STDLIB_PREFIX);

/** The file on disk behind a source file name: `std/...` names are files of the standard library folder. */
export const sourceFilePath = (file: string): string => (isStdlibFile(file) ? join(stdlibDir(), file.slice(STDLIB_PREFIX.length)) : file);

/**
 * How a file is named in diagnostics, ONNX doc strings and bundle manifests: as given when relative, else relative
 * to the working folder; never an absolute machine path, so that the same model compiled from two clones of a tree
 * gives the same bytes.
 */
export function displayPath(path: string): string {
  const shown = isAbsolute(path) ? relative(process.cwd(), path) || path : path;
  // A folder of the user's that happens to be called std/ must not pass for the standard library.
  return isStdlibFile(shown) ? `./${shown}` : shown;
}

export interface Program {
  entry: SourceFile;
  /** Every loaded file, the entry first. */
  files: SourceFile[];
  sources: SourceMap;
  diagnostics: Diagnostic[];
}

export function loadProgram(entryPath: string, text: string, readFile: ReadFile = readFromDisk): Program {
  const sources = new SourceMap();
  const diagnostics: Diagnostic[] = [];
  const files: SourceFile[] = [];
  // Files are found by absolute path but named by displayPath (or `std/...`) in spans.
  const seen = new Set<string>();
  const load = (path: string, name: string, source: string): SourceFile => {
    seen.add(path);
    sources.add(name, source);
    const parsed = parseSource(name, source);
    diagnostics.push(...parsed.diagnostics);
    files.push(parsed.ast);
    for (const item of parsed.ast.items) {
      if (item.kind !== "Import") continue;
      const std = item.path.startsWith(STDLIB_PREFIX);
      const target = std ? join(stdlibDir(), item.path.slice(STDLIB_PREFIX.length)) : resolve(dirname(path), item.path);
      if (seen.has(target)) continue;
      // Only sources are imported: a diagnostic quotes lines of what it imports, which must not be any file's.
      if (!target.endsWith(".net")) {
        diagnostics.push(makeDiagnostic(CheckCodes.ImportNotNet, `cannot import '${item.path}': only .net files are imported`, item.pathSpan));
        continue;
      }
      const imported = readFile(target);
      if (imported === undefined) {
        diagnostics.push(makeDiagnostic(CheckCodes.ImportNotFound, `cannot read '${item.path}' (looked at ${std ? item.path : displayPath(target)})`, item.pathSpan, { hint: "paths are relative to the importing file; the standard library is `std/nn.net`" }));
        continue;
      }
      load(target, std ? item.path : displayPath(target), imported);
    }
    return parsed.ast;
  };
  const entry = load(resolve(entryPath), displayPath(entryPath), text);
  return { entry, files, sources, diagnostics };
}
