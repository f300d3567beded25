// Properties of `netc fmt` over every .net file in the repository and over edge cases:
// the output parses to the same tree with the same comments, and formatting it again changes nothing.
import { describe, expect, it } from "vitest";
import { netLexer } from "../../src/dsl/1-parse/lexer.js";
import { parseSource } from "../../src/dsl/1-parse/parse.js";
import { formatSource } from "../../src/dsl/format/index.js";
import { syntaxDifference } from "../../src/dsl/format/verify.js";
import {
  expectFixedPoint,
  expectFormattingProperties,
  format,
  netFiles,
  parsesCleanly,
  readText,
  repoPath,
} from "./helpers.js";

const repoFiles = netFiles("stdlib", "models", "examples", "test");

describe("fmt on every .net file in the repository", () => {
  it("finds the standard library", () => expect(repoFiles.map(repoPath)).toContain("stdlib/nn.net"));

  for (const path of repoFiles) {
    const text = readText(path);
    // Test inputs that are malformed on purpose are only checked to be refused.
    if (parsesCleanly(path, text)) it(repoPath(path), () => expectFormattingProperties(path, text));
    else it(`${repoPath(path)} (malformed: refused)`, () => expect(formatSource(path, text).text).toBeUndefined());
  }
});

describe("the shipped .net files are canonical (`netc fmt --check` passes)", () => {
  for (const path of netFiles("stdlib", "models", "examples"))
    it(repoPath(path), () => expect(format(path, readText(path))).toBe(readText(path)));
});

describe("fmt refuses files with syntax errors", () => {
  it.each([
    ["an unexpected token", "fn f() { let x = 1 +* 2 }"],
    ["an unterminated string", 'import "std/nn.net'],
    ["an unterminated comment", "fn f() {} /* open"],
    ["an invalid character", "fn f() { return $ }"],
  ])("%s", (_, text) => {
    const result = formatSource("bad.net", text);
    expect(result.text).toBeUndefined();
    expect(result.diagnostics).toEqual(parseSource("bad.net", text).diagnostics);
    expect(result.diagnostics.length).toBeGreaterThan(0);
  });
});

describe("fmt edge cases", () => {
  it("formats an empty file to nothing", () => {
    expect(format("e.net", "")).toBe("");
    expect(format("e.net", " \n\n\t\n")).toBe("");
  });

  it("keeps a file of comments only", () => {
    expect(format("c.net", "\n\n// one\n\n\n/* two */   \n")).toBe("// one\n\n/* two */\n");
  });

  it("reads CRLF line endings and writes LF, trimming trailing spaces in comments", () => {
    const text = "fn a() {\r\n  // crlf comment  \r\n  return 1   \r\n}\r\n";
    expect(format("crlf.net", text)).toBe("fn a() {\n  // crlf comment\n  return 1\n}\n");
    expectFormattingProperties("crlf.net", text);
  });

  it(
    "drops `;` between statements, also after a bare split_index (its arguments, like a call's, start on its " +
      "line)",
    () => {
      const text =
        "fn f(x: f32[B, N]) {\n  let a = split_index x along 1 by even_odd; (p, q) = a\n  let b = x; (p, q) = a\n}\n";
      const expected =
        "fn f(x: f32[B, N]) {\n  let a = split_index x along 1 by even_odd\n  (p, q) = a\n  let b = x\n  (p, q) " +
        "= a\n}\n";
      expect(format("semi.net", text)).toBe(expected);
      expectFormattingProperties("semi.net", text);
    },
  );

  it("keeps every line within 120 columns when the code can break", () => {
    const long = Array.from({ length: 30 }, (_, i) => `argument_${i}`).join(", ");
    const formatted = format(
      "long.net",
      `fn f() {\n  return g(h(${long}), [${long}], k = ${long.replaceAll(", ", " + ")})\n}\n`,
    );
    for (const line of formatted.split("\n")) expect(line.length).toBeLessThanOrEqual(120);
  });
});

/**
 * A comment inserted between two tokens is kept (formatSource checks the tree and the comments of its output) and
 * the output is a fixed point. Each pair of token kinds is tried once (its first occurrence in the golden inputs),
 * with a block comment and with a line comment. Insertions that change the program (a line break before `(` ends
 * a call) or do not parse are skipped.
 */
describe("fmt keeps a comment inserted between any two kinds of token", () => {
  const seenPairs = new Set<string>();
  const inputs = netFiles("test/fmt/cases").filter((p) => !p.endsWith(".expected.net"));
  for (const path of inputs) {
    const text = readText(path);
    const offsets = newTokenPairBoundaries(text, seenPairs);
    it(`${repoPath(path)} (${offsets.length} places)`, { timeout: 120_000 }, () => {
      const tree = parseSource(path, text).ast;
      for (const offset of offsets) {
        for (const comment of [" /* inserted */ ", " // inserted\n"]) {
          const variant = text.slice(0, offset) + comment + text.slice(offset);
          const parsed = parseSource(path, variant);
          if (parsed.diagnostics.length > 0 || syntaxDifference(tree, parsed.ast) !== undefined) continue;
          expectFixedPoint(`${path} with ${JSON.stringify(comment)} at ${offset}`, variant);
        }
      }
    });
  }
});

/** The offsets after tokens whose pair (this token's kind, the next one's) is not in `seen` yet; adds the pairs. */
function newTokenPairBoundaries(text: string, seen: Set<string>): number[] {
  const tokens = netLexer.tokenize(text).tokens;
  return tokens.flatMap((token, i) => {
    const pair = `${token.tokenType.name} ${tokens[i + 1]?.tokenType.name ?? "EOF"}`;
    if (seen.has(pair)) return [];
    seen.add(pair);
    return [token.endOffset! + 1];
  });
}
