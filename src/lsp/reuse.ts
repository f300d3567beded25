// What the language server keeps between edits: each file's last parse (the standard library and unchanged imports
// are parsed once, not once per keystroke), within an edited file the parse of each unchanged top-level declaration,
// a document's last analyses by the texts they read (an undo, or a hover on a version already analysed, reuses
// the analysis instead of elaborating again), and its last elaboration's layer calls (LayerCallMemo: an edit
// elaborates again only the calls of blocks that changed, moved or depend on one that did).
import type * as A from "../dsl/1-parse/ast.js";
import { parseSource, type ParseResult } from "../dsl/1-parse/parse.js";
import type { ReadFile } from "../dsl/2-analyze/load.js";
import type { Analysis } from "./analysis.js";
import { LayerCallMemo } from "../compiler/3-elaborate/layer-memo.js";

/** Where a top-level declaration starts: a line that begins with its keyword (as `netc fmt` writes them). */
const TOP_LEVEL = /^(?:import|block|fn|model)\b/gm;

/** A text cut before each top-level declaration; the first piece holds what comes before the first one. */
export function topLevelPieces(text: string): { start: number; line: number; text: string }[] {
  const starts = [0];
  for (const m of text.matchAll(TOP_LEVEL)) if (m.index > 0) starts.push(m.index);
  let line = 1;
  let counted = 0;
  return starts.map((start, i) => {
    for (; counted < start; counted++) if (text.charCodeAt(counted) === 10) line++;
    return { start, line, text: text.slice(start, starts[i + 1] ?? text.length) };
  });
}

/** A copy of a syntax tree parsed from a piece of text with every span moved to where the piece sits in the file. */
function moved<T>(node: T, offset: number, lines: number, seen = new Map<object, unknown>()): T {
  if (typeof node !== "object" || node === null) return node;
  const known = seen.get(node);
  if (known) return known as T;
  if (Array.isArray(node)) {
    const copy: unknown[] = [];
    seen.set(node, copy);
    for (const x of node) copy.push(moved(x, offset, lines, seen));
    return copy as T;
  }
  const o = node as Record<string, unknown>;
  if (typeof o.start === "number" && typeof o.end === "number" && typeof o.line === "number" && "col" in o) {
    // A span: pieces start at a line's beginning, so columns stay as they are.
    const span = { ...o, start: o.start + offset, end: o.end + offset, line: o.line + lines };
    seen.set(node, span);
    return span as T;
  }
  const copy: Record<string, unknown> = {};
  seen.set(node, copy);
  for (const k of Object.keys(o)) copy[k] = moved(o[k], offset, lines, seen);
  return copy as T;
}

/** A piece's syntax tree moved to where the piece sits in its file. */
interface Placed {
  items: A.Item[];
  comments: A.Comment[];
}

export class ParseCache {
  private readonly byName = new Map<string, { source: string; result: ParseResult }>();
  /** Each file's pieces (topLevelPieces) parsed on their own, by piece text. */
  private readonly pieces = new Map<string, Map<string, ParseResult>>();
  /**
   * Each file's pieces as placed in the last parse, by where they start and their text: a declaration that neither
   * changed nor moved keeps its syntax tree objects, by which elaboration results are reused (LayerCallMemo).
   */
  private readonly placed = new Map<string, Map<string, Placed>>();
  /** Files parsed, by file name (what a test counts to see that unchanged files are not parsed again). */
  readonly parses = new Map<string, number>();
  /** Top-level pieces parsed, by file name (an edit inside one declaration parses that declaration only). */
  readonly pieceParses = new Map<string, number>();

  /** A ParseFile (loadProgram's) that returns the last parse of a file whose text has not changed. */
  readonly parse = (name: string, source: string): ParseResult => {
    const have = this.byName.get(name);
    if (have && have.source === source) return have.result;
    const result = this.parseByPieces(name, source);
    this.byName.set(name, { source, result });
    this.parses.set(name, (this.parses.get(name) ?? 0) + 1);
    return result;
  };

  /**
   * The file's parse assembled from its declarations' parses, each reused while its text is unchanged (moved to where
   * it now sits). Equal to parseSource's (test/lsp/reuse.test.ts checks every .net of the repository); a piece with a
   * syntax error makes it parse the whole file instead, whose errors can span declarations.
   */
  private parseByPieces(name: string, source: string): ParseResult {
    const before = this.pieces.get(name) ?? new Map<string, ParseResult>();
    const now = new Map<string, ParseResult>();
    const placedBefore = this.placed.get(name) ?? new Map<string, Placed>();
    const placedNow = new Map<string, Placed>();
    const items: A.Item[] = [];
    const comments: A.Comment[] = [];
    for (const piece of topLevelPieces(source)) {
      let parsed = now.get(piece.text) ?? before.get(piece.text);
      if (!parsed) {
        parsed = parseSource(name, piece.text);
        this.pieceParses.set(name, (this.pieceParses.get(name) ?? 0) + 1);
      }
      now.set(piece.text, parsed);
      if (parsed.diagnostics.length) {
        this.pieces.set(name, now);
        return parseSource(name, source);
      }
      const where = `${piece.start}:${piece.line}:${piece.text}`;
      const put = placedBefore.get(where) ?? {
        items: moved(parsed.ast.items, piece.start, piece.line - 1),
        comments: moved(parsed.ast.comments, piece.start, piece.line - 1),
      };
      placedNow.set(where, put);
      items.push(...put.items);
      comments.push(...put.comments);
    }
    this.pieces.set(name, now);
    this.placed.set(name, placedNow);
    const span = { file: name, start: 0, end: source.length, line: 1, col: 1 };
    return { ast: { kind: "File", file: name, items, comments, span }, diagnostics: [] };
  }
}

/** How many earlier analyses of a document are kept. */
const KEPT = 4;

/** A document's recent analyses, each valid while every file it read still has the text it read. */
export class AnalysisHistory {
  private readonly kept: { analysis: Analysis; read: Map<string, string> }[] = [];
  /** The layer calls of the document's last elaboration, replayed by the next where nothing they read changed. */
  readonly layerCalls = new LayerCallMemo();

  /**
   * An earlier analysis of this text, naming files relative to `namesBase` (the workspace folders may have changed),
   * whose imports all read the same now.
   */
  find(text: string, readFile: ReadFile, namesBase: string, pathOf: (file: string) => string): Analysis | undefined {
    const hit = this.kept.find(
      (k) =>
        k.analysis.text === text &&
        k.analysis.namesBase === namesBase &&
        [...k.read].every(([file, source]) => readFile(pathOf(file)) === source),
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
