// The language server's parse reuse gives exactly what parsing the whole file gives: every .net file of the
// repository, parsed declaration by declaration and reassembled (src/lsp/reuse.ts), equals parseSource's tree, also
// after an edit that moves later declarations; a syntax error falls back to the whole file's parse and its errors.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSource } from "../../src/dsl/1-parse/parse.js";
import { ParseCache, topLevelPieces } from "../../src/lsp/reuse.js";

const ROOT = resolve(__dirname, "../..");

function netFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((e) => {
    const path = join(folder, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || e.name.startsWith(".") ? [] : netFiles(path);
    return e.name.endsWith(".net") ? [path] : [];
  });
}

const FILES = ["examples", "models", "stdlib", "test"].flatMap((f) => netFiles(join(ROOT, f)));

describe("parsing by top-level declarations", () => {
  it("finds files to check", () => {
    expect(FILES.length).toBeGreaterThan(20);
  });

  it("equals the whole file's parse for every .net file of the repository", () => {
    for (const path of FILES) {
      const name = relative(ROOT, path);
      const text = readFileSync(path, "utf8");
      expect(new ParseCache().parse(name, text), name).toEqual(parseSource(name, text));
    }
  });

  it("stays equal when an edit moves the declarations after it, reparsing only the edited one", () => {
    const text = readFileSync(join(ROOT, "models/ifdd.net"), "utf8");
    const cache = new ParseCache();
    cache.parse("ifdd.net", text);
    const pieces = topLevelPieces(text).length;
    expect(pieces).toBeGreaterThan(5);
    expect(cache.pieceParses.get("ifdd.net")).toBe(pieces);
    // A line added inside the first block: every later declaration moves by one line.
    const at = text.indexOf("{", text.indexOf("\nblock ")) + 1;
    const edited = `${text.slice(0, at)}\n  // a new line\n${text.slice(at)}`;
    expect(cache.parse("ifdd.net", edited)).toEqual(parseSource("ifdd.net", edited));
    expect(cache.pieceParses.get("ifdd.net")).toBe(pieces + 1);
  });

  it("keeps the syntax tree of declarations that neither changed nor moved (elaboration reuse keys on it)", () => {
    const text = readFileSync(join(ROOT, "models/ifdd.net"), "utf8");
    const cache = new ParseCache();
    const before = cache.parse("ifdd.net", text).ast.items;
    const at = text.indexOf("block Head(");
    const after = cache.parse("ifdd.net", `${text.slice(0, at)}\n${text.slice(at)}`).ast.items;
    // The new line ends the piece of the declaration before Head (pieces run up to the next declaration).
    const edited = before.findIndex((item) => item.span.start >= at) - 1;
    expect(edited).toBeGreaterThan(5);
    before.forEach((item, i) => {
      if (i < edited) expect(after[i], `item ${i}`).toBe(item);
      else expect(after[i], `item ${i}`).not.toBe(item);
    });
  });

  it("parses the whole file when a declaration does not parse, with the whole file's errors", () => {
    const text = readFileSync(join(ROOT, "examples/tiny.net"), "utf8").replace("layer norm", "layer norm norm");
    const result = new ParseCache().parse("tiny.net", text);
    expect(result.diagnostics.length).toBeGreaterThan(0);
    expect(result).toEqual(parseSource("tiny.net", text));
  });
});
