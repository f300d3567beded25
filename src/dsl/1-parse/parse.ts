// Source text -> syntax tree + syntax diagnostics. Lexing and parsing both recover, so one run reports many problems.
import type { IRecognitionException, IToken } from "chevrotain";
import { makeDiagnostic, SyntaxCodes } from "../../diagnostics/codes.js";
import type { Diagnostic, Span } from "../../diagnostics/diagnostics.js";
import type { Comment, SourceFile } from "./ast.js";
import { netLexer, StringLiteral, UnterminatedComment, UnterminatedString } from "./lexer.js";
import { MAX_NESTING, MAX_SYNTAX_ERRORS, NestingTooDeep, NetParser, TooManyErrors } from "./parser.js";
import { decodeString } from "./strings.js";

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

/**
 * Deepest nesting of syntax nodes (operator chains and `else if` chains included) that later phases are asked to walk.
 */
export const MAX_EXPRESSION_DEPTH = 256;

export function parseSource(file: string, text: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const lexed = netLexer.tokenize(text);
  for (const e of lexed.errors) {
    const span: Span = { file, start: e.offset, end: e.offset + e.length, line: e.line ?? 1, col: e.column ?? 1 };
    const ch = text.slice(e.offset, e.offset + e.length);
    diagnostics.push(
      makeDiagnostic(SyntaxCodes.InvalidCharacter, `unexpected character${ch.length > 1 ? "s" : ""} '${ch}'`, span),
    );
  }
  const tokens: IToken[] = [];
  for (const t of lexed.tokens) {
    if (t.tokenType === UnterminatedString) {
      diagnostics.push(
        makeDiagnostic(SyntaxCodes.UnterminatedString, "this string is never closed", tokenSpan(file, t)),
      );
      continue;
    }
    if (t.tokenType === StringLiteral) diagnostics.push(...unknownEscapes(file, t));
    tokens.push(t);
  }
  const comments: Comment[] = [];
  for (const t of lexed.groups.comments ?? []) {
    if (t.tokenType === UnterminatedComment)
      diagnostics.push(
        makeDiagnostic(SyntaxCodes.UnterminatedComment, "this comment is never closed", {
          ...tokenSpan(file, t),
          end: t.startOffset + 2,
        }),
      );
    comments.push({ text: t.image, span: tokenSpan(file, t) });
  }

  const ast: SourceFile = {
    kind: "File",
    file,
    items: [],
    comments,
    span: { file, start: 0, end: text.length, line: 1, col: 1 },
  };
  const parsed = runParser(file, tokens, text.length, (p) => p.sourceFile());
  for (const d of parsed.diagnostics) diagnostics.push(d);
  if (parsed.result) {
    ast.items = parsed.result.filter((i) => i !== undefined);
    const deep = tooDeep(ast.items);
    if (deep) diagnostics.push(deep);
  }
  return { ast, diagnostics: capSyntaxErrors(diagnostics) };
}

/** Runs one parser entry point; a nesting deeper than the parser allows ends the parse with that one diagnostic. */
function runParser<T>(
  file: string,
  tokens: IToken[],
  textLength: number,
  entry: (p: NetParser) => T,
): { result?: T; diagnostics: Diagnostic[] } {
  parser ??= new NetParser();
  parser.file = file;
  parser.input = tokens;
  try {
    const result = entry(parser);
    return { result, diagnostics: oneErrorPerToken(parser.errors).map((e) => parseError(file, e, textLength)) };
  } catch (e) {
    if (e instanceof TooManyErrors) {
      const diagnostics = oneErrorPerToken(parser.errors)
        .slice(0, MAX_SYNTAX_ERRORS)
        .map((error) => parseError(file, error, textLength));
      diagnostics[diagnostics.length - 1].related.push({
        message: `the parser stopped after ${diagnostics.length} syntax errors; fix these first`,
      });
      return { diagnostics };
    }
    if (!(e instanceof NestingTooDeep)) throw e;
    const message = `brackets, operators or blocks are nested more than ${MAX_NESTING} deep here`;
    return { diagnostics: [makeDiagnostic(SyntaxCodes.TooDeep, message, tokenSpan(file, e.token))] };
  }
}

/**
 * Recovery can fail twice at one token (in a rule, then in the loop around it); the first message is the one to keep.
 */
function oneErrorPerToken(errors: readonly IRecognitionException[]): IRecognitionException[] {
  return errors.filter(
    (e, i) =>
      i === 0 || e.token.startOffset !== errors[i - 1].token.startOffset || !Number.isFinite(e.token.startOffset),
  );
}

/** NET1006 for each escape of a `"..."` literal that the language does not define (`"\d"`). */
function unknownEscapes(file: string, t: IToken): Diagnostic[] {
  return decodeString(t.image).unknownEscapes.map((unknown) => {
    const span = {
      ...tokenSpan(file, t),
      start: t.startOffset + unknown.offset,
      end: t.startOffset + unknown.offset + unknown.text.length,
      col: (t.startColumn ?? 1) + unknown.offset,
    };
    return makeDiagnostic(SyntaxCodes.UnknownEscape, `unknown escape '${unknown.text}' in a string`, span, {
      hint:
        `write \\\\${unknown.text.slice(1)} for a backslash followed by ${unknown.text.slice(1)}, or use a ` +
        `raw string r"...", which keeps backslashes as written (as regular expressions want)`,
    });
  });
}

/** The first MAX_SYNTAX_ERRORS diagnostics (lexing finds any number), the last noting how many more there were. */
function capSyntaxErrors(diagnostics: Diagnostic[]): Diagnostic[] {
  if (diagnostics.length <= MAX_SYNTAX_ERRORS) return diagnostics;
  const kept = diagnostics.slice(0, MAX_SYNTAX_ERRORS);
  const last = kept[kept.length - 1];
  const more = diagnostics.length - kept.length;
  kept[kept.length - 1] = {
    ...last,
    related: [
      ...last.related,
      { message: `${more} more syntax error${more === 1 ? " is" : "s are"} not shown; fix these first` },
    ],
  };
  return kept;
}

/**
 * NET1007 at the first node nested deeper than MAX_EXPRESSION_DEPTH (a chain `a + b + ...` nests one level per
 * operator, `if ... else if ...` one per `else if`). Walked with an explicit stack, so the check itself cannot
 * overflow; the later phases recurse.
 */
function tooDeep(items: readonly unknown[]): Diagnostic | undefined {
  const stack: { node: unknown; depth: number }[] = items.map((node) => ({ node, depth: 0 }));
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (typeof node !== "object" || node === null) continue;
    const isNode = "kind" in node && "span" in node;
    const here = isNode ? depth + 1 : depth;
    if (here > MAX_EXPRESSION_DEPTH) {
      const span = (node as { span: Span }).span;
      return makeDiagnostic(
        SyntaxCodes.TooDeep,
        `this is nested more than ${MAX_EXPRESSION_DEPTH} levels deep (each operator of a chain and each \`else ` +
          `if\` is a level)`,
        span,
      );
    }
    for (const [key, child] of Object.entries(node))
      if (key !== "span" && key !== "opSpan" && key !== "pathSpan") stack.push({ node: child, depth: here });
  }
  return undefined;
}

function parseError(file: string, e: IRecognitionException, textLength: number): Diagnostic {
  const t = e.token;
  let span: Span;
  if (t.tokenType?.name === "EOF" || !Number.isFinite(t.startOffset)) {
    const prev = (e as { previousToken?: IToken }).previousToken;
    span =
      prev && Number.isFinite(prev.startOffset)
        ? {
            ...tokenSpan(file, prev),
            start: (prev.endOffset ?? 0) + 1,
            end: (prev.endOffset ?? 0) + 2,
            col: (prev.endColumn ?? 0) + 1,
          }
        : { file, start: textLength, end: textLength, line: 1, col: 1 };
  } else span = tokenSpan(file, t);
  return makeDiagnostic(SyntaxCodes.UnexpectedToken, e.message, span);
}

/** Parses one expression (for `--set name=value` overrides). */
export function parseExpression(
  file: string,
  text: string,
): { expr?: import("./ast.js").Expr; diagnostics: Diagnostic[] } {
  const lexed = netLexer.tokenize(text);
  const diagnostics: Diagnostic[] = lexed.errors.map((e) =>
    makeDiagnostic(
      SyntaxCodes.InvalidCharacter,
      `unexpected character '${text.slice(e.offset, e.offset + e.length)}'`,
      { file, start: e.offset, end: e.offset + e.length, line: 1, col: e.offset + 1 },
    ),
  );
  for (const t of lexed.tokens) if (t.tokenType === StringLiteral) diagnostics.push(...unknownEscapes(file, t));
  const parsed = runParser(file, lexed.tokens, text.length, (p) => {
    const expr = p.expr();
    return { expr, atEnd: p.errors.length > 0 || (p as unknown as { isAtEndOfInput(): boolean }).isAtEndOfInput() };
  });
  for (const d of parsed.diagnostics) diagnostics.push(d);
  if (parsed.result && !parsed.result.atEnd)
    diagnostics.push(
      makeDiagnostic(SyntaxCodes.UnexpectedToken, "unexpected text after the value", {
        file,
        start: 0,
        end: text.length,
        line: 1,
        col: 1,
      }),
    );
  const expr = parsed.result?.expr;
  const deep = expr && tooDeep([expr]);
  if (deep) diagnostics.push(deep);
  return { expr: deep ? undefined : expr, diagnostics: capSyntaxErrors(diagnostics) };
}
