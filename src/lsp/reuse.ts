// What the language server keeps between edits: each file's last parse (the standard library and unchanged imports
// are parsed once, not once per keystroke), and a document's last analyses by the texts they read (an undo, or a
// hover on a version already analysed, reuses the analysis instead of elaborating again).
import { parseSource, type ParseResult } from "../dsl/1-parse/parse.js";
import type { ReadFile } from "../dsl/2-analyze/load.js";
import type { Analysis } from "./analysis.js";

export class ParseCache {
  private readonly byName = new Map<string, { source: string; result: ParseResult }>();
  /** Parses actually run, by file name (what a test counts to see that unchanged files are not parsed again). */
  readonly parses = new Map<string, number>();

  /** A ParseFile (loadProgram's) that returns the last parse of a file whose text has not changed. */
  readonly parse = (name: string, source: string): ParseResult => {
    const have = this.byName.get(name);
    if (have && have.source === source) return have.result;
    const result = parseSource(name, source);
    this.byName.set(name, { source, result });
    this.parses.set(name, (this.parses.get(name) ?? 0) + 1);
    return result;
  };
}

/** How many earlier analyses of a document are kept. */
const KEPT = 4;

/** A document's recent analyses, each valid while every file it read still has the text it read. */
export class AnalysisHistory {
  private readonly kept: { analysis: Analysis; read: Map<string, string> }[] = [];

  /** An earlier analysis of this text whose imports all read the same now. */
  find(text: string, readFile: ReadFile, pathOf: (file: string) => string): Analysis | undefined {
    const hit = this.kept.find(
      (k) => k.analysis.text === text && [...k.read].every(([file, source]) => readFile(pathOf(file)) === source),
    );
    return hit?.analysis;
  }

  add(analysis: Analysis): void {
    const read = new Map<string, string>();
    for (const f of analysis.program?.files ?? [])
      if (f.file !== analysis.file) read.set(f.file, analysis.sources.text(f.file) ?? "");
    this.kept.unshift({ analysis, read });
    this.kept.length = Math.min(this.kept.length, KEPT);
  }
}
