// `netc check --weights --format json`: the fixes the weight check knows (a rename rule, a parameter's default) come
// out as edits a tool can apply, and applying them leaves nothing to report.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runNetc } from "../helpers/cli.js";

const FILES = resolve(__dirname, "../diagnostics/commands/files");
const tmp = mkdtempSync(join(tmpdir(), "netc-check-weights-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface JsonFix {
  title: string;
  edits: { location: { offset: number; length: number }; text: string }[];
}

/** Checks `file` against tiny.pth; the diagnostics' codes and the first fix of each, applied in turn to the file. */
async function checkAndFix(file: string) {
  const run = await runNetc("check", file, "--weights", join(FILES, "tiny.pth"), "--format", "json");
  const { diagnostics } = JSON.parse(run.out) as { diagnostics: { code: string; fixes?: JsonFix[] }[] };
  const [fix] = diagnostics.flatMap((d) => d.fixes ?? []);
  let text = readFileSync(file, "utf8");
  for (const e of fix?.edits ?? [])
    text = text.slice(0, e.location.offset) + e.text + text.slice(e.location.offset + e.location.length);
  writeFileSync(file, text);
  return { code: run.code, codes: diagnostics.map((d) => d.code), title: fix?.title, text };
}

describe("netc check --weights --format json", () => {
  it("gives the rename rule as an edit; the file it makes checks clean", async () => {
    const file = join(tmp, "rename.net");
    copyFileSync(join(FILES, "check-weights-rename.net"), file);
    const first = await checkAndFix(file);
    expect(first.code).toBe(1);
    expect(first.codes).toEqual(["NET6020", "NET6020", "NET6021", "NET6021"]);
    expect(first.title).toBe('Add `rename "fc" -> "head"` to `weights { }`');
    expect(first.text).toContain('{\n  weights {\n    rename "fc" -> "head"\n  }\n  layer head');
    expect(await checkAndFix(file)).toMatchObject({ code: 0, codes: [] });
  });

  it("gives a parameter the default the checkpoint says; the file it makes checks clean", async () => {
    const file = join(tmp, "unbound.net");
    copyFileSync(join(FILES, "check-weights-unbound.net"), file);
    const first = await checkAndFix(file);
    expect(first).toMatchObject({ code: 1, codes: ["NET2006"], title: "Give 'dim' the default 4" });
    expect(first.text).toContain("model Tiny(dim: int = 4)");
    expect(await checkAndFix(file)).toMatchObject({ code: 0, codes: [] });
  });

  it("--allow-missing and --allow-unexpected make those warnings, as when compiling", async () => {
    const file = join(FILES, "check-weights-rename.net");
    const severities = async (...flags: string[]) => {
      const run = await runNetc("check", file, "--weights", join(FILES, "tiny.pth"), "--format", "json", ...flags);
      const { diagnostics } = JSON.parse(run.out) as { diagnostics: { code: string; severity: string }[] };
      return { code: run.code, found: diagnostics.map((d) => `${d.code} ${d.severity}`) };
    };
    const strict = await severities();
    expect(strict.found).toEqual(["NET6020 error", "NET6020 error", "NET6021 error", "NET6021 error"]);
    const missingAllowed = await severities("--allow-missing");
    expect(missingAllowed.code).toBe(1);
    expect(missingAllowed.found).toContain("NET6020 warning");
    expect(missingAllowed.found.filter((f) => f.startsWith("NET6020"))).not.toContain("NET6020 error");
    expect(missingAllowed.found.filter((f) => f.startsWith("NET6021"))).toEqual(["NET6021 error", "NET6021 error"]);
    const bothAllowed = await severities("--allow-missing", "--allow-unexpected");
    expect(bothAllowed.code).toBe(0);
    expect(bothAllowed.found.length).toBeGreaterThan(0);
    expect(bothAllowed.found.every((f) => f.endsWith(" warning"))).toBe(true);
  });
});
