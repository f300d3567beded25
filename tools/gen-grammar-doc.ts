// Writes the grammar reference from the parser itself: docs/grammar.md (every rule in an EBNF-like notation, and
// the tokens) and docs/grammar.html (chevrotain's railroad diagrams of the same rules), so neither can drift from
// src/dsl/1-parse/parser.ts. Run: npx tsx tools/gen-grammar-doc.ts (test/docs/grammar-doc.test.ts fails when stale).
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ISerializedGast, TokenType } from "chevrotain";
import { createSyntaxDiagramsCode, Lexer } from "../src/dsl/1-parse/chevrotain.js";
import { allTokens } from "../src/dsl/1-parse/lexer.js";
import { NetParser } from "../src/dsl/1-parse/parser.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "../..");
export const GRAMMAR_MD = join(ROOT, "docs/grammar.md");
export const GRAMMAR_HTML = join(ROOT, "docs/grammar.html");

type Gast = ISerializedGast & {
  name?: string;
  label?: string;
  definition?: Gast[];
  separator?: { name: string; label?: string };
};

/** A terminal as written in the grammar: the keyword or symbol in quotes, or the token's name. */
function terminal(t: { name: string; label?: string }): string {
  return t.label?.startsWith("'") ? `"${t.label.slice(1, -1)}"` : t.name;
}

/** One grammar element; `nested` when it stands inside a sequence (alternatives then need parentheses). */
function render(g: Gast, nested: boolean): string {
  const seq = (items: Gast[] = [], inGroup = false) =>
    items.map((x) => render(x, inGroup || items.length > 1)).join(" ");
  const group = (items: Gast[] = []) => (items.length === 1 ? seq(items, true) : `( ${seq(items)} )`);
  switch (g.type) {
    case "Terminal":
      return terminal(g as { name: string; label?: string });
    case "NonTerminal":
      return g.name!;
    case "Option":
      return `${group(g.definition)}?`;
    case "Repetition":
      return `${group(g.definition)}*`;
    case "RepetitionMandatory":
      return `${group(g.definition)}+`;
    case "RepetitionWithSeparator":
      return `( ${seq(g.definition)} ( ${terminal(g.separator!)} ${seq(g.definition)} )* )?`;
    case "RepetitionMandatoryWithSeparator":
      return `${seq(g.definition)} ( ${terminal(g.separator!)} ${seq(g.definition)} )*`;
    case "Alternation": {
      const alternatives = (g.definition ?? []).map((a) => seq(a.definition) || "ε");
      return nested ? `( ${alternatives.join(" | ")} )` : alternatives.join("\n    | ");
    }
    case "Alternative":
      return seq(g.definition);
    default:
      throw new Error(`unknown grammar element ${g.type}`);
  }
}

const serialized = (): Gast[] => new NetParser({ validateGrammar: true }).getSerializedGastProductions() as Gast[];

/** What a token without a fixed spelling is, where its pattern does not say it. */
const MEANINGS: Readonly<Record<string, string>> = {
  WhiteSpace: "ignored",
  BlockComment: "ignored",
  LineComment: "ignored",
  UnterminatedComment: "an error (NET1004)",
  UnterminatedString: "an error (NET1002)",
  RawString: "a StringLiteral, backslashes kept as written",
  AnyWord: "an Identifier or any keyword (path segments after `.`)",
};

function patternOf(t: TokenType): string {
  const p = t.PATTERN;
  return p instanceof RegExp && p !== Lexer.NA ? `\`/${p.source}/\`` : "";
}

export function grammarMarkdown(): string {
  const rules = serialized().map((r) => {
    const body = render({ type: "Alternative", definition: r.definition } as Gast, false);
    const single = r.definition?.length === 1 && r.definition[0].type === "Alternation";
    return `${r.name} ::=${single ? "\n      " : " "}${body}`;
  });
  const named = allTokens.filter((t) => !(typeof t.LABEL === "string" && t.LABEL.startsWith("'")));
  return `# Grammar reference

Generated from the parser (\`src/dsl/1-parse/parser.ts\`) by \`tools/gen-grammar-doc.ts\`; do not edit by hand
(\`test/docs/grammar-doc.test.ts\` checks that it is current). The same rules as railroad diagrams:
[grammar.html](grammar.html) (open it in a browser; chevrotain's diagram script loads from unpkg).

Notation: \`a b\` a sequence, \`a | b\` alternatives, \`x?\` optional, \`x*\` any number, \`x+\` one or more,
\`"tap"\` a keyword or symbol as written, \`Identifier\` a token from the table below. What the rules do not show:
the newline rule (a call's \`(\`, a subscript's \`[\` continue an expression only on its line), where \`model\`,
\`named\` and \`unused\` are keywords, and the nesting limits — see [language.md](language.md). The meaning of each
construct is in [language.md](language.md) and [primitives.md](primitives.md).

\`\`\`text
${rules.join("\n\n")}
\`\`\`

## Tokens

Keywords and symbols appear in the rules as written. The other tokens:

| token | pattern | |
|---|---|---|
${named.map((t) => `| \`${t.name}\` | ${patternOf(t).replace(/\|/g, "\\|")} | ${MEANINGS[t.name] ?? ""} |`).join("\n")}
`;
}

export function grammarHtml(): string {
  return createSyntaxDiagramsCode(serialized());
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(GRAMMAR_MD, grammarMarkdown());
  writeFileSync(GRAMMAR_HTML, grammarHtml());
}
