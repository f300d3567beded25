// Shared by the formatter tests: finding .net files, and the properties every formatted file must have.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { expect } from "vitest";
import { parseSource } from "../../src/dsl/1-parse/parse.js";
import { formatSource } from "../../src/dsl/format/index.js";
import { commentTexts, syntaxDifference } from "../../src/dsl/format/verify.js";

export const REPO = join(import.meta.dirname, "../..");

/** Every `.net` file under the given folders of the repository (missing folders are skipped), sorted. */
export function netFiles(...folders: string[]): string[] {
  return folders.flatMap((folder) => walk(join(REPO, folder))).sort();
}

function walk(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : walk(path);
    return e.isFile() && e.name.endsWith(".net") ? [path] : [];
  });
}

export const repoPath = (path: string) => relative(REPO, path);

export const readText = (path: string) => readFileSync(path, "utf8");

export function parsesCleanly(file: string, text: string): boolean {
  return parseSource(file, text).diagnostics.length === 0;
}

/** fmt(text), failing the test when the formatter refuses. */
export function format(file: string, text: string): string {
  const result = formatSource(file, text);
  expect(result.diagnostics.map((d) => d.message)).toEqual([]);
  expect(result.text).toBeDefined();
  return result.text!;
}

/** Formatting the output changes nothing. (formatSource itself throws if its output's tree or comments differ.) */
export function expectFixedPoint(file: string, text: string): void {
  const formatted = format(file, text);
  expect(format(file, formatted)).toBe(formatted);
}

/** Round trip (same tree, spans aside), same comments, and a fixed point: formatting the output changes nothing. */
export function expectFormattingProperties(file: string, text: string): void {
  const formatted = format(file, text);
  const before = parseSource(file, text).ast;
  const after = parseSource(file, formatted);
  expect(after.diagnostics).toEqual([]);
  expect(syntaxDifference(before, after.ast)).toBeUndefined();
  expect(commentTexts(after.ast)).toEqual(commentTexts(before));
  expect(format(file, formatted)).toBe(formatted);
}
