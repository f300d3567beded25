// docs/diagnostics.md lists every code and is regenerated whenever codes or golden cases change.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { allCodes } from "../../src/diagnostics/all-codes.js";
import { diagnosticsDoc, exampleCoverage, UNREACHABLE } from "../../tools/gen-diagnostics-doc.js";

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

  // The exemptions live in tools/gen-diagnostics-doc.ts (UNREACHABLE), each with the reason the reference prints.
  it("shows every code with a real example from a golden case, except the listed unreachable ones", () => {
    const { missing, reachableAfterAll } = exampleCoverage();
    expect(missing, "add a golden case in test/diagnostics/cases or test/diagnostics/commands").toEqual([]);
    expect(reachableAfterAll, "a golden case shows these: remove them from UNREACHABLE").toEqual([]);
    const codes = new Set(allCodes().map((c) => c.code));
    for (const c of Object.keys(UNREACHABLE)) expect(codes.has(c), `${c} in UNREACHABLE is not a code`).toBe(true);
  });
});
