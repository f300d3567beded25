// Golden diagnostics that need a command line (checkpoints, bundles, CLI options, backends): each `<name>.args`
// holds netc's arguments, one per line (`#` lines are comments, `$TMP` is a fresh temporary folder, paths are
// relative to the repository root), and `<name>.expected` holds `exit <code>` on its first line and then what netc
// printed on stderr, with the temporary folder written back as `$TMP`. UPDATE_GOLDEN=1 rewrites the expected files.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runNetc } from "../helpers/cli.js";
import { commandArgs, COMMANDS, expectedText } from "./command-cases.js";

const ROOT = resolve(__dirname, "../..");

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "netc-diag-"));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** Machine-specific paths back to their placeholders, so the expected files are the same everywhere. */
const normalise = (text: string) => text.split(tmp).join("$TMP").split(`${ROOT}/`).join("");

describe("golden command-line diagnostics", () => {
  const cases = readdirSync(COMMANDS)
    .filter((f) => f.endsWith(".args"))
    .sort();
  it("has cases", () => expect(cases.length).toBeGreaterThan(20));
  it("runs from the repository root, as the relative paths in the cases assume", () =>
    expect(process.cwd()).toBe(ROOT));

  it.each(cases)("%s", async (name) => {
    const args = commandArgs(readFileSync(join(COMMANDS, name), "utf8")).map((a) => a.split("$TMP").join(tmp));
    const { code: exit, err: stderr } = await runNetc(...args);
    expect(stderr, "netc must not crash on bad input").not.toContain("internal error");
    expect(stderr, "a golden case must print a diagnostic").toMatch(/ NET\d{4}: /);
    const rendered = expectedText(exit, normalise(stderr));
    const expectedPath = join(COMMANDS, name.replace(/\.args$/, ".expected"));
    if (process.env.UPDATE_GOLDEN) writeFileSync(expectedPath, rendered);
    expect(existsSync(expectedPath), `${expectedPath} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
    expect(rendered).toBe(readFileSync(expectedPath, "utf8"));
  });
});
