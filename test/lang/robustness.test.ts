// Bad input never crashes netc: seeded random edits of real .net files (deleted characters and lines, stray
// brackets and tokens, duplicated lines, absurd numbers) go through the compiler front end and the formatter,
// which must answer with diagnostics, never an exception. Plus the crashes such edits once found.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileToGraph } from "../../src/driver.js";
import { DiagnosticError } from "../../src/diagnostics/diagnostics.js";
import { formatSource } from "../../src/dsl/format/index.js";
import { uniforms } from "../../src/util/random.js";

const STRAYS = ["(", ")", "[", "]", "{", "}", ",", "=", "*", "..", "-", "@", ":", '"', "/*", "->", "."];
const ABSURD = ["0", "-1", "7", "1000000", "1099511627776", "1e308"];

/** One to three random edits of `text`. */
function mutate(text: string, next: () => number): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
  const tokens = text.match(/[A-Za-z_]\w*|\d+(?:\.\d+)?|\S/g) ?? [];
  const edits = 1 + Math.floor(next() * 3);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(next() * text.length);
    const lines = text.split("\n");
    const line = Math.floor(next() * lines.length);
    switch (Math.floor(next() * 6)) {
      case 0:
        text = text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 12));
        break;
      case 1:
        text = text.slice(0, at) + pick(tokens) + text.slice(at);
        break;
      case 2:
        text = text.slice(0, at) + pick(STRAYS) + text.slice(at);
        break;
      case 3:
        text = text.replace(/\b\d+\b/g, (d) => (next() < 0.1 ? pick(ABSURD) : d));
        break;
      case 4:
        lines.splice(line, 0, pick(lines));
        text = lines.join("\n");
        break;
      default:
        lines.splice(line, 1);
        text = lines.join("\n");
    }
  }
  return text;
}

/** Runs the front end and fmt; returns the unexpected exception, if any. */
function crashOf(file: string, text: string): string | undefined {
  for (const run of [() => compileToGraph(text, { file, overrides: { B: "1" } }), () => formatSource(file, text)]) {
    try {
      run();
    } catch (e) {
      if (!(e instanceof DiagnosticError)) return (e as Error).stack ?? String(e);
    }
  }
  return undefined;
}

describe("random edits of real files give diagnostics, never a crash", () => {
  it.each([
    ["examples/tiny.net", 200],
    ["test/lang/features.net", 60],
    ["models/variants/ifdd_topk.net", 40],
  ])(
    "%s (%i edits)",
    (file, count) => {
      const source = readFileSync(file, "utf8");
      const next = uniforms(2026);
      for (let i = 0; i < count; i++) {
        const text = mutate(source, next);
        const crash = crashOf(file, text);
        expect(crash, `edit ${i} of ${file} crashed netc:\n${text}`).toBeUndefined();
      }
    },
    120_000,
  );
});

describe("inputs that once crashed the parser or loader", () => {
  const diagnosticsOf = (text: string, file = "bad.net") =>
    compileToGraph(text, { file }).diagnostics.map((d) => d.code);

  it("an empty subscript", () => {
    expect(diagnosticsOf("fn f(x: f32[3]) -> f32[3] {\n  return x[]\n}\n")).toContain("NET1003");
    expect(formatSource("bad.net", "fn f(x: f32[3]) -> f32[3] {\n  return x[, 1]\n}\n").text).toBeUndefined();
  });

  it("an argument list that recovery abandons (`g(a[0]=(x))`)", () => {
    const text = "fn f(x: f32[3]) -> f32[3] {\n  return g(a[0]=(x))\n}\n";
    expect(diagnosticsOf(text)).toContain("NET1003");
    expect(formatSource("bad.net", text).text).toBeUndefined();
  });

  it.each(["0", "-3"])("--set B=%s (a dimension below 1)", (value) => {
    const file = "examples/tiny.net";
    const r = compileToGraph(readFileSync(file, "utf8"), { file, overrides: { B: value } });
    expect(r.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ["NET3011", `--set B: a dimension must be at least 1, got ${value}`],
    ]);
  });

  it("an import that names a directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "netc-import-"));
    expect(diagnosticsOf(`import "."\n`, join(dir, "m.net"))).toEqual(["NET2018"]); // not a .net file
    expect(diagnosticsOf(`import "sub.net"\n`, join(dir, "m.net"))).toEqual(["NET2008"]);
  });
});
