// The two back ends of a bundle with a run-time batch accept the same requests and refuse the others with the same
// error: WebGPU (WgslModel) and the ONNX fallback (OnnxFallbackModel, here on onnxruntime-node behind the module
// interface onnxruntime-web offers, so the fallback's own input handling runs on the bundle's own model.onnx).
// A batch above the maximum is NET7060 on both; an input that does not grow with the batch keeps its shape.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ortNode from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import { compileFile } from "../../src/api.js";
import { type OrtModule, OnnxFallbackModel } from "../../src/runtime/fallback.js";
import type { BundleManifest } from "../../src/runtime/manifest.js";
import { type ModelInput, WgslModel } from "../../src/runtime/model.js";
import { readBundleDir } from "../../src/runtime/node.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { tryGpu } from "./helpers.js";

const MAX = 3;
// `x` grows with the batch; `bias` does not (the old fallback read every input as batched).
const SOURCE = `model Shift()(x: f32[B, 2, 4], bias: f32[4]) -> f32[B, 4] {
  return mean(x, [1]) * 2.0 + bias
}
`;

const ortOnNode: OrtModule = {
  InferenceSession: { create: (model: Uint8Array) => ortNode.InferenceSession.create(model) },
  Tensor: ortNode.Tensor as unknown as OrtModule["Tensor"],
};

const tensor = (shape: number[], start = 0): HostTensor => ({
  dtype: "f32",
  shape,
  data: Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => start + i / 8),
});
const array = (n: number) => Float32Array.from({ length: n }, (_, i) => i / 4);

/** Each request, and what a back end makes of it: the outputs, or the error's code and message. */
const REQUESTS: [string, Record<string, ModelInput>][] = [
  ["batch 1, tensors", { x: tensor([1, 2, 4]), bias: tensor([4], 1) }],
  ["batch 3, tensors", { x: tensor([3, 2, 4]), bias: tensor([4], 1) }],
  ["batch 2, arrays", { x: array(16), bias: array(4) }],
  ["batch 4, a tensor", { x: tensor([4, 2, 4]), bias: tensor([4]) }],
  ["batch 4, an array", { x: array(32), bias: array(4) }],
  ["batch 0", { x: tensor([0, 2, 4]), bias: tensor([4]) }],
  ["part of an item", { x: array(12), bias: array(4) }],
  ["bias at the batch", { x: tensor([2, 2, 4]), bias: tensor([2, 4]) }],
  ["bias too long", { x: array(8), bias: array(5) }],
  ["bias missing", { x: array(8) }],
  ["an unknown input", { x: array(8), bias: array(4), scale: array(1) }],
  ["an i32 tensor", { x: { dtype: "i32", shape: [1, 2, 4], data: new Int32Array(8) }, bias: array(4) }],
];

type Outcome = { shape: number[]; data: number[] } | { code: string; message: string };

async function outcomes(model: {
  run(i: Readonly<Record<string, ModelInput>>): Promise<Record<string, HostTensor>>;
}): Promise<[string, Outcome][]> {
  const out: [string, Outcome][] = [];
  for (const [name, inputs] of REQUESTS) {
    try {
      const [y] = Object.values(await model.run(inputs));
      out.push([name, { shape: y.shape, data: Array.from(y.data as Float32Array) }]);
    } catch (e) {
      out.push([name, { code: (e as { code?: string }).code ?? "none", message: (e as Error).message }]);
    }
  }
  return out;
}

const { gpu, reason } = await tryGpu();
const dir = mkdtempSync(join(tmpdir(), "netc-fallback-inputs-"));
afterAll(() => {
  gpu?.release();
  rmSync(dir, { recursive: true, force: true });
});

function compiled(): { out: string; manifest: BundleManifest } {
  const file = join(dir, "shift.net");
  writeFileSync(file, SOURCE);
  const out = join(dir, "bundle");
  const r = compileFile(file, out, { target: "wgsl", maxBatch: MAX });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return { out, manifest: JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) };
}

describe("a bundle's inputs on WebGPU and on the ONNX fallback", () => {
  const { out, manifest } = compiled();

  it("the fallback runs batches 1 to the maximum, keeps an unbatched input's shape, and refuses the rest", async () => {
    expect(manifest.batch).toEqual({ symbol: "B", max: MAX });
    expect(manifest.inputs.map((s) => [s.name, s.batched ?? false])).toEqual([
      ["x", true],
      ["bias", false],
    ]);
    const fallback = await OnnxFallbackModel.create(
      manifest,
      readFileSync(join(out, manifest.fallback!.onnx)),
      "test",
      ortOnNode,
    );
    try {
      const got = new Map(await outcomes(fallback));
      // batch 3: row b of the output is mean over x's two rows of item b, times 2, plus bias.
      const x = tensor([3, 2, 4]).data as Float32Array;
      const want = Array.from({ length: 12 }, (_, k) => {
        const [b, c] = [Math.floor(k / 4), k % 4];
        return x[b * 8 + c] + x[b * 8 + 4 + c] + (1 + c / 8);
      });
      const batch3 = got.get("batch 3, tensors") as { shape: number[]; data: number[] };
      expect(batch3.shape).toEqual([3, 4]);
      batch3.data.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
      expect(got.get("batch 2, arrays")).toMatchObject({ shape: [2, 4] });
      for (const refused of ["batch 4, a tensor", "batch 4, an array", "batch 0", "part of an item"])
        expect(got.get(refused), refused).toMatchObject({
          code: "NET7060",
          message: expect.stringContaining("which is no batch from 1 to 3: the bundle runs B = 1 to 3"),
        });
      expect(got.get("bias at the batch")).toEqual({
        code: "NET7010",
        message: "the input bias is f32[2,4], the model expects f32[4]",
      });
      expect(got.get("bias missing")).toEqual({ code: "NET7010", message: "no value for the input bias" });
      expect(got.get("an unknown input")).toEqual({ code: "NET7010", message: "the model has no input scale" });
    } finally {
      fallback.destroy();
    }
  });

  it.skipIf(!gpu)(
    `WebGPU gives the same outputs (within 1e-3) and the same errors for every request${
      reason ? ` (skipped: ${reason})` : ""
    }`,
    async () => {
      const fallback = await OnnxFallbackModel.create(
        manifest,
        readFileSync(join(out, manifest.fallback!.onnx)),
        "test",
        ortOnNode,
      );
      const webgpu = await WgslModel.create(gpu!.device, readBundleDir(out));
      try {
        const [onFallback, onWebgpu] = [await outcomes(fallback), await outcomes(webgpu)];
        expect(onWebgpu.map(([name]) => name)).toEqual(onFallback.map(([name]) => name));
        onFallback.forEach(([name, want], i) => {
          const got = onWebgpu[i][1];
          if ("code" in want) return expect(got, name).toEqual(want);
          expect("shape" in got && got.shape, name).toEqual(want.shape);
          const worst = Math.max(0, ...want.data.map((v, k) => Math.abs(v - (got as { data: number[] }).data[k])));
          expect(worst, name).toBeLessThan(1e-3);
        });
      } finally {
        fallback.destroy();
        webgpu.destroy();
      }
    },
    120_000,
  );
});
