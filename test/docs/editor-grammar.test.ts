// The TextMate grammar (editors/netc.tmLanguage.json) agrees with the lexer: every keyword, the string escapes,
// raw strings, and keywords used as names after a `.`.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { KEYWORDS } from "../../src/dsl/1-parse/lexer.js";
import { STRING_ESCAPES } from "../../src/dsl/1-parse/strings.js";

interface Rule {
  name?: string;
  match?: string;
  begin?: string;
  end?: string;
  patterns?: Rule[];
}

const text = readFileSync(join(resolve(__dirname, "../.."), "editors/netc.tmLanguage.json"), "utf8");
const grammar = JSON.parse(text) as { patterns: { include: string }[]; repository: Record<string, Rule> };
const stringRules = grammar.repository.strings.patterns!;
const ruleNamed = (name: string) => stringRules.find((r) => r.name === name)!;

describe("the TextMate grammar", () => {
  it("covers every keyword of the lexer", () => {
    const words = new Set([...text.matchAll(/\\\\b\(([^)]*)\)\\\\b/g)].flatMap((m) => m[1].split("|")));
    for (const k of KEYWORDS) expect(words.has(String(k.LABEL).slice(1, -1)), String(k.LABEL)).toBe(true);
  });

  it('reads r"..." as a raw string, before the escaped form and without escapes inside', () => {
    const raw = ruleNamed("string.quoted.raw.netc");
    expect(stringRules.indexOf(raw)).toBe(0);
    const begin = new RegExp(raw.begin!.replace("\\b", "(?<![A-Za-z0-9_])"));
    expect(begin.exec('rename_regex r"^blocks\\.(\\d+)"')?.index).toBe(13);
    expect(begin.test('bar"x"')).toBe(false);
    expect(raw.patterns ?? []).toEqual([]);
  });

  it("marks exactly the lexer's escapes as escapes, and any other backslash pair as invalid", () => {
    const quoted = ruleNamed("string.quoted.double.netc");
    const [known, invalid] = quoted.patterns!;
    expect(known.name).toBe("constant.character.escape.netc");
    expect(invalid.name).toBe("invalid.illegal.escape.netc");
    for (let code = 32; code < 127; code++) {
      const c = String.fromCharCode(code);
      expect(new RegExp(`^(?:${known.match!})$`).test(`\\${c}`), `\\${c}`).toBe(c in STRING_ESCAPES);
    }
    expect(new RegExp(invalid.match!).test("\\d")).toBe(true);
  });

  it("shows a keyword after a single `.` as a member name, checked before keywords", () => {
    const order = grammar.patterns.map((p) => p.include);
    expect(order.indexOf("#members")).toBeLessThan(order.indexOf("#keywords"));
    const members = new RegExp(grammar.repository.members.match!, "g");
    expect([..."layers[0].fn.fn.to_qkv(x)".matchAll(members)].map((m) => m[1])).toEqual(["fn", "fn", "to_qkv"]);
    expect([..."for i in 0..n".matchAll(members)]).toEqual([]);
  });
});
