// The packaged extension in a real VS Code (code-server 4.100.3, VS Code 1.100.3, in headless Chromium): opening
// models/ifdd.net shows shapes on hover and live diagnostics (tools/vscode-e2e.ts drives it). The first run installs
// code-server into a cache folder (3.5 minutes on this 2-core machine at load 20; later runs about a minute), so it
// runs only when asked:
//   NETC_VSCODE_REAL=1 npx vitest run test/editors/vscode-real.test.ts
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageVscode } from "../../tools/package-vscode.js";
import { PROBE_LINE, positionOf, runVscodeScenario, type VscodeObservations } from "../../tools/vscode-e2e.js";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const why = !process.env.NETC_VSCODE_REAL
  ? "set NETC_VSCODE_REAL=1 to run it"
  : !existsSync(CHROMIUM)
    ? `${CHROMIUM} is missing`
    : undefined;

describe.skipIf(why)(`the .vsix in a real VS Code${why ? ` (skipped: ${why})` : ""}`, () => {
  let work: string;
  let seen: VscodeObservations;
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "netc-vscode-real-"));
    const vsix = await packageVscode(join(work, "out"));
    seen = await runVscodeScenario({ vsix, screenshot: join(work, "hover.png") });
  }, 900_000);

  it("opens models/ifdd.net in the extension's language", () => {
    expect(seen.vscodeVersion).toMatch(/^1\.\d+\.\d+$/);
    expect(seen.languageMode).toBe("netc");
    expect(existsSync(join(work, "hover.png"))).toBe(true);
  });

  it("shows the shape of the name under the mouse", () => {
    // `cls = x[:, :, :1, :]` of x: f32[B, H, N, head_dim]; the first MViTv2-XS block has 1 head of width 96, and
    // the block runs once per layer, so the hover lists each distinct shape with the layer that produced it.
    expect(seen.hoverText).toMatch(/^cls: f32\[B, 1, 1, 96\] +\(in backbone\.backbone\.blocks\.0\.attn\.pool_q\)/);
    expect(seen.hoverText).toContain("f32[B, 2, 1, 96] (in backbone.backbone.blocks.1.attn.pool_q)");
  });

  it("reports what netc check reports when the file opens, and again after an error is typed and deleted", () => {
    expect(seen.countsAfterFix).toEqual(seen.expected);
    expect(seen.expected.errors).toBe(0);
  });

  it("shows a typed error live: in the Problems panel with its code and position, and as a squiggle", () => {
    const at = positionOf(PROBE_LINE, "x[");
    expect(seen.problemRow).toContain("'zzx' is not defined");
    expect(seen.problemRow).toContain("NET2001");
    expect(seen.problemRow).toContain(`[Ln ${at.line}, Col ${at.column}]`);
    expect(seen.countsWithError.errors).toBe(1);
    expect(seen.squigglesWithError).toBeGreaterThan(0);
  });

  it("clears the error once it is deleted, without saving", () => {
    expect(seen.squigglesAfterFix).toBe(0);
    expect(seen.lineAfterFix).toBe(PROBE_LINE);
  });

  it("repairs a misspelled name with the server's quick fix (Ctrl+.)", () => {
    expect(seen.quickFixTitle).toBe("Change to 'x'");
    expect(seen.countsAfterQuickFix).toEqual(seen.expected);
    expect(seen.lineAfterQuickFix).toBe(PROBE_LINE);
  });

  it("checks a model again when its checkpoint is rewritten on disk, with no edit (the server's file watcher)", () => {
    // Two weights missing and two checkpoint tensors unexpected (NET6020, NET6021), then none.
    expect(seen.countsWithOldCheckpoint.errors - seen.expected.errors).toBe(4);
    expect(seen.countsAfterCheckpointRewrite.errors).toBe(seen.expected.errors);
  });
});
