// String literals: the escapes docs/language.md lists and no others (an unknown one is NET1006, not dropped),
// raw strings r"..." for regular expressions, and `netc fmt` keeping every string's value and form.
import { describe, expect, it } from "vitest";
import type { StringLit } from "../../src/dsl/1-parse/ast.js";
import { parseSource } from "../../src/dsl/1-parse/parse.js";
import { STRING_ESCAPES } from "../../src/dsl/1-parse/strings.js";
import { formatSource } from "../../src/dsl/format/index.js";
import { uniforms } from "../../src/util/random.js";

/** The string values of a source's `assert true, <literal>` statements, in order. */
function stringValues(text: string): { values: StringLit[]; codes: string[] } {
  const { ast, diagnostics } = parseSource("s.net", text);
  const values: StringLit[] = [];
  for (const item of ast.items)
    if (item.kind === "Fn")
      for (const s of item.body) if (s.kind === "Assert" && s.message?.kind === "String") values.push(s.message);
  return { values, codes: diagnostics.map((d) => d.code) };
}

const fnOf = (literals: string[]) =>
  `fn f() {\n${literals.map((l) => `  assert true, ${l}\n`).join("")}  return 0\n}\n`;

describe("string escapes", () => {
  it('reads exactly \\\\ \\" \\n \\t \\r', () => {
    const { values, codes } = stringValues(fnOf([String.raw`"a\\b\"c\nd\te\rf"`]));
    expect(codes).toEqual([]);
    expect(values[0].value).toBe('a\\b"c\nd\te\rf');
    expect(Object.keys(STRING_ESCAPES).sort()).toEqual(['"', "\\", "n", "r", "t"]);
  });

  it("refuses every other escape with NET1006 at the escape, with the fix", () => {
    for (let code = 33; code < 127; code++) {
      const c = String.fromCharCode(code);
      if (c in STRING_ESCAPES) continue;
      const text = fnOf([`"ab\\${c}"`]);
      const { diagnostics } = parseSource("s.net", text);
      expect(
        diagnostics.map((d) => d.code),
        `\\${c}`,
      ).toEqual(["NET1006"]);
      const d = diagnostics[0];
      expect(text.slice(d.span!.start, d.span!.end)).toBe(`\\${c}`);
      expect(d.hint).toContain(`\\\\${c}`);
      expect(d.hint).toContain('r"..."');
    }
  });

  it("once dropped the backslash of \\d, so docs/weights.md's regular expression could never match", () => {
    const { diagnostics } = parseSource("s.net", fnOf([String.raw`"^blocks\.(\d+)"`]));
    expect(diagnostics.map((d) => d.message)).toEqual([
      String.raw`unknown escape '\.' in a string`,
      String.raw`unknown escape '\d' in a string`,
    ]);
  });
});

describe("raw strings", () => {
  it("keep backslashes as written and are marked raw in the tree", () => {
    const { values, codes } = stringValues(
      fnOf([String.raw`r"^blocks\.(\d+)\.ln_(\d)"`, String.raw`r"ends in \"`, 'r""']),
    );
    expect(codes).toEqual([]);
    expect(values.map((v) => [v.value, v.raw])).toEqual([
      [String.raw`^blocks\.(\d+)\.ln_(\d)`, true],
      ["ends in \\", true],
      ["", true],
    ]);
  });

  it("mean the same as the escaped form", () => {
    const { values } = stringValues(fnOf([String.raw`r"^a\.(\d+)$"`, String.raw`"^a\\.(\\d+)$"`]));
    expect(values[0].value).toBe(values[1].value);
    expect(new RegExp(values[0].value).exec("a.12")?.[1]).toBe("12");
  });

  it("end at the line: an unclosed one is NET1002", () => {
    expect(parseSource("s.net", fnOf(['r"open'])).diagnostics.map((d) => d.code)).toContain("NET1002");
  });

  it("need their r right before the quote: `r` then a space is a name and a string", () => {
    expect(parseSource("s.net", 'fn f(r: int) {\n  return r "x"\n}\n').diagnostics.map((d) => d.code)).toEqual([
      "NET1003",
    ]);
  });
});

describe("netc fmt never changes what a string means", () => {
  const alphabet = ["a", "Z", " ", "\\", '"', "\n", "\t", "\r", ".", "(", "$", "é", "d", "n", "r"];
  const rawAlphabet = alphabet.filter((c) => !['"', "\n", "\r"].includes(c));

  it("for 500 random strings, escaped and raw, the formatted file parses to the same values in the same forms", () => {
    const next = uniforms(12);
    const pick = (xs: string[]) => xs[Math.floor(next() * xs.length)];
    const make = (xs: string[]) => Array.from({ length: Math.floor(next() * 12) }, () => pick(xs)).join("");
    for (let i = 0; i < 500; i++) {
      const value = make(alphabet);
      const rawValue = make(rawAlphabet);
      const escapes: Record<string, string> = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r" };
      const escaped = `"${value.replace(/[\\"\n\t\r]/g, (c) => escapes[c])}"`;
      const text = fnOf([escaped, `r"${rawValue}"`]);
      const before = stringValues(text);
      expect(before.codes).toEqual([]);
      expect(before.values.map((v) => v.value)).toEqual([value, rawValue]);
      const formatted = formatSource("s.net", text).text!;
      const after = stringValues(formatted);
      expect(after.codes).toEqual([]);
      expect(after.values.map((v) => [v.value, v.raw])).toEqual([
        [value, undefined],
        [rawValue, true],
      ]);
      expect(formatSource("s.net", formatted).text).toBe(formatted);
    }
  });
});
