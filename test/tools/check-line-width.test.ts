// `npm run lint` checks line widths: the real tree passes, and a line planted past 120 columns in a copy of a
// checked folder makes the same command fail, naming the file and line.
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { longLines, MAX_COLUMNS } from "../../tools/check-line-width.js";

const ROOT = resolve(__dirname, "../..");
const temps: string[] = [];
afterAll(() => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));

describe("the line-width check", () => {
  it("finds no line past 120 columns in src/, test/, tools/ and bench/", () => {
    expect(longLines(ROOT)).toEqual([]);
  });

  it("makes `npm run lint`'s check fail on a planted long line, naming it; a line of exactly 120 passes", () => {
    const root = mkdtempSync(join(tmpdir(), "netc-width-"));
    temps.push(root);
    cpSync(join(ROOT, "tools"), join(root, "tools"), { recursive: true });
    appendFileSync(join(root, "tools", "check-layers.ts"), `// ${"x".repeat(MAX_COLUMNS - 3)}\n`);
    expect(longLines(root)).toEqual([]);
    appendFileSync(join(root, "tools", "check-layers.ts"), `// ${"é".repeat(MAX_COLUMNS - 2)}\n`);
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", join(ROOT, "tools/check-line-width.ts"), "--root", root],
      {
        encoding: "utf8",
        cwd: ROOT,
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^tools\/check-layers\.ts:\d+: 121 columns \(at most 120\)$/m);
  }, 120_000);
});
