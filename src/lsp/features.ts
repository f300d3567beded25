// Hover, go to definition, document symbols and completion over one analysis. Names resolve the way the language
// scopes them: the enclosing block's parameters, layers, lets and loop variables first, then every file's blocks
// and fns (the standard library's included), then the builtins.
import type * as A from "../dsl/1-parse/ast.js";
import { CONSTRUCT_SIGNATURES, callableNames, callableSignature } from "../dsl/signatures/builtins.js";
import { signatureText } from "../dsl/signatures/signature.js";
import { KEYWORDS as LEXER_KEYWORDS } from "../dsl/1-parse/lexer.js";
import { forEachExpr, forEachStmt, stmtExprs } from "../dsl/2-analyze/rules/walk.js";
import type { Span } from "../diagnostics/diagnostics.js";
import { type Analysis, sourceFileOf, spanKey } from "./analysis.js";

export type Decl = A.BlockDecl | A.FnDecl | A.ModelDecl;

/** A name's definition: where it is declared and what it is. */
export interface Definition {
  name: string;
  span: Span;
  what: "block" | "fn" | "model" | "parameter" | "input" | "layer" | "let" | "loop variable" | "weight";
  decl?: Decl;
  param?: A.ParamDecl;
}

const contains = (s: Span, offset: number) => s.start <= offset && offset <= s.end;

export function declsOf(file: A.SourceFile): Decl[] {
  return file.items.filter((i): i is Decl => i.kind === "Block" || i.kind === "Fn" || i.kind === "Model");
}

/** Every expression of a declaration: parameter defaults and its statements' expressions, nested ones included. */
function exprsOf(decl: Decl): A.Expr[] {
  const all: A.Expr[] = [];
  const params = decl.kind === "Fn" ? decl.params : [...decl.config, ...decl.inputs];
  for (const p of params) if (p.default) forEachExpr(p.default, (e) => all.push(e));
  forEachStmt(decl.body, (s) => {
    for (const e of stmtExprs(s)) forEachExpr(e, (x) => all.push(x));
  });
  return all;
}

function patternNames(p: A.Pattern): { name: string; span: Span }[] {
  return p.kind === "NamePattern" ? [{ name: p.name, span: p.span }] : p.elements.flatMap(patternNames);
}

/** Every name a declaration binds, in source order. */
export function localDefinitions(decl: Decl): Definition[] {
  const defs: Definition[] = [];
  if (decl.kind === "Fn")
    for (const p of decl.params) defs.push({ name: p.name.name, span: p.name.span, what: "parameter", param: p });
  else {
    for (const p of decl.config) defs.push({ name: p.name.name, span: p.name.span, what: "parameter", param: p });
    for (const p of decl.inputs) defs.push({ name: p.name.name, span: p.name.span, what: "input", param: p });
  }
  forEachStmt(decl.body, (s) => {
    if (s.kind === "Layer" && s.path[0]?.kind === "Name")
      defs.push({ name: s.path[0].name, span: s.path[0].span, what: "layer" });
    else if (s.kind === "Let") for (const n of patternNames(s.pattern)) defs.push({ ...n, what: "let" });
    else if (s.kind === "For") defs.push({ name: s.variable.name, span: s.variable.span, what: "loop variable" });
    else if (s.kind === "Param") defs.push({ name: s.name.name, span: s.name.span, what: "weight" });
    for (const e of stmtExprs(s))
      forEachExpr(e, (x) => {
        if (x.kind === "ListComp") defs.push({ name: x.variable.name, span: x.variable.span, what: "loop variable" });
      });
  });
  return defs;
}

export function globalDefinitions(analysis: Analysis): Definition[] {
  return (analysis.program?.files ?? []).flatMap((f) =>
    declsOf(f).map(
      (d): Definition => ({
        name: d.name.name,
        span: d.name.span,
        what: d.kind === "Block" ? "block" : d.kind === "Fn" ? "fn" : "model",
        decl: d,
      }),
    ),
  );
}

/** The declaration (block, fn, model) of a file that holds an offset. */
export function enclosing(file: A.SourceFile, offset: number): Decl | undefined {
  return declsOf(file).find((d) => contains(d.span, offset));
}

/** The identifier under the cursor: its text and span. */
export function wordAt(text: string, offset: number): { word: string; start: number; end: number } | undefined {
  const isWord = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);
  let start = offset;
  let end = offset;
  while (isWord(text[start - 1])) start--;
  while (isWord(text[end])) end++;
  if (start === end || /[0-9]/.test(text[start])) return undefined;
  return { word: text.slice(start, end), start, end };
}

/** What a name at an offset of the analysed document refers to. */
export function definitionAt(analysis: Analysis, file: string, offset: number): Definition | undefined {
  const source = sourceFileOf(analysis, file);
  const text = analysis.sources.text(file);
  if (!source || text === undefined) return undefined;
  const word = wordAt(text, offset);
  if (!word) return undefined;
  const decl = enclosing(source, offset);
  if (decl) {
    // The last binding of the name that starts before the cursor (a later `let` shadows an earlier one), else any.
    const locals = localDefinitions(decl).filter((d) => d.name === word.word);
    const before = locals.filter((d) => d.span.start <= word.start);
    const found = before[before.length - 1] ?? locals[0];
    if (found) return found;
  }
  return globalDefinitions(analysis).find((d) => d.name === word.word);
}

/**
 * Where the name at an offset is used, over every file of the program (the standard library's included): the names
 * that resolve to the same definition, and the definition itself when asked.
 */
export function referencesAt(analysis: Analysis, file: string, offset: number, includeDeclaration: boolean): Span[] {
  const target = definitionAt(analysis, file, offset);
  if (!target) return [];
  const same = (d: Definition | undefined) =>
    d !== undefined && d.span.file === target.span.file && d.span.start === target.span.start;
  const uses = (analysis.program?.files ?? []).flatMap((f) =>
    declsOf(f).flatMap((d) =>
      exprsOf(d)
        .filter(
          (e): e is A.NameExpr =>
            e.kind === "Name" && e.name === target.name && same(definitionAt(analysis, f.file, e.span.start)),
        )
        .map((e) => e.span),
    ),
  );
  return includeDeclaration ? [target.span, ...uses] : uses;
}

/** `// ...` lines right above a declaration, without the slashes. */
export function docComment(file: A.SourceFile, text: string, decl: { span: Span }): string | undefined {
  const above = file.comments.filter((c) => c.span.end <= decl.span.start).sort((a, b) => b.span.start - a.span.start);
  const lines: string[] = [];
  let next = decl.span.start;
  for (const c of above) {
    const between = text.slice(c.span.end, next);
    if (!/^[ \t]*\r?\n[ \t]*$/.test(between)) break;
    lines.unshift(c.text.replace(/^\/\/\/?\s?/, ""));
    next = c.span.start;
  }
  return lines.length ? lines.join("\n") : undefined;
}

function signature(d: Decl, source?: string): string {
  const text = (n: { span: Span }) => (source ? source.slice(n.span.start, n.span.end) : "");
  const params = (ps: A.ParamDecl[]) => `(${ps.map(text).join(", ")})`;
  const outputs = d.outputs.length
    ? ` -> ${d.outputs.length === 1 && !d.outputs[0].name ? text(d.outputs[0]) : `(${d.outputs.map(text).join(", ")})`}`
    : "";
  if (d.kind === "Fn") return `fn ${d.name.name}${params(d.params)}${outputs}`;
  return `${d.kind === "Block" ? "block" : "model"} ${d.name.name}${params(d.config)}${params(d.inputs)}${outputs}`;
}

function paramCount(analysis: Analysis, path: string): { count: number; tensors: number } | undefined {
  if (!analysis.graph) return undefined;
  const mine = analysis.graph.params.filter((p) => p.path.startsWith(`${path}.`));
  return { count: mine.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0), tensors: mine.length };
}

/** The values recorded for the innermost evaluated expression at an offset. */
function valuesAt(analysis: Analysis, file: string, offset: number) {
  const inFile = analysis.values.get(file);
  if (!inFile) return undefined;
  let best: ReturnType<typeof inFile.get>;
  for (const v of inFile.values())
    if (contains(v.span, offset) && (!best || v.span.end - v.span.start < best.span.end - best.span.start)) best = v;
  return best;
}

function describeValues(analysis: Analysis, v: NonNullable<ReturnType<typeof valuesAt>>): string[] {
  const lines = [...v.shown].map(([shown, path]) => (v.shown.size > 1 && path ? `${shown}  (in ${path})` : shown));
  if (v.shown.size > 1) lines.push(`(${v.count} evaluations; ${v.shown.size} distinct values shown)`);
  if (v.layer) {
    const params = paramCount(analysis, v.layer.path);
    if (params)
      lines.push(
        `weights under \`${v.layer.path}\`: ${params.count.toLocaleString("en-US")} parameters in ` +
          `${params.tensors} tensors`,
      );
  }
  return lines;
}

export interface HoverResult {
  markdown: string;
  span: Span;
}

function codeBlock(text: string): string {
  return `\`\`\`netc\n${text}\n\`\`\``;
}

const UNUSED_HOVER =
  "`unused`: this declaration's weights exist because a checkpoint holds them (the official module declares " +
  "them); the forward never reads them. They are still matched against the checkpoint, and not reported as " +
  "unused; if the forward does read them, that is a warning (NET2060).";

/** The `unused` modifier of the `layer` or `param` statement under the cursor. */
function unusedMarkAt(source: A.SourceFile, offset: number): Span | undefined {
  const decl = enclosing(source, offset);
  let found: Span | undefined;
  if (decl)
    forEachStmt(decl.body, (s) => {
      if ((s.kind === "Layer" || s.kind === "Param") && s.unused && contains(s.unused.span, offset))
        found = s.unused.span;
    });
  return found;
}

export function hoverAt(analysis: Analysis, file: string, offset: number): HoverResult | undefined {
  const source = sourceFileOf(analysis, file);
  const text = analysis.sources.text(file);
  if (!source || text === undefined) return undefined;
  const word = wordAt(text, offset);
  const marked = unusedMarkAt(source, offset);
  if (marked) return { markdown: UNUSED_HOVER, span: marked };
  const def = definitionAt(analysis, file, offset);
  // The name itself is a declaration (a block's name, a let's or layer's target): describe what it binds.
  // A block's or fn's name: its signature and doc comment, wherever it is written (a call's value is described
  // when the cursor is on its arguments instead).
  if (def?.decl) {
    const defText = analysis.sources.text(def.span.file) ?? "";
    const defFile = sourceFileOf(analysis, def.span.file);
    const doc = defFile ? docComment(defFile, defText, def.decl) : undefined;
    return {
      markdown: [codeBlock(signature(def.decl, defText)), doc].filter(Boolean).join("\n\n"),
      span: def.span.file === file && word ? { ...def.span, start: word.start, end: word.end } : def.span,
    };
  }
  if (word && !def && callableSignature(word.word))
    return { markdown: builtinDoc(word.word), span: { file, start: word.start, end: word.end, line: 0, col: 0 } };
  const decl = enclosing(source, offset);
  if (decl && word) {
    // A let or layer name: the value of what it is bound to.
    let bound: A.Expr | undefined;
    let element: number | undefined;
    forEachStmt(decl.body, (s) => {
      if (s.kind === "Let" && contains(s.pattern.span, offset)) {
        bound = s.value;
        if (s.pattern.kind === "TuplePattern") element = s.pattern.elements.findIndex((p) => contains(p.span, offset));
      }
      if (s.kind === "Layer" && s.path.some((p) => contains(p.span, offset))) bound = s.init;
    });
    if (bound) {
      const v = analysis.values.get(file)?.get(spanKey(bound.span));
      if (v) {
        let lines = describeValues(analysis, v);
        if (element !== undefined && element >= 0) lines = [...v.shown.keys()].map((s) => splitTuple(s)[element!] ?? s);
        return {
          markdown:
            codeBlock(v.layer ? lines[0] : `${word.word}: ${lines[0]}`) +
            (lines.length > 1 ? `\n\n${lines.slice(1).join("\n\n")}` : ""),
          span: { ...bound.span, start: word.start, end: word.end },
        };
      }
    }
  }
  const v = valuesAt(analysis, file, offset);
  if (v) {
    const lines = describeValues(analysis, v);
    return {
      markdown: codeBlock(lines[0]) + (lines.length > 1 ? `\n\n${lines.slice(1).join("\n\n")}` : ""),
      span: v.span,
    };
  }
  if (word && def?.param) {
    const defText = analysis.sources.text(def.span.file) ?? "";
    return {
      markdown: codeBlock(`${def.what} ${defText.slice(def.param.span.start, def.param.span.end)}`),
      span: { ...def.span, start: word.start, end: word.end },
    };
  }
  return undefined;
}

/** `(a, b)` rendered by renderValue split into its top-level items. */
function splitTuple(shown: string): string[] {
  if (!shown.startsWith("(")) return [shown];
  const items: string[] = [];
  let depth = 0;
  let from = 1;
  for (let i = 1; i < shown.length - 1; i++) {
    const c = shown[i];
    if (c === "[" || c === "(") depth++;
    else if (c === "]" || c === ")") depth--;
    else if (c === "," && depth === 0) {
      items.push(shown.slice(from, i).trim());
      from = i + 1;
    }
  }
  items.push(shown.slice(from, shown.length - 1).trim());
  return items;
}

/** A builtin's or construct's signature and one-line description (src/dsl/signatures). */
export function builtinDoc(name: string): string {
  const sig = callableSignature(name);
  if (!sig) return codeBlock(name);
  const kind = Object.hasOwn(CONSTRUCT_SIGNATURES, name) ? "construct" : "builtin";
  return `${codeBlock(`${kind} ${signatureText(name, sig)}`)}\n\n${sig.doc}`;
}

/** After each `let` of a file whose value elaborated: its shape (`: f32[B, 4, 64]`), the first instance's. */
export function letShapeHints(analysis: Analysis, file: string): { offset: number; label: string }[] {
  const source = sourceFileOf(analysis, file);
  const values = analysis.values.get(file);
  if (!source || !values) return [];
  const hints: { offset: number; label: string }[] = [];
  for (const d of declsOf(source))
    forEachStmt(d.body, (s) => {
      if (s.kind !== "Let" || s.type) return;
      const v = values.get(spanKey(s.value.span));
      const [first] = v ? v.shown.keys() : [];
      if (first !== undefined && !v!.layer) hints.push({ offset: s.pattern.span.end, label: `: ${first}` });
    });
  return hints;
}

export interface SymbolInfo {
  name: string;
  kind: "block" | "fn" | "model" | "layer";
  span: Span;
  selection: Span;
  children: SymbolInfo[];
}

export function documentSymbols(analysis: Analysis, file: string): SymbolInfo[] {
  const source = sourceFileOf(analysis, file);
  if (!source) return [];
  return declsOf(source).map((d) => {
    const children: SymbolInfo[] = [];
    forEachStmt(d.body, (s) => {
      if (s.kind === "Layer" && s.path[0]?.kind === "Name")
        children.push({ name: s.path[0].name, kind: "layer", span: s.span, selection: s.path[0].span, children: [] });
    });
    return {
      name: d.name.name,
      kind: d.kind === "Block" ? "block" : d.kind === "Fn" ? "fn" : "model",
      span: d.span,
      selection: d.name.span,
      children,
    };
  });
}

/** The language's keywords, as the lexer defines them (each token's label is the word in quotes). */
export const KEYWORDS: readonly string[] = LEXER_KEYWORDS.map((t) => String(t.LABEL).replace(/'/g, ""));

export interface CompletionEntry {
  label: string;
  kind: "keyword" | "builtin" | "block" | "fn" | "model" | "variable" | "layer" | "parameter";
  detail?: string;
}

export function completionsAt(analysis: Analysis | undefined, file: string, offset: number): CompletionEntry[] {
  const entries = new Map<string, CompletionEntry>();
  const add = (e: CompletionEntry) => {
    if (!entries.has(e.label)) entries.set(e.label, e);
  };
  const source = analysis ? sourceFileOf(analysis, file) : undefined;
  const decl = source ? enclosing(source, offset) : undefined;
  if (decl)
    for (const d of localDefinitions(decl)
      .filter((d) => d.span.start <= offset)
      .reverse())
      add({
        label: d.name,
        kind: d.what === "layer" ? "layer" : d.what === "parameter" || d.what === "input" ? "parameter" : "variable",
        detail: d.what,
      });
  if (analysis)
    for (const g of globalDefinitions(analysis))
      add({
        label: g.name,
        kind: g.what as CompletionEntry["kind"],
        detail: g.decl ? signature(g.decl, analysis.sources.text(g.span.file)) : g.what,
      });
  for (const name of callableNames())
    add({ label: name, kind: "builtin", detail: signatureText(name, callableSignature(name)!) });
  for (const k of KEYWORDS) add({ label: k, kind: "keyword" });
  return [...entries.values()];
}
