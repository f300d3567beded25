// docs/diagnostics.md lists every code and is regenerated whenever codes or golden cases change.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { allCodes } from "../../src/compiler/all-codes.js";
import { diagnosticsDoc } from "../../tools/gen-diagnostics-doc.js";

const DOC = join(resolve(__dirname, "../.."), "docs/diagnostics.md");

describe("docs/diagnostics.md", () => {
  it("is up to date (run `npx tsx tools/gen-diagnostics-doc.ts`)", () => {
    expect(readFileSync(DOC, "utf8")).toBe(diagnosticsDoc());
  });

  it("documents every code exactly once, and codes are unique", () => {
    const codes = allCodes().map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
    const doc = readFileSync(DOC, "utf8");
    for (const c of codes) expect(doc.split(`### ${c} `).length - 1, c).toBe(1);
  });
});
