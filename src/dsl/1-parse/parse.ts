// Source text -> syntax tree + syntax diagnostics. Lexing and parsing both recover, so one run reports many problems.
import type { IRecognitionException, IToken } from "chevrotain";
import { makeDiagnostic, SyntaxCodes } from "../../compiler/codes.js";
import type { Diagnostic, Span } from "../../compiler/diagnostics.js";
import type { Comment, SourceFile } from "./ast.js";
import { netLexer, UnterminatedComment, UnterminatedString } from "./lexer.js";
import { NetParser } from "./parser.js";

let parser: NetParser | undefined;

export interface ParseResult {
  ast: SourceFile;
  diagnostics: Diagnostic[];
}

function tokenSpan(file: string, t: IToken): Span {
  const start = Number.isFinite(t.startOffset) ? t.startOffset : 0;
  const end = Number.isFinite(t.endOffset) ? (t.endOffset as number) + 1 : start + 1;
  return { file, start, end, line: t.startLine ?? 1, col: t.startColumn ?? 1 };
}

export function parseSource(file: string, text: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const lexed = netLexer.tokenize(text);
  for (const e of lexed.errors) {
    const span: Span = { file, start: e.offset, end: e.offset + e.length, line: e.line ?? 1, col: e.column ?? 1 };
    const ch = text.slice(e.offset, e.offset + e.length);
    diagnostics.push(makeDiagnostic(SyntaxCodes.InvalidCharacter, `unexpected character${ch.length > 1 ? "s" : ""} '${ch}'`, span));
  }
  const tokens: IToken[] = [];
  for (const t of lexed.tokens) {
    if (t.tokenType === UnterminatedString) {
      diagnostics.push(makeDiagnostic(SyntaxCodes.UnterminatedString, "this string is never closed", tokenSpan(file, t)));
      continue;
    }
    tokens.push(t);
  }
  const comments: Comment[] = [];
  for (const t of lexed.groups.comments ?? []) {
    if (t.tokenType === UnterminatedComment)
      diagnostics.push(makeDiagnostic(SyntaxCodes.UnterminatedComment, "this comment is never closed", { ...tokenSpan(file, t), end: t.startOffset + 2 }));
    comments.push({ text: t.image, span: tokenSpan(file, t) });
  }

  parser ??= new NetParser();
  parser.file = file;
  parser.input = tokens;
  const items = parser.sourceFile() ?? [];
  for (const e of parser.errors) diagnostics.push(parseError(file, e, text.length));

  const ast: SourceFile = {
    kind: "File",
    file,
    items: items.filter((i) => i !== undefined),
    comments,
    span: { file, start: 0, end: text.length, line: 1, col: 1 },
  };
  return { ast, diagnostics };
}

function parseError(file: string, e: IRecognitionException, textLength: number): Diagnostic {
  const t = e.token;
  let span: Span;
  if (t.tokenType?.name === "EOF" || !Number.isFinite(t.startOffset)) {
    const prev = (e as { previousToken?: IToken }).previousToken;
    span = prev && Number.isFinite(prev.startOffset) ? { ...tokenSpan(file, prev), start: (prev.endOffset ?? 0) + 1, end: (prev.endOffset ?? 0) + 2, col: (prev.endColumn ?? 0) + 1 } : { file, start: textLength, end: textLength, line: 1, col: 1 };
  } else span = tokenSpan(file, t);
  return makeDiagnostic(SyntaxCodes.UnexpectedToken, e.message, span);
}

/** Parses one expression (for `--set name=value` overrides). */
export function parseExpression(file: string, text: string): { expr?: import("./ast.js").Expr; diagnostics: Diagnostic[] } {
  const lexed = netLexer.tokenize(text);
  const diagnostics: Diagnostic[] = lexed.errors.map((e) =>
    makeDiagnostic(SyntaxCodes.InvalidCharacter, `unexpected character '${text.slice(e.offset, e.offset + e.length)}'`, { file, start: e.offset, end: e.offset + e.length, line: 1, col: e.offset + 1 }),
  );
  parser ??= new NetParser();
  parser.file = file;
  parser.input = lexed.tokens;
  const expr = parser.expr();
  for (const e of parser.errors) diagnostics.push(parseError(file, e, text.length));
  if (parser.errors.length === 0 && (parser as unknown as { isAtEndOfInput(): boolean }).isAtEndOfInput?.() === false)
    diagnostics.push(makeDiagnostic(SyntaxCodes.UnexpectedToken, "unexpected text after the value", { file, start: 0, end: text.length, line: 1, col: 1 }));
  return { expr, diagnostics };
}
