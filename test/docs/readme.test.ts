// The README and docs stay true: links resolve, the first example is the real file, every command they name exists.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const DOCS = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const EXAMPLE_READMES = ["examples/node/README.md", "examples/web/README.md"].filter((f) => existsSync(join(ROOT, f)));

describe.each([...DOCS, ...EXAMPLE_READMES])("%s", (doc) => {
  it("links only to files that exist", () => {
    const prose = read(doc)
      .replace(/```[\s\S]*?```/g, "")
      .replace(/`[^`\n]*`/g, "");
    const links = [...prose.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
      .map((m) => m[1])
      .filter((l) => !/^[a-z]+:/.test(l));
    const missing = links.filter((l) => !existsSync(resolve(ROOT, dirname(doc), l)));
    expect(missing).toEqual([]);
  });
});

describe("README.md", () => {
  const readme = read("README.md");

  it("shows examples/tiny.net as it is", () => {
    const block = readme.match(/`examples\/tiny\.net`:\n\n```net\n([\s\S]*?)```/);
    expect(block, "the README's first example block").not.toBeNull();
    expect(block![1]).toBe(read("examples/tiny.net"));
  });

  it("names only commands the CLI has", async () => {
    const { program } = await import("../../src/cli/main.js");
    const known = new Set(
      program().commands.flatMap((c) => [c.name(), ...c.commands.map((s) => `${c.name()} ${s.name()}`)]),
    );
    const named = [...readme.matchAll(/`netc ((?:weights )?[a-z]+)/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((c) => !known.has(c))).toEqual([]);
  });
});
