// One analysis of an open document: the driver's front end run on the editor's text (other open documents replace
// their files on disk), with every expression's value recorded by span for hover. A file that does not elaborate
// keeps what parsed (navigation, symbols); one without a model is checked as a library.
import { dirname, resolve } from "node:path";
import type * as A from "../dsl/1-parse/ast.js";
import type { Program } from "../dsl/2-analyze/load.js";
import { type ReadFile, readFromDisk } from "../dsl/2-analyze/load.js";
import { type Diagnostic, SourceMap, type Span } from "../diagnostics/diagnostics.js";
import { CliCodes, makeDiagnostic } from "../diagnostics/codes.js";
import { MAX_SOURCE_BYTES } from "../util/input-file.js";
import { compileToGraph } from "../driver.js";
import type { Graph } from "../compiler/ir/ir.js";
import type { WeightRuleUse } from "../compiler/3-elaborate/elaborate.js";
import type { SymbolicWeight } from "../weights/dimension-values.js";
import { shapeToString } from "../compiler/ir/dim.js";
import { show, type Val } from "../compiler/3-elaborate/values.js";
import { displayPath, sourceFilePath } from "../util/source-paths.js";
import { ParseCache } from "./reuse.js";
import type { LayerCallMemo } from "../compiler/3-elaborate/layer-memo.js";

/** Evaluations of a span kept for hover: the first ones, then one at each power-of-two count (a block body runs once
 * per layer; its shapes change between stages). Rendering waits until a hover asks: most spans are never asked. */
const FIRST_SAMPLES = 32;
const MAX_SHOWN = 4;

/** What one span evaluated to, over every instance that evaluated it (a block body runs once per layer). */
export class SpanValues {
  /** How many evaluations there were. */
  count = 0;
  /** The first layer instance, for a span that made one. */
  layer?: Extract<Val, { kind: "layer" }>["layer"];
  private readonly samples: { value: Val; scope: string }[] = [];
  private rendered?: Map<string, string>;

  constructor(readonly span: Span) {}

  add(value: Val, scope: string): void {
    this.count++;
    if (this.count <= FIRST_SAMPLES || (this.count & (this.count - 1)) === 0) {
      this.samples.push({ value, scope });
      this.rendered = undefined;
    }
    if (value.kind === "layer" && !this.layer) this.layer = value.layer;
  }

  /** Distinct renderings (at most 4, from the kept evaluations), each with the first weight path that produced it. */
  get shown(): Map<string, string> {
    if (this.rendered) return this.rendered;
    const shown = new Map<string, string>();
    for (const { value, scope } of this.samples) {
      if (shown.size >= MAX_SHOWN) break;
      const text = renderValue(value);
      if (!shown.has(text)) shown.set(text, scope);
    }
    return (this.rendered = shown);
  }
}

export interface Analysis {
  /** The file name spans of this document use (relative to `namesBase`, as in diagnostics). */
  file: string;
  /**
   * The folder every file name of this analysis is relative to: the workspace folder holding the document, else the
   * document's folder (never the server's working folder, which the editor chose). One base per analysis, so that a
   * name leads back to one file (diskPath).
   */
  namesBase: string;
  text: string;
  diagnostics: Diagnostic[];
  sources: SourceMap;
  program?: Program;
  graph?: Graph;
  /** The model's `weights { }` rules, and its weights when parameters without a value were symbols. */
  weightRules: WeightRuleUse[];
  symbolicWeights?: SymbolicWeight[];
  /** By span file, then by spanKey. */
  values: Map<string, Map<number, SpanValues>>;
  /** Milliseconds the front end took. */
  elapsedMs: number;
}

/** How a compile-time value reads in a hover: tensors as `f32[B, 16, 197, 768]`. */
export function renderValue(v: Val): string {
  switch (v.kind) {
    case "tensor":
      return `${v.v.dtype}${shapeToString(v.v.shape)}`;
    case "layer":
      return `layer ${v.layer.path}: ${v.layer.decl.name.name}`;
    case "tuple":
    case "list": {
      const items = v.items.slice(0, 8).map(renderValue);
      const more = v.items.length > 8 ? `, ... (${v.items.length})` : "";
      return v.kind === "tuple" ? `(${items.join(", ")}${more})` : `[${items.join(", ")}${more}]`;
    }
    case "int":
      return `int = ${show(v)}`;
    case "float":
    case "bool":
    case "string":
      return `${v.kind} = ${show(v)}`;
    case "block":
      return `block ${v.decl.name.name}`;
    case "fn":
      return `fn ${v.decl.name.name}`;
    case "builtin":
      return `builtin ${v.name}`;
    default:
      return show(v);
  }
}

/** A span's offsets as one number (a string key costs more than the elaboration's observing is worth). */
export function spanKey(span: { start: number; end: number }): number {
  return span.start * 2 ** 25 + span.end;
}

/** The file on disk behind a span's file name in an analysis whose names are relative to `namesBase`. */
export function diskPath(namesBase: string, file: string): string {
  return resolve(namesBase, sourceFilePath(file));
}

/** Reads a file for an analysis: an open document's text, else the file on disk. */
export function readerOf(openTexts: ReadonlyMap<string, string>): ReadFile {
  return (p) => openTexts.get(resolve(p)) ?? readFromDisk(p);
}

/**
 * Runs the front end on a document as `netc check` does, except that the IR passes are reduced to dead-code
 * elimination (what the diagnostics need; see FrontendOptions.optimize), reusing parses from `parses` and the
 * previous elaboration's layer calls from `layerCalls` (one per document; without it, nothing is replayed).
 */
export function analyse(
  path: string,
  text: string,
  openTexts: ReadonlyMap<string, string>,
  parses: ParseCache = new ParseCache(),
  layerCalls?: LayerCallMemo,
  namesBase: string = dirname(path),
): Analysis {
  const started = performance.now();
  const file = displayPath(path, namesBase);
  if (Buffer.byteLength(text, "utf8") > MAX_SOURCE_BYTES) {
    const sources = new SourceMap();
    sources.add(file, "");
    const bytes = Buffer.byteLength(text, "utf8");
    const message = `${file} is ${bytes} bytes, more than the ${MAX_SOURCE_BYTES} netc reads: not analysed`;
    return {
      file,
      namesBase,
      text,
      diagnostics: [makeDiagnostic(CliCodes.LspDocumentTooLarge, message)],
      sources,
      weightRules: [],
      values: new Map(),
      elapsedMs: performance.now() - started,
    };
  }
  const values = new Map<string, Map<number, SpanValues>>();
  const observe = (span: Span, value: Val, scope: string) => {
    let inFile = values.get(span.file);
    if (!inFile) values.set(span.file, (inFile = new Map()));
    const key = spanKey(span);
    let entry = inFile.get(key);
    if (!entry) inFile.set(key, (entry = new SpanValues(span)));
    entry.add(value, scope);
  };
  const readFile = readerOf(openTexts);
  const result = compileToGraph(text, {
    file: path,
    namesBase,
    readFile,
    requireModel: false,
    noteUncheckedBlocks: true,
    observe,
    optimize: "dead-code",
    symbolicParams: true,
    parseFile: parses.parse,
    layerCalls,
  });
  return {
    file,
    namesBase,
    text,
    diagnostics: result.diagnostics,
    sources: result.sources,
    program: result.program,
    graph: result.graph,
    weightRules: result.weightRules,
    ...(result.symbolicWeights ? { symbolicWeights: result.symbolicWeights } : {}),
    values,
    elapsedMs: performance.now() - started,
  };
}

/** The source file of a span's file name among the program's files. */
export function sourceFileOf(analysis: Analysis, file: string): A.SourceFile | undefined {
  return analysis.program?.files.find((f) => f.file === file);
}
