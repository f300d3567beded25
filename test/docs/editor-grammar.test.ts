// The TextMate grammar (editors/netc.tmLanguage.json) highlights every keyword the lexer knows.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect, it } from "vitest";
import { KEYWORDS } from "../../src/dsl/1-parse/lexer.js";

it("the TextMate grammar covers every keyword of the lexer", () => {
  const grammar = readFileSync(join(resolve(__dirname, "../.."), "editors/netc.tmLanguage.json"), "utf8");
  const words = new Set([...grammar.matchAll(/\\\\b\(([^)]*)\)\\\\b/g)].flatMap((m) => m[1].split("|")));
  for (const k of KEYWORDS) expect(words.has(String(k.LABEL).slice(1, -1)), String(k.LABEL)).toBe(true);
});
