// `npm run lint:deps` (run by `npm test`, so by .ci/run): the real tree passes, and a planted folder cycle or upward
// import in a copy of src/ makes the same command fail, naming the import.
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkLayers } from "../../tools/check-layers.js";

const ROOT = resolve(__dirname, "../..");
const temps: string[] = [];
afterAll(() => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));

/** A copy of src/ with one line appended to one file, checked by the command CI runs. */
function lintWith(file: string, line: string): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), "netc-layers-"));
  temps.push(dir);
  cpSync(join(ROOT, "src"), join(dir, "src"), { recursive: true });
  appendFileSync(join(dir, "src", file), `${line}\n`);
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "tools/check-layers.ts"), "--src", join(dir, "src")], { encoding: "utf8", cwd: ROOT });
  return { status: r.status, stderr: r.stderr };
}

describe("the dependency check", () => {
  it("finds no folder cycle and no upward import in src/", () => {
    expect(checkLayers(join(ROOT, "src"))).toEqual([]);
  });

  it("fails on a planted folder cycle (util -> compiler, while compiler imports util)", () => {
    const r = lintWith("util/tensor.ts", 'import type { Graph } from "../compiler/ir/ir.js";');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("cycle: folder cycle between compiler, util");
    expect(r.stderr).toContain("util/tensor.ts imports compiler/ir/ir.ts");
  });

  it("fails on an upward import that closes no cycle (the runtime reaching into the front end)", () => {
    const r = lintWith("runtime/validate.ts", 'export { parseSource } from "../dsl/1-parse/parse.js";');
    expect(r.status).toBe(1);
    expect(r.stderr).not.toContain("cycle:");
    expect(r.stderr).toContain("layer: runtime/validate.ts imports dsl/1-parse/parse.ts: src/runtime/ may not import src/dsl/1-parse/, which is above it");
  });

  it("fails on an import between two layers of one rank (the ONNX and WGSL back ends are independent)", () => {
    const r = lintWith("backends/wgsl/limits.ts", 'import "../onnx/opset.js";');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("src/backends/wgsl/ may not import src/backends/onnx/, which is beside it");
  });
});
