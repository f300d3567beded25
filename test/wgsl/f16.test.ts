// The f16 kernels against the interpreter's f16 reference (tools/check-f16.ts) on this machine's WebGPU adapter.
// SwiftShader has no shader-f16, so in CI this skips and says why; on a machine whose GPU has it, it runs.
import { describe, expect, it } from "vitest";
import { checkF16 } from "../../tools/check-f16.js";

describe("f16 WGSL", () => {
  it("matches the interpreter's f16 reference (examples/tiny.net)", async (ctx) => {
    const result = await checkF16("examples/tiny.net", { B: "2" });
    if (result.skipped) return ctx.skip(`${result.skipped}: run npx tsx tools/check-f16.ts on a GPU machine`);
    expect(result.outputs.length).toBeGreaterThan(0);
    for (const o of result.outputs) expect(o.ok, `${o.name}: ${o.maxAbsToF16Reference} at scale ${o.scale}`).toBe(true);
  }, 120_000);
});
