// Nesting and error-count limits (issue 14): inputs that once overflowed the stack (exit 70) are NET1007 or a
// bounded list of syntax errors with exit 1, through the command line; inputs just inside the limits still
// compile and format. Also: a UTF-8 byte order mark is accepted.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_EXPRESSION_DEPTH } from "../../src/dsl/1-parse/parse.js";
import { MAX_NESTING, MAX_SYNTAX_ERRORS } from "../../src/dsl/1-parse/parser.js";
import { runNetc } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "netc-limits-"));
let count = 0;
function fileWith(text: string): string {
  const path = join(dir, `case${count++}.net`);
  writeFileSync(path, text);
  return path;
}

const model = (body: string) => `model M(n: int = 1)(x: f32[B, 4]) -> f32[B, 4] {\n${body}\n}\n`;
const repeat = (s: string, n: number) => s.repeat(n);

/** [what, source] for nestings far past the limit, each of which once overflowed the stack (or would have). */
const TOO_DEEP: [string, string][] = [
  ["150 parentheses (352 bytes)", model(`  let y = ${repeat("(", 150)}x${repeat(")", 150)}\n  return y`)],
  ["300 brackets", model(`  let y = ${repeat("[", 300)}1${repeat("]", 300)}\n  return x`)],
  ["150 unary minus", model(`  let y = ${repeat("-", 150)}x\n  return y`)],
  ["2000 not", model(`  let c = ${repeat("not ", 2000)}true\n  return x`)],
  ["2000 ** to the right", model(`  let p = 1${repeat(" ** 1", 2000)}\n  return x`)],
  ["1000 if-then-else", model(`  let v = ${repeat("if true then 1 else ", 1000)}0\n  return x`)],
  ["1000 nested calls", model(`  let y = ${repeat("relu(", 1000)}x${repeat(")", 1000)}\n  return y`)],
  ["1000 nested subscripts", model(`  let y = [0]${repeat("[[0]", 1000)}${repeat("]", 1000)}\n  return x`)],
  ["1000 nested list types", model(`  let y: ${repeat("list<", 1000)}int${repeat(">", 1000)} = 1\n  return x`)],
  ["1000 nested tuple patterns", model(`  let ${repeat("(", 1000)}a${repeat(",)", 1000)} = 1\n  return x`)],
  ["1000 nested if blocks", model(`${repeat("  if true {\n", 1000)}${repeat("  }\n", 1000)}  return x`)],
  ["1000 nested split_index", model(`  let y = ${repeat("split_index ", 1000)}x along 1 by even_odd\n  return x`)],
  ["20000 additions", model(`  let y = x${repeat(" + x", 20000)}\n  return y`)],
  [
    "3000 else ifs",
    model(`  if false {\n    x = x\n  }${repeat(" else if false {\n    x = x\n  }", 3000)}\n  return x`),
  ],
];

describe("too deep: NET1007 and exit 1, never an internal error", () => {
  it("the limits are the documented ones", () => {
    expect([MAX_NESTING, MAX_EXPRESSION_DEPTH, MAX_SYNTAX_ERRORS]).toEqual([64, 256, 50]);
    const doc = readFileSync(join(__dirname, "../../docs/language.md"), "utf8");
    expect(doc).toContain("may nest 64 deep, and the syntax tree 256 deep");
    expect(doc).toContain("stops being parsed after 50 syntax errors");
  });

  it.each(TOO_DEEP)("%s (check and fmt)", async (_, text) => {
    const path = fileWith(text);
    for (const args of [
      ["check", path],
      ["fmt", "--check", path],
    ]) {
      const r = await runNetc(...args);
      expect(r.err).not.toContain("internal error");
      expect(r.code, r.err.slice(0, 400)).toBe(1);
      expect(r.err).toContain("NET1007");
      expect(r.err.match(/error NET/g)).toHaveLength(1);
    }
  });

  it("a deep --set value is a usage error (exit 2): the CLI checks it before parsing", async () => {
    const path = fileWith(model("  return x"));
    const r = await runNetc("check", path, "--set", `n=${repeat("(", 100)}1${repeat(")", 100)}`);
    expect(r.err).not.toContain("internal error");
    // A command-line value is checked before it is parsed: a usage error, like any malformed flag.
    expect(r.code).toBe(2);
    expect(r.err).toContain("--set n: the value nests brackets more than");
  });

  it("points at the first bracket past the limit (the model's body is one level)", async () => {
    const text = model(`  let y = ${repeat("(", 150)}x${repeat(")", 150)}\n  return y`);
    const r = await runNetc("check", fileWith(text));
    expect(r.err).toMatch(new RegExp(`case\\d+\\.net:2:${"  let y = ".length + MAX_NESTING}: error NET1007`));
  });
});

/** A block that calls itself `levels` deep, each time from inside `calls` nested calls. */
const recursive = (levels: number, calls: number) => `block R(n: int)(x: f32[B, 4]) -> f32[B, 4] {
  if n > 0 {
    layer sub = R(n - 1)
    return ${repeat("relu(", calls)}sub(x)${repeat(")", calls)}
  }
  return x
}

model M()(x: f32[B, 4]) -> f32[B, 4] {
  layer top = R(${levels})
  return top(x)
}
`;

describe("expressions inside blocks inside expressions", () => {
  it(
    "250 levels of a block called from 60 nested calls: NET3012 at the evaluation past the limit, " + "exit 1",
    async () => {
      const r = await runNetc("check", fileWith(recursive(250, 60)));
      expect(r.err).not.toContain("internal error");
      expect(r.code).toBe(1);
      expect(r.err).toContain("error NET3012: expressions and block calls nest more than 400 deep here");
    },
  );

  it("5 levels of the same compile", async () => {
    expect((await runNetc("check", fileWith(recursive(5, 60)))).code).toBe(0);
  });
});

describe("just inside the limits, everything still works", () => {
  const INSIDE: [string, string][] = [
    ["60 parentheses", model(`  let y = ${repeat("(", 60)}x${repeat(")", 60)}\n  return y`)],
    ["60 unary minus", model(`  let y = ${repeat("-", 60)}x\n  return y`)],
    ["60 nested calls", model(`  let y = ${repeat("relu(", 60)}x${repeat(")", 60)}\n  return y`)],
    ["60 nested if blocks", model(`${repeat("  if true {\n", 60)}  x = x + 1\n${repeat("  }\n", 60)}  return x`)],
    ["250 additions", model(`  let y = x${repeat(" + x", 250)}\n  return y`)],
    [
      "250 else ifs",
      model(
        `  if false {\n    x = x\n  }${repeat(" else if false {\n    x = x\n  }", 249)} else {\n    x = x + 1\n ` +
          ` }\n  return x`,
      ),
    ],
    // fmt's parentheses for clarity (`-(-x)`, `(a % b) * c`) would nest these past the limit: it leaves them out.
    ["80 alternating % and *", model(`  let k = 7${repeat(" % 5 * 3", 40)}\n  return x`)],
  ];
  it.each(INSIDE)("%s (check, then fmt twice)", async (_, text) => {
    const path = fileWith(text);
    expect((await runNetc("check", path)).code).toBe(0);
    const fmt = await runNetc("fmt", path);
    expect(fmt.code, fmt.err).toBe(0);
    expect((await runNetc("fmt", "--check", path)).code).toBe(0);
    expect((await runNetc("check", path)).code).toBe(0);
  });
});

describe("many syntax errors", () => {
  it("~125k errors: the parse stops after 50, says so, exit 1", async () => {
    const path = fileWith(model(`${repeat("  let = =\n", 62_500)}  return x`));
    const r = await runNetc("check", path);
    expect(r.err).not.toContain("internal error");
    expect(r.code).toBe(1);
    expect(r.err.match(/error NET1003/g)).toHaveLength(MAX_SYNTAX_ERRORS);
    expect(r.err).toContain(`the parser stopped after ${MAX_SYNTAX_ERRORS} syntax errors; fix these first`);
  });

  it("~125k invalid characters: 50 shown, the rest counted", async () => {
    const path = fileWith(model(`  let y = x ${repeat("$ ", 125_000)}\n  return y`));
    const r = await runNetc("check", path);
    expect(r.err).not.toContain("internal error");
    expect(r.code).toBe(1);
    expect(r.err.match(/error NET/g)).toHaveLength(MAX_SYNTAX_ERRORS);
    expect(r.err).toMatch(/note: \d+ more syntax errors are not shown; fix these first/);
  });
});

describe("a UTF-8 byte order mark", () => {
  it("is accepted at the start of a file, and fmt drops it", async () => {
    const text = model("  return x");
    const path = fileWith(`\uFEFF${text}`);
    const check = await runNetc("check", path);
    expect(check.code, check.err).toBe(0);
    expect((await runNetc("fmt", path)).code).toBe(0);
    expect(readFileSync(path, "utf8")).toBe(text);
  });
});
