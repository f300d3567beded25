// `npm run lint:deps` (run by `npm test`, so by .ci/run): the real tree passes, a planted folder cycle in a copy of
// src/ makes the same command fail naming the import, and planted upward or sideways imports are found.
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkLayers } from "../../tools/check-layers.js";

const ROOT = resolve(__dirname, "../..");
const temps: string[] = [];
afterAll(() => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));

/** A copy of src/ with one line appended to one file. */
function plant(file: string, line: string): string {
  const dir = mkdtempSync(join(tmpdir(), "netc-layers-"));
  temps.push(dir);
  cpSync(join(ROOT, "src"), join(dir, "src"), { recursive: true });
  appendFileSync(join(dir, "src", file), `${line}\n`);
  return join(dir, "src");
}

const messages = (src: string) => checkLayers(src).map((v) => `${v.kind}: ${v.message}`);

describe("the dependency check", () => {
  it("finds no folder cycle and no upward import in src/", () => {
    expect(checkLayers(join(ROOT, "src"))).toEqual([]);
  });

  it("makes `npm run lint:deps` fail on a planted folder cycle (util -> compiler, while compiler imports util)", () => {
    const src = plant("util/tensor.ts", 'import type { Graph } from "../compiler/ir/ir.js";');
    const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "tools/check-layers.ts"), "--src", src], {
      encoding: "utf8",
      cwd: ROOT,
    });
    expect(r.status).toBe(1);
    // The cycle is the strongly connected component the new import closes, with the imports that make it.
    expect(r.stderr).toMatch(/^cycle: folder cycle between (\w+, )*compiler, (\w+, )*util:$/m);
    expect(r.stderr).toContain("    util/tensor.ts imports compiler/ir/ir.ts");
  }, 120_000);

  it("finds an upward import that closes no cycle (the browser runtime reaching into the compiler)", () => {
    const src = plant("runtime/validate.ts", 'export { verifyGraph } from "../compiler/ir/verify.js";');
    expect(messages(src)).toEqual([
      "upward: runtime/validate.ts imports compiler/ir/verify.ts: src/runtime/ may not import src/compiler/ir/, " +
        "which is above it",
    ]);
  });

  it("finds an import between two layers of one rank (the ONNX and WGSL back ends are independent)", () => {
    const src = plant("backends/wgsl/limits.ts", 'import "../onnx/opset.js";');
    expect(messages(src)).toEqual([
      "upward: backends/wgsl/limits.ts imports backends/onnx/opset.ts: src/backends/wgsl/ may not import " +
        "src/backends/onnx/, which is beside it",
    ]);
  });
});
