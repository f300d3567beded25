// `netc fmt`: the canonical layout of a `.net` file, printed from its syntax tree with every comment kept.
import type { Diagnostic } from "../../diagnostics/diagnostics.js";
import type { SourceFile } from "../1-parse/ast.js";
import { parseSource } from "../1-parse/parse.js";
import { placeComments } from "./comments.js";
import { printFile } from "./print-items.js";
import { renderDoc } from "./render.js";
import { SourceText } from "./source.js";
import { verifyFormatting } from "./verify.js";

const LINE_WIDTH = 120;

export interface FormatResult {
  /** The formatted text; absent when the file has syntax errors (then `diagnostics` says why). */
  text?: string;
  diagnostics: Diagnostic[];
}

export function formatSource(file: string, text: string): FormatResult {
  const { ast, diagnostics } = parseSource(file, text);
  if (diagnostics.some((d) => d.severity === "error")) return { diagnostics };
  let formatted = printSourceFile(ast, text, true);
  try {
    verifyFormatting(ast, formatted);
  } catch {
    // Parentheses added for clarity can take a file near the nesting limit past it (`-(-(-a))`): print without them.
    formatted = printSourceFile(ast, text, false);
    verifyFormatting(ast, formatted);
  }
  return { text: formatted, diagnostics };
}

function printSourceFile(ast: SourceFile, text: string, clarify: boolean): string {
  const source = new SourceText(text);
  const body = renderDoc(printFile({ source, comments: placeComments(ast, source), clarify }, ast), LINE_WIDTH);
  return body === "" ? "" : `${body}\n`;
}
