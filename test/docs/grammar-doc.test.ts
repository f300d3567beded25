// docs/grammar.md and docs/grammar.html are generated from the parser and must match it.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GRAMMAR_HTML, GRAMMAR_MD, grammarHtml, grammarMarkdown } from "../../tools/gen-grammar-doc.js";

describe("the grammar reference", () => {
  it("docs/grammar.md is up to date (run `npx tsx tools/gen-grammar-doc.ts`)", () => {
    expect(readFileSync(GRAMMAR_MD, "utf8")).toBe(grammarMarkdown());
  });

  it("docs/grammar.html is up to date (run `npx tsx tools/gen-grammar-doc.ts`)", () => {
    expect(readFileSync(GRAMMAR_HTML, "utf8")).toBe(grammarHtml());
  });

  it("lists every rule of the parser, each once", () => {
    const doc = readFileSync(GRAMMAR_MD, "utf8");
    for (const rule of ["sourceFile", "blockDecl", "tapStmt", "weightsStmt", "splitIndexExpr", "liftExpr", "primary"])
      expect(doc.split(`\n${rule} ::=`).length - 1, rule).toBe(1);
  });
});
