// A bundle with a run-time batch: one bundle, compiled with the batch symbolic, runs batches 1 to its maximum and
// gives exactly the rows of the static bundle compiled for each batch (--set B=b), on the same device.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { bundleOf, compileWgsl, compileWgslBatched, runtimeBatchSymbol } from "../../src/backends/wgsl/index.js";
import { compileToGraph } from "../../src/driver.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { WgslModel } from "../../src/runtime/model.js";
import { validateManifest } from "../../src/runtime/validate.js";
import { random } from "../helpers/ir.js";
import { tryGpu } from "./helpers.js";

function graphOf(file: string, sets: Record<string, string>): Graph {
  const front = compileToGraph(readFileSync(file, "utf8"), { file, overrides: sets, target: "wgsl" });
  expect(front.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return front.graph!;
}

const TINY = ["tiny", "examples/tiny.net", {}] as const;
const MINI = ["mini IFDD", "test/wgsl/fixtures/mini_ifdd.net", {}] as const;
const S2D = [
  "reduced S2D",
  "models/s2d.net",
  { embed_dim: "32", depth: "2", num_heads: "2", num_frames: "2" },
] as const;

const MAX = 3;
const { gpu, reason } = await tryGpu();

describe("bundles with a run-time batch", () => {
  it("leave only a leading input symbol to run time; other symbols stay NET7001", () => {
    expect(runtimeBatchSymbol(graphOf("examples/tiny.net", {}))).toBe("B");
    expect(runtimeBatchSymbol(graphOf("examples/tiny.net", { B: "2" }))).toBeUndefined();
    const twoSymbols = compileToGraph("model M()(x: f32[B, N]) -> f32[B, N] {\n  return x * 2.0\n}\n", {
      file: "m.net",
    }).graph!;
    expect(runtimeBatchSymbol(twoSymbols)).toBeUndefined();
    expect(compileWgsl(twoSymbols).diagnostics.map((d) => d.code)).toEqual(["NET7001", "NET7001"]);
  });

  it("refuse a maximum batch out of range (NET7021)", () => {
    const r = compileWgslBatched("B", 0, (b) => graphOf("examples/tiny.net", { B: String(b) }));
    expect(r.diagnostics.map((d) => d.code)).toEqual(["NET7021"]);
  });

  it("size every buffer for the largest batch and name one variant per smaller batch", () => {
    const { program } = compileWgslBatched("B", MAX, (b) => graphOf("examples/tiny.net", { B: String(b) }));
    const m = validateManifest(JSON.parse(JSON.stringify(bundleOf(program!).manifest)));
    expect(m.batch!.variants.map((v) => v.batch)).toEqual([1, 2]);
    expect(m.inputs[0].shape).toEqual([MAX, 8, 64]);
    const statics = [1, 2, 3].map((b) => compileWgsl(graphOf("examples/tiny.net", { B: String(b) })).program!.manifest);
    m.buffers.forEach((buf, id) => expect(buf.size).toBe(Math.max(...statics.map((s) => s.buffers[id]?.size ?? 0))));
    // A variant that fits no batch is a manifest error, not a run that reads past its buffers.
    const broken = JSON.parse(JSON.stringify(bundleOf(program!).manifest));
    broken.batch.variants.pop();
    expect(() => validateManifest(broken)).toThrow(/batch.variants.length/);
  });

  // What makes the rows identical: each batch runs exactly the static bundle's kernels, over buffers at least as large.
  it.each([TINY, MINI, S2D])(
    "%s: each batch's kernels are the static bundle's",
    (_name, file, sets) => {
      const { program } = compileWgslBatched("B", MAX, (b) => graphOf(file, { ...sets, B: String(b) }));
      const m = program!.manifest;
      for (const v of [...m.batch!.variants, { batch: MAX, kernels: m.kernels }]) {
        const own = compileWgsl(graphOf(file, { ...sets, B: String(v.batch) })).program!;
        expect(v.kernels.map((k) => ({ ...k, shader: program!.shaders.get(k.shader) }))).toEqual(
          own.manifest.kernels.map((k) => ({ ...k, shader: own.shaders.get(k.shader) })),
        );
        own.manifest.buffers.forEach((b, id) => expect(m.buffers[id].size).toBeGreaterThanOrEqual(b.size));
      }
    },
    60_000,
  );

  describe.skipIf(!gpu)(`on WebGPU${reason ? ` (skipped: ${reason})` : ""}`, () => {
    afterAll(() => gpu?.release());

    // Mini IFDD at batch 2 only: SwiftShader takes most of a second per pipeline, and CI time is short.
    it.each([
      [...TINY, [1, 2, 3]],
      [...MINI, [2]],
    ] as const)(
      "%s: one bundle gives the static bundle's rows at each batch tried",
      async (_name, file, sets, batches) => {
        const { program, diagnostics } = compileWgslBatched("B", MAX, (b) => graphOf(file, { ...sets, B: String(b) }));
        expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
        const batched = await WgslModel.create(gpu!.device, bundleOf(program!), { batches: [] });
        const input = program!.manifest.inputs[0];
        const row = input.shape.slice(1);
        try {
          for (const b of batches) {
            const x = random("f32", [b, ...row], 10 + b);
            const staticProgram = compileWgsl(graphOf(file, { ...sets, B: String(b) })).program!;
            const single = await WgslModel.create(gpu!.device, bundleOf(staticProgram));
            const [got, want] = [await batched.run({ [input.name]: x }), await single.run({ [input.name]: x })];
            single.destroy();
            for (const [name, t] of Object.entries(want)) {
              expect(got[name].shape, name).toEqual([b, ...t.shape.slice(1)]);
              expect(Array.from(got[name].data as Float32Array), `${name} at batch ${b}`).toEqual(
                Array.from(t.data as Float32Array),
              );
            }
          }
          await expect(batched.run({ [input.name]: random("f32", [MAX + 1, ...row], 1) })).rejects.toThrow(
            /fit no batch size from 1 to 3/,
          );
        } finally {
          batched.destroy();
        }
      },
      120_000,
    );
  });
});
