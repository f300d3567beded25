// Golden diagnostics: each bad file in cases/ has the exact rendered diagnostics written next to it
// (`<name>.expected`). Run with UPDATE_GOLDEN=1 to rewrite them after an intended change, then review the diff.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compileToGraph } from "../../src/driver.js";
import { renderDiagnostics } from "../../src/diagnostics/diagnostics.js";

const ROOT = resolve(__dirname, "../..");
const CASES = join(__dirname, "cases");
/** Some cases exercise command-line parameters. */
const OVERRIDES: Record<string, Record<string, string>> = {
  "unknown-override.net": { heads: "4", T: "2" },
};

describe("golden diagnostics", () => {
  const files = readdirSync(CASES)
    .filter((f) => f.endsWith(".net"))
    .sort();
  it("has cases", () => expect(files.length).toBeGreaterThan(20));

  it.each(files)("%s", (name) => {
    const path = join(CASES, name);
    const file = relative(ROOT, path);
    const result = compileToGraph(readFileSync(path, "utf8"), { file, overrides: OVERRIDES[name] });
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    expect(errors.length, "a golden case must produce at least one error").toBeGreaterThan(0);
    expect(result.graph).toBeUndefined();
    for (const d of errors) {
      expect(d.code).toMatch(/^NET\d{4}$/);
      expect(d.span, `${d.code} ${d.message} has no location`).toBeDefined();
    }
    const rendered = `${renderDiagnostics(result.diagnostics, result.sources)}\n`;
    const expectedPath = path.replace(/\.net$/, ".expected");
    if (process.env.UPDATE_GOLDEN) writeFileSync(expectedPath, rendered);
    expect(existsSync(expectedPath), `${expectedPath} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
    expect(rendered).toBe(readFileSync(expectedPath, "utf8"));
  });
});
