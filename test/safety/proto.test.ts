// Names are data: `__proto__` as a --set name, an input or an output is an ordinary name, never silently dropped.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBundleDir } from "../../src/runtime/node.js";
import { encodeNpy } from "../../src/util/npy.js";
import { runNetc } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "netc-proto-"));
const model = join(dir, "p.net");
writeFileSync(model, "model P()(x: f32[1, 4]) -> (__proto__: f32[1, 4], y: f32[1, 4]) {\n  return (x * 2.0, x)\n}\n");
const x = { dtype: "f32" as const, shape: [1, 4], data: Float32Array.from([1, 2, 3, 4]) };
writeFileSync(join(dir, "x.npy"), encodeNpy(x));

describe("__proto__ as a name", () => {
  it("--set __proto__=5 is an unknown parameter, not ignored", async () => {
    const r = await runNetc("check", model, "--set", "__proto__=5");
    expect(r.code).toBe(1);
    expect(r.err).toContain("NET2016");
  });

  it("a bundle output named __proto__ is returned like any other", async () => {
    const bundle = join(dir, "b");
    expect((await runNetc("compile", model, "--target", "wgsl", "-o", bundle)).code).toBe(0);
    const outputs = await runBundleDir(bundle, { x: x.data });
    expect(Object.keys(outputs).sort()).toEqual(["__proto__", "y"]);
    // biome-ignore lint/suspicious/noProto: an output named __proto__ is the case under test
    expect(Array.from(outputs.__proto__.data as Float32Array)).toEqual([2, 4, 6, 8]);
  });

  it("an ONNX output named __proto__, which onnxruntime-node drops, is a diagnostic", async () => {
    const r = await runNetc("run", model, "-i", `x=${join(dir, "x.npy")}`);
    expect(r.code).toBe(1);
    expect(r.err).toContain("error NET5004: onnxruntime returned no value for the output __proto__");
  });
});
