// Semantic tokens (full document): the lexer's tokens classified by what names resolve to in the latest analysis,
// which a TextMate grammar cannot know (a block used as a callee is a type, a layer a variable, `dim` a parameter).
// Encoded as LSP wants: five integers per token, line and start relative to the previous token.
import type { IToken } from "chevrotain";
import { KEYWORDS, netLexer } from "../dsl/1-parse/lexer.js";
import { callableSignature } from "../dsl/signatures/builtins.js";
import { DTYPES } from "../util/tensor.js";
import { type Analysis, sourceFileOf } from "./analysis.js";
import { type Decl, type Definition, declsOf, globalDefinitions, localDefinitions } from "./features.js";

/** The legend, sent in the server's capabilities; a token's type is its index here. */
export const TOKEN_TYPES = [
  "keyword",
  "type",
  "function",
  "parameter",
  "variable",
  "property",
  "number",
  "string",
  "comment",
] as const;
export const TOKEN_MODIFIERS = ["declaration", "defaultLibrary"] as const;

type TokenType = (typeof TOKEN_TYPES)[number];
const KEYWORD_TYPES = new Set(KEYWORDS.map((k) => k.name));
const DECLARATION = 1;
const DEFAULT_LIBRARY = 2;

/** One classified token: offset, length, type and modifier bits. */
export interface SemanticToken {
  start: number;
  length: number;
  type: TokenType;
  modifiers: number;
}

function classifyName(def: Definition): TokenType {
  switch (def.what) {
    case "block":
    case "model":
      return "type";
    case "fn":
      return "function";
    case "parameter":
    case "input":
      return "parameter";
    default:
      return "variable";
  }
}

export function semanticTokens(analysis: Analysis, file: string): SemanticToken[] {
  const text = analysis.sources.text(file) ?? "";
  const lexed = netLexer.tokenize(text);
  const source = sourceFileOf(analysis, file);
  const decls = source ? declsOf(source) : [];
  const locals = new Map<Decl, Definition[]>();
  const globals = new Map<string, Definition>();
  for (const g of globalDefinitions(analysis)) if (!globals.has(g.name)) globals.set(g.name, g);
  const declAt = (offset: number) => decls.find((d) => d.span.start <= offset && offset <= d.span.end);
  const out: SemanticToken[] = [];
  const tokens: IToken[] = [...lexed.tokens, ...((lexed.groups.comments as IToken[] | undefined) ?? [])].sort(
    (a, b) => a.startOffset - b.startOffset,
  );
  tokens.forEach((t, i) => {
    const start = t.startOffset;
    const length = t.image.length;
    const kind = t.tokenType.name;
    const push = (type: TokenType, modifiers = 0) => out.push({ start, length, type, modifiers });
    if (kind === "LineComment" || kind === "BlockComment" || kind === "UnterminatedComment") return push("comment");
    if (kind === "Integer" || kind === "Float") return push("number");
    if (kind === "StringLiteral" || kind === "RawString" || kind === "UnterminatedString") return push("string");
    const next = tokens[i + 1];
    // `fn` and `model` are keywords where they begin a declaration, `unused` where it marks one; names elsewhere.
    const declKeyword =
      ((kind === "Fn" || kind === "Model") &&
        next?.tokenType.name === "Identifier" &&
        next.startLine === t.startLine) ||
      (kind === "Unused" && (next?.tokenType.name === "Param" || next?.tokenType.name === "Layer"));
    if ((KEYWORD_TYPES.has(kind) && kind !== "Unused") || declKeyword) return push("keyword");
    if (kind !== "Identifier" && kind !== "Fn" && kind !== "Model" && kind !== "Unused") return;
    const name = t.image;
    if (tokens[i - 1]?.image === ".") return push("property");
    if ((DTYPES as readonly string[]).includes(name)) return push("type", DEFAULT_LIBRARY);
    const decl = declAt(start);
    if (decl) {
      let own = locals.get(decl);
      if (!own) locals.set(decl, (own = localDefinitions(decl)));
      const same = own.filter((d) => d.name === name);
      const found = same.filter((d) => d.span.start <= start).pop() ?? same[0];
      if (found) return push(classifyName(found), found.span.start === start ? DECLARATION : 0);
    }
    const global = globals.get(name);
    if (global)
      return push(
        classifyName(global),
        (global.span.file === file && global.span.start === start ? DECLARATION : 0) |
          (global.span.file.startsWith("std/") ? DEFAULT_LIBRARY : 0),
      );
    if (callableSignature(name)) return push("function", DEFAULT_LIBRARY);
  });
  return out;
}

/** LSP's encoding: per token, line and start character relative to the previous token, length, type, modifiers. */
export function encodeTokens(text: string, tokens: readonly SemanticToken[]): number[] {
  const data: number[] = [];
  let line = 0;
  let lineStart = 0;
  let at = 0;
  let previousLine = 0;
  let previousStart = 0;
  for (const t of tokens) {
    for (; at < t.start; at++)
      if (text.charCodeAt(at) === 10) {
        line++;
        lineStart = at + 1;
      }
    const character = t.start - lineStart;
    // A token spanning lines (a block comment) is cut at its first line's end: LSP tokens are single-line.
    const lineEnd = text.indexOf("\n", t.start);
    const length = lineEnd >= 0 && lineEnd < t.start + t.length ? lineEnd - t.start : t.length;
    data.push(
      line - previousLine,
      line === previousLine ? character - previousStart : character,
      length,
      TOKEN_TYPES.indexOf(t.type),
      t.modifiers,
    );
    previousLine = line;
    previousStart = character;
  }
  return data;
}
