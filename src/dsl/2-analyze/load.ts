// Loads a `.net` file and everything it imports (the standard library under `std/`), parsing each once.
import { existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CheckCodes, makeDiagnostic } from "../../compiler/codes.js";
import { type Diagnostic, SourceMap } from "../../compiler/diagnostics.js";
import type { SourceFile } from "../1-parse/ast.js";
import { parseSource } from "../1-parse/parse.js";
import { readSourceFile } from "../../util/input-file.js";

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
export function stdlibDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "stdlib");
    if (existsSync(join(candidate, "nn.net"))) return candidate;
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), "../../../stdlib");
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
  const seen = new Set<string>();
  const load = (path: string, source: string): SourceFile => {
    seen.add(path);
    sources.add(path, source);
    const parsed = parseSource(path, source);
    diagnostics.push(...parsed.diagnostics);
    files.push(parsed.ast);
    for (const item of parsed.ast.items) {
      if (item.kind !== "Import") continue;
      const target = item.path.startsWith("std/") ? join(stdlibDir(), item.path.slice(4)) : resolve(dirname(path), item.path);
      if (seen.has(target)) continue;
      // Only sources are imported: a diagnostic quotes lines of what it imports, which must not be any file's.
      if (!target.endsWith(".net")) {
        diagnostics.push(makeDiagnostic(CheckCodes.ImportNotNet, `cannot import '${item.path}': only .net files are imported`, item.pathSpan));
        continue;
      }
      const imported = readFile(target);
      if (imported === undefined) {
        diagnostics.push(makeDiagnostic(CheckCodes.ImportNotFound, `cannot read '${item.path}' (looked at ${relative(process.cwd(), target) || target})`, item.pathSpan, { hint: "paths are relative to the importing file; the standard library is `std/nn.net`" }));
        continue;
      }
      load(target, imported);
    }
    return parsed.ast;
  };
  const entry = load(entryPath, text);
  return { entry, files, sources, diagnostics };
}
