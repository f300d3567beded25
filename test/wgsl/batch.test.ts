// A bundle with a run-time batch: one bundle, compiled once with the batch symbolic (one set of kernels that read
// the batch from a uniform, dispatches sized by the runtime), runs batches 1 to its maximum and gives exactly the
// rows of the static bundle compiled for each batch (--set B=b), on the same device.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileFile } from "../../src/api.js";
import { runOnnx } from "../../src/backends/onnx/run.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { bundleOf, compileWgsl, runtimeBatchSymbol } from "../../src/backends/wgsl/index.js";
import { compileToGraph } from "../../src/driver.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { WgslModel, workgroupsAt } from "../../src/runtime/model.js";
import { validateManifest } from "../../src/runtime/validate.js";
import { random } from "../helpers/ir.js";
import { tryGpu } from "./helpers.js";

function graphOf(file: string, sets: Record<string, string>): Graph {
  const front = compileToGraph(readFileSync(file, "utf8"), { file, overrides: sets, target: "wgsl" });
  expect(front.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return front.graph!;
}

const graphOfSource = (source: string) => {
  const front = compileToGraph(source, { file: "m.net" });
  expect(front.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return front.graph!;
};

const TINY = ["tiny", "examples/tiny.net", {}] as const;
const MINI = ["mini IFDD", "test/wgsl/fixtures/mini_ifdd.net", {}] as const;
const S2D = [
  "reduced S2D",
  "models/s2d.net",
  { embed_dim: "32", depth: "2", num_heads: "2", num_frames: "2" },
] as const;

// A convolution that takes the tiled implicit-GEMM kernel at every batch from 1 to MAX.
const CONV = ["tiled conv", "test/wgsl/fixtures/batch_conv.net", {}] as const;
// An LSTM: its kernels compute values whose batch is their second axis (sequence first).
const LSTM = ["LSTM", "test/wgsl/fixtures/batch_lstm.net", {}] as const;

const MAX = 3;
const { gpu, reason } = await tryGpu();
const codes = (r: { diagnostics: { code: string; severity: string }[] }) =>
  r.diagnostics.filter((d) => d.severity === "error").map((d) => d.code);

describe("bundles with a run-time batch", () => {
  it("leave only a leading input symbol to run time; other symbols stay NET7001", () => {
    expect(runtimeBatchSymbol(graphOf("examples/tiny.net", {}))).toBe("B");
    expect(runtimeBatchSymbol(graphOf("examples/tiny.net", { B: "2" }))).toBeUndefined();
    const twoSymbols = graphOfSource("model M()(x: f32[B, N]) -> f32[B, N] {\n  return x * 2.0\n}\n");
    expect(runtimeBatchSymbol(twoSymbols)).toBeUndefined();
    expect(codes(compileWgsl(twoSymbols, { maxBatch: 4 }))).toEqual(["NET7001", "NET7001"]);
    // Without a maximum the batch is not left to run time either.
    expect(codes(compileWgsl(graphOf("examples/tiny.net", {})))).toContain("NET7001");
  });

  it("refuse a maximum batch out of range (NET7021)", () => {
    for (const max of [0, 1025, 2.5])
      expect(codes(compileWgsl(graphOf("examples/tiny.net", {}), { maxBatch: max }))).toEqual(["NET7021"]);
  });

  it.each([
    // An output whose batch is not its first axis: the runtime reads the leading elements of an output.
    ["NET7022", "model M()(x: f32[B, 4]) -> f32[4, B] {\n  return transpose(x, 0, 1)\n}\n"],
    // Reductions, concatenations and reshapes across the batch see the other items.
    ["NET7024", "model M()(x: f32[B, 4]) -> f32[1, 4] {\n  return sum(x, [0], keepdims = true)\n}\n"],
    ["NET7024", "model M()(x: f32[B, 4]) -> f32[2 * B, 4] {\n  return concat([x, x], axis = 0)\n}\n"],
    ["NET7024", "model M()(x: f32[B, 4]) -> f32[2 * B] {\n  return sum(reshape(x, [2, 2 * B]), [0])\n}\n"],
    // A value broadcast along a batch axis laid out at the largest batch: the probe batch sees the kernel change.
    ["NET7023", "model M()(x: f32[B, 4]) -> f32[B, 4] {\n  return transpose(transpose(x, 0, 1) + x[:, 0], 0, 1)\n}\n"],
  ])("refuse %s: %s", (code, source) => {
    expect(codes(compileWgsl(graphOfSource(source), { maxBatch: 4 }))).toEqual([code]);
  });

  it.each([TINY, MINI, S2D, CONV, LSTM])(
    "%s: one set of kernels, the static bundle's at the largest batch in everything but the batch",
    (_name, file, sets) => {
      const { program, diagnostics } = compileWgsl(graphOf(file, sets), { maxBatch: MAX });
      expect(codes({ diagnostics })).toEqual([]);
      const m = validateManifest(JSON.parse(JSON.stringify(bundleOf(program!).manifest)));
      const own = compileWgsl(graphOf(file, { ...sets, B: String(MAX) })).program!;
      expect(m.batch).toEqual({ symbol: "B", max: MAX });
      // The memory plan and the kernel plan are the largest batch's: same buffers, same kernels in the same order.
      expect(m.buffers).toEqual(own.manifest.buffers);
      expect(m.kernels.map((k) => [k.name, k.bindings, k.workgroups])).toEqual(
        own.manifest.kernels.map((k) => [k.name, k.bindings, k.workgroups]),
      );
      expect(program!.shaders.size).toBe(own.shaders.size);
      // Each formula gives the largest batch's grid at the maximum.
      for (const k of m.kernels) if (k.dispatch) expect(workgroupsAt(k.dispatch, MAX), k.name).toEqual(k.workgroups);
      expect(m.inputs.every((s) => s.batched)).toBe(true);
      expect(m.outputs.every((s) => s.batched)).toBe(true);
    },
    60_000,
  );

  // Kernels of values whose batch is not their first axis once ran at the largest batch whatever the batch given.
  const atLargest = (file: string, skipPasses: string[] = []) => {
    const graph = compileToGraph(readFileSync(file, "utf8"), { file, target: "wgsl", skipPasses }).graph!;
    return compileWgsl(graph, { maxBatch: MAX }).program!.manifest.kernels.filter((k) => !k.dispatch);
  };

  it("mini IFDD: every kernel's grid follows the batch, the relative-position products' included", () => {
    expect(atLargest(MINI[1])).toEqual([]);
    // With the batch moved second for them, the six products ran at the largest batch.
    const before = atLargest(MINI[1], ["batch kept leading through stacked products"]);
    expect(before.map((k) => k.ops.join())).toEqual(Array(6).fill("matmul"));
  });

  it("LSTM: a workgroup per sequence of the batch given, though the batch is the second axis", () => {
    expect(atLargest(LSTM[1])).toEqual([]);
    const { program } = compileWgsl(graphOf(LSTM[1], {}), { maxBatch: MAX });
    const lstm = program!.manifest.kernels.filter((k) => k.ops[0] === "lstm");
    expect(lstm).toHaveLength(4);
    for (const k of lstm) expect(workgroupsAt(k.dispatch!, 1)).toEqual([1, 1, 1]);
  });

  it("lower the largest batch to one that fits the adapter only when told to (netc compile's default)", () => {
    // 100 MiB an item: at 8 a kernel needs 14 bindings of at most 128 MiB, at 4 (and the probe at 5) 8.
    const wide = graphOfSource("model W()(x: f32[B, 25, 1024, 1024]) -> f32[B, 25, 1024, 1024] {\n  return -x\n}\n");
    expect(codes(compileWgsl(wide, { maxBatch: 8 }))).toEqual(["NET7004"]);
    const fitted = compileWgsl(wide, { maxBatch: 8, fitMaxBatch: true });
    expect(fitted.diagnostics.map((d) => d.code)).toEqual(["NET7025"]);
    expect(fitted.program!.manifest.batch).toEqual({ symbol: "B", max: 4 });
    // An op along the batch is no matter of size: refused at every batch, not lowered to a bundle of one.
    const mixed = graphOfSource("model M()(x: f32[B, 4]) -> f32[1, 4] {\n  return sum(x, [0], keepdims = true)\n}\n");
    expect(codes(compileWgsl(mixed, { maxBatch: 8, fitMaxBatch: true }))).toEqual(["NET7024"]);
  });

  it("tiny: the generated WGSL (golden)", () => {
    const { program } = compileWgsl(graphOf("examples/tiny.net", {}), { maxBatch: MAX });
    const text = program!.manifest.kernels
      .map((k) => `// ${k.name} ${JSON.stringify(k.dispatch ?? null)}\n${program!.shaders.get(k.shader)}`)
      .join("\n");
    const golden = "test/wgsl/golden/tiny-runtime-batch.wgsl";
    if (process.env.UPDATE_GOLDEN) writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, "utf8"));
  });

  it("size a tiled convolution's grid by the batch: its pixel columns grow with it, its channel tiles do not", () => {
    const { program, diagnostics } = compileWgsl(graphOf(CONV[1], {}), { maxBatch: MAX });
    expect(codes({ diagnostics })).toEqual([]);
    const [conv] = program!.manifest.kernels;
    expect(program!.shaders.get(conv.shader)).toContain("var<workgroup> tileX");
    expect(conv.batchBinding).toBeDefined();
    // 17 x 19 pixels per item in columns of 16 (the tile width at 3 x 323 pixels), 40 channels in one tile of 64.
    expect(conv.dispatch).toEqual({
      x: [{ perBatch: 17 * 19, fixed: 0, divisor: 16 }],
      y: [{ perBatch: 0, fixed: 40, divisor: 64 }],
      z: [{ perBatch: 0, fixed: 1, divisor: 1 }],
    });
  });

  it("manifests that break the batch fields are refused", () => {
    const { program } = compileWgsl(graphOf("examples/tiny.net", {}), { maxBatch: MAX });
    const broken = (edit: (m: ReturnType<typeof JSON.parse>) => void) => {
      const m = JSON.parse(JSON.stringify(bundleOf(program!).manifest));
      edit(m);
      return () => validateManifest(m);
    };
    expect(broken((m) => delete m.batch)).toThrow(/inputs\[0\]\.batched/);
    expect(broken((m) => (m.batch.max = 5))).toThrow(/multiple of batch.max/);
    expect(broken((m) => (m.kernels[0].dispatch.x[0].divisor = 0))).toThrow(/dispatch.x\[0\].divisor/);
    expect(broken((m) => (m.kernels[0].batchBinding = 0))).toThrow(/batchBinding/);
  });

  it("tiny: the ONNX fallback keeps the batch symbolic and runs batch 1 and 3 as the interpreter does", async () => {
    const dir = mkdtempSync(join(tmpdir(), "netc-batch-fallback-"));
    try {
      const out = join(dir, "bundle");
      const r = compileFile("examples/tiny.net", out, { target: "wgsl", maxBatch: MAX });
      expect(codes(r)).toEqual([]);
      const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
      expect(manifest.batch).toEqual({ symbol: "B", max: MAX });
      const graph = graphOf("examples/tiny.net", {});
      for (const b of [1, 3]) {
        const x = random("f32", [b, 8, 64], 20 + b);
        const [got] = (await runOnnx(join(out, manifest.fallback.onnx), { frames: x })).values();
        const [want] = interpret(graph, new Map([["frames", x]]), new Map(), { seed: 0 }).outputs.values();
        expect(got.shape).toEqual([b, 7]);
        const worst = Math.max(
          ...Array.from(got.data as Float32Array, (v, i) => Math.abs(v - (want.data as Float32Array)[i])),
        );
        expect(worst, `batch ${b}`).toBeLessThan(1e-4);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.skipIf(!gpu)(`on WebGPU${reason ? ` (skipped: ${reason})` : ""}`, () => {
    afterAll(() => gpu?.release());

    it.each([TINY, MINI, CONV, LSTM])(
      "%s: one bundle gives the static bundle's rows at batch 1, 2 and 3, and refuses batch 4",
      async (_name, file, sets) => {
        const { program, diagnostics } = compileWgsl(graphOf(file, sets), { maxBatch: MAX });
        expect(codes({ diagnostics })).toEqual([]);
        const batched = await WgslModel.create(gpu!.device, bundleOf(program!));
        const input = program!.manifest.inputs[0];
        const row = input.shape.slice(1);
        try {
          for (const b of [1, 2, 3]) {
            const x = random("f32", [b, ...row], 10 + b);
            const staticProgram = compileWgsl(graphOf(file, { ...sets, B: String(b) })).program!;
            const single = await WgslModel.create(gpu!.device, bundleOf(staticProgram));
            const [got, want] = [await batched.run({ [input.name]: x }), await single.run({ [input.name]: x })];
            single.destroy();
            for (const [name, t] of Object.entries(want)) {
              expect(got[name].shape, name).toEqual(t.shape);
              expect(Array.from(got[name].data as Float32Array), `${name} at batch ${b}`).toEqual(
                Array.from(t.data as Float32Array),
              );
            }
          }
          await expect(batched.run({ [input.name]: random("f32", [MAX + 1, ...row], 1) })).rejects.toThrow(
            /no batch from 1 to 3: the bundle runs B = 1 to 3/,
          );
          // An array is read by its element count: a part of a batch item is no batch either.
          await expect(
            batched.run({ [input.name]: new Float32Array(row.reduce((p, d) => p * d, 1) + 1) }),
          ).rejects.toThrow(/no batch from 1 to 3/);
        } finally {
          batched.destroy();
        }
      },
      300_000,
    );
  });
});
