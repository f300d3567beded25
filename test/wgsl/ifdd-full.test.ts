// The full-size IFDD on the shared fixture clip, on WebGPU, against onnxruntime on the same compiled graph and
// against the official PyTorch logits. Too slow for CI on a software adapter (tens of minutes on SwiftShader),
// so it runs only when asked:  NETC_FULL_IFDD=1 npx vitest run test/wgsl/ifdd-full.test.ts
import { existsSync, readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { compileToGraph } from "../../src/driver.js";
import { readNpyFile } from "../../src/util/npy.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { loadModelWeights } from "../../src/weights/model-weights.js";
import { loadGraph, maxAbsDiff, onnxReference, TOLERANCE, tryGpu } from "./helpers.js";

const FIXTURES = "../shared/fixtures/ifdd";
const why = !process.env.NETC_FULL_IFDD
  ? "set NETC_FULL_IFDD=1 to run it"
  : !existsSync(`${FIXTURES}/ifdd_dfew_random.pth`)
    ? `${FIXTURES} is missing`
    : undefined;
const { gpu, reason } = why ? { gpu: undefined, reason: why } : await tryGpu();

const npy = (file: string): HostTensor => {
  const r = readNpyFile(file);
  if (!r.ok) throw new Error(r.diagnostic.message);
  return r.tensor;
};

describe.skipIf(!gpu)(`full IFDD on WebGPU${reason ? ` (skipped: ${reason})` : ""}`, () => {
  afterAll(() => gpu?.release());

  it("matches onnxruntime and the official logits", async () => {
    const file = "models/ifdd.net";
    const front = compileToGraph(readFileSync(file, "utf8"), { file, overrides: { B: "1" }, target: "wgsl" });
    const graph = front.graph!;
    const { weights, diagnostics } = loadModelWeights(
      graph,
      [{ path: `${FIXTURES}/ifdd_dfew_random.pth` }],
      front.weightRules,
    );
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const inputs = new Map([["video", npy(`${FIXTURES}/input.npy`)]]);
    const { model } = await loadGraph(gpu!, graph, { weights });
    const started = performance.now();
    const got = await model.run(Object.fromEntries(inputs));
    console.log(
      `IFDD on ${gpu!.adapter.info.description || "the adapter"}: ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    model.destroy();
    const onnx = await onnxReference(graph, inputs, { weights });
    const [vsOnnx, vsOfficial] = [
      maxAbsDiff(got.logits, onnx.get("logits")!),
      maxAbsDiff(got.logits, npy(`${FIXTURES}/logits.npy`)),
    ];
    console.log(
      `logits: max abs diff ${vsOnnx.toExponential(2)} vs onnxruntime, ${vsOfficial.toExponential(2)} vs the ` +
        `official PyTorch`,
    );
    expect(vsOnnx).toBeLessThanOrEqual(TOLERANCE);
    expect(vsOfficial).toBeLessThanOrEqual(TOLERANCE);
  }, 3_600_000);
});
