// The runtime: typed inputs in, typed outputs out, reusable across runs; bad inputs, broken shaders and a lost
// device are errors, never hangs. Also the plans that only run correctly if chunking and binding limits work.
import { afterAll, describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { requestDeviceFor } from "../../src/runtime/device.js";
import { WgslModel, WgslRuntimeError } from "../../src/runtime/model.js";
import {
  createNodeAdapter,
  createNodeDevice,
  readBundleDir,
  runBundleDir,
  runBundleDirWith,
} from "../../src/runtime/node.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { at, random, tensor } from "../helpers/ir.js";
import { loadGraph, maxAbsDiff, onnxReference, TOLERANCE, tryGpu } from "./helpers.js";

/** y = gelu-ish(x @ w + b) and an i64 argmax, so inputs and outputs of several types cross the boundary. */
function smallModel() {
  const b = new GraphBuilder("small");
  const x = b.input("x", "f32", [3, 40], at(1));
  const w = b.param({ path: "w", dtype: "f32", shape: [40, 30], unused: false, span: at(2).span });
  const bias = b.param({ path: "b", dtype: "f32", shape: [30], unused: false, span: at(2).span });
  const h = b.op1("add", {}, [b.op1("matmul", {}, [x, w], at(3)), bias], at(3));
  const y = b.op1("mul", {}, [h, b.op1("sigmoid", {}, [h], at(4))], at(4));
  b.output("y", y);
  b.output("best", b.op1("argmax", { axis: -1, keepdims: false }, [y], at(5)));
  const weights = new Map([
    ["w", random("f32", [40, 30], 2)],
    ["b", random("f32", [30], 3)],
  ]);
  return { graph: b.graph, weights };
}

/** Five inputs summed through inlined adds: with four bindings allowed the planner must store partial sums. */
function wideSum() {
  const b = new GraphBuilder("wide");
  const xs = Array.from({ length: 5 }, (_, i) => b.input(`x${i}`, "f32", [4, 6], at(1)));
  const pair = (p: (typeof xs)[number], q: (typeof xs)[number], line: number) => b.op1("add", {}, [p, q], at(line));
  b.output("y", pair(pair(pair(xs[0], xs[1], 2), pair(xs[2], xs[3], 3), 4), xs[4], 5));
  return b.graph;
}

const { gpu, reason } = await tryGpu();

describe.skipIf(!gpu)(`the WebGPU runtime${reason ? ` (skipped: ${reason})` : ""}`, () => {
  afterAll(() => gpu?.release());

  async function expectMatchesOnnx(
    model: WgslModel,
    graph: GraphBuilder["graph"],
    inputs: Map<string, HostTensor>,
    weights?: Map<string, HostTensor>,
  ) {
    const [got, want] = await Promise.all([
      model.run(Object.fromEntries(inputs)),
      onnxReference(graph, inputs, { weights }),
    ]);
    for (const [name, t] of want) expect(maxAbsDiff(got[name], t), name).toBeLessThanOrEqual(TOLERANCE);
  }

  it("runs a model repeatedly with fresh inputs, typed arrays or tensors", async () => {
    const { graph, weights } = smallModel();
    const { model } = await loadGraph(gpu!, graph, { weights });
    for (const seed of [1, 2])
      await expectMatchesOnnx(model, graph, new Map([["x", random("f32", [3, 40], seed)]]), weights);
    const out = await model.run({ x: new Float32Array(120).fill(0.5) });
    expect(out.best.dtype).toBe("i64");
    expect(out.best.data).toBeInstanceOf(BigInt64Array);
    expect(out.y.shape).toEqual([3, 30]);
    model.destroy();
  });

  it("gives the right answers when weights are split across bindings", async () => {
    const { graph, weights } = smallModel();
    const { model } = await loadGraph(gpu!, graph, { weights, limits: { maxStorageBufferBindingSize: 1024 } });
    expect(model.manifest.buffers.filter((buf) => buf.weight?.startsWith("w#"))).toHaveLength(5);
    await expectMatchesOnnx(model, graph, new Map([["x", random("f32", [3, 40], 4)]]), weights);
    model.destroy();
  });

  it("stores partial results when a fused kernel would exceed the binding limit", async () => {
    const graph = wideSum();
    const { model } = await loadGraph(gpu!, graph, { limits: { maxStorageBuffersPerShaderStage: 4 } });
    expect(model.manifest.kernels.length).toBeGreaterThan(1);
    expect(Math.max(...model.manifest.kernels.map((k) => k.bindings.length))).toBeLessThanOrEqual(4);
    await expectMatchesOnnx(
      model,
      graph,
      new Map(Array.from({ length: 5 }, (_, i) => [`x${i}`, random("f32", [4, 6], 10 + i)])),
    );
    model.destroy();
  });

  it("rejects bad inputs with errors that name the input", async () => {
    const b = new GraphBuilder("ints");
    const i = b.input("i", "i64", [3], at(1));
    b.output("j", b.op1("add", {}, [i, i], at(2)));
    const { model } = await loadGraph(gpu!, b.graph);
    await expect(model.run({})).rejects.toThrow(/no value for the input i/);
    await expect(model.run({ i: new BigInt64Array(3), k: new BigInt64Array(3) })).rejects.toThrow(/no input k/);
    await expect(model.run({ i: new BigInt64Array(2) })).rejects.toThrow(/has 2 elements, the model expects 3/);
    await expect(model.run({ i: tensor("f32", [3], [1, 2, 3]) })).rejects.toThrow(
      /is f32\[3\], the model expects i64\[3\]/,
    );
    await expect(model.run({ i: tensor("i64", [3], [1, 2 ** 40, 3]) })).rejects.toThrow(WgslRuntimeError);
    expect((await model.run({ i: tensor("i64", [3], [1, -2, 3]) })).j.data).toEqual(new BigInt64Array([2n, -4n, 6n]));
    model.destroy();
    await expect(model.run({ i: new BigInt64Array(3) })).rejects.toThrow(/destroyed/);
  });

  it("names the kernel and its .net line when a shader does not compile", async () => {
    const { graph, weights } = smallModel();
    const { dir } = await loadGraph(gpu!, graph, { weights });
    const bundle = readBundleDir(dir);
    const first = bundle.manifest.kernels[0];
    const shaders = new Map(bundle.shaders).set(first.shader, "fn main( {");
    await expect(WgslModel.create(gpu!.device, { ...bundle, shaders })).rejects.toThrow(
      new RegExp(`kernel ${first.name} \\(test.net:3:1\\) does not compile`),
    );
  });

  it("fails runs on a lost device instead of hanging", async () => {
    const own = await createNodeDevice();
    const { graph, weights } = smallModel();
    const { model } = await loadGraph(own, graph, { weights });
    own.release();
    await expect(model.run({ x: new Float32Array(120) })).rejects.toThrow(/device was lost/);
  });

  it("ends a run that passes its timeoutMs with NET7013, while runs in time succeed", async () => {
    const own = await createNodeDevice();
    const { graph, weights } = smallModel();
    const { model } = await loadGraph(own, graph, { weights });
    const x = new Float32Array(120).fill(0.5);
    expect((await model.run({ x }, { timeoutMs: 60_000 })).y.shape).toEqual([3, 30]);
    await expect(model.run({ x }, { timeoutMs: 0 })).rejects.toThrow(
      /timeoutMs is 0; expected a whole number of milliseconds/,
    );
    // A stalled device: reading the outputs back never completes.
    const staging = (model as unknown as { staging: GPUBuffer[] }).staging;
    Object.defineProperty(staging[0], "mapAsync", { value: () => new Promise(() => {}) });
    await expect(model.run({ x }, { timeoutMs: 50 })).rejects.toMatchObject({
      code: "NET7013",
      message: "the GPU run did not finish within 50 ms",
    });
    // A later run waits behind the stalled one, and its own limit ends it too.
    await expect(model.run({ x }, { timeoutMs: 50 })).rejects.toMatchObject({ code: "NET7013" });
    model.destroy();
    own.release();
  });

  it.skipIf(gpu?.device.features.has("shader-f16"))(
    "refuses an f16 bundle on a device without shader-f16, saying what is missing",
    async () => {
      const { graph, weights } = smallModel();
      await expect(loadGraph(gpu!, graph, { weights, precision: "f16" })).rejects.toThrow(
        /needs the device feature shader-f16/,
      );
    },
  );

  it("requestDeviceFor caps limits at the adapter's, so the runtime can name a real shortfall", async () => {
    const { graph, weights } = smallModel();
    const { dir } = await loadGraph(gpu!, graph, { weights });
    const bundle = readBundleDir(dir);
    const adapter = await createNodeAdapter();
    const adapterMax = adapter.limits.maxStorageBufferBindingSize;
    const greedy = {
      ...bundle.manifest,
      requiredLimits: { ...bundle.manifest.requiredLimits, maxStorageBufferBindingSize: adapterMax + 1024 },
    };
    const device = await requestDeviceFor(adapter, greedy);
    try {
      expect(device.limits.maxStorageBufferBindingSize).toBe(adapterMax);
      await expect(WgslModel.create(device, { ...bundle, manifest: greedy })).rejects.toThrow(
        `the bundle needs maxStorageBufferBindingSize >= ${adapterMax + 1024}; the device has ${adapterMax}`,
      );
      const model = await WgslModel.create(device, bundle); // what the bundle really needs fits
      const x = random("f32", [3, 40], 11);
      const want = await onnxReference(graph, new Map([["x", x]]), { weights });
      expect(maxAbsDiff((await model.run({ x })).y, want.get("y")!)).toBeLessThanOrEqual(TOLERANCE);
      model.destroy();
    } finally {
      device.destroy();
    }
  });

  it("profiles a run: one GPU time per kernel, and the same outputs as run", async () => {
    const { graph, weights } = smallModel();
    const { dir } = await loadGraph(gpu!, graph, { weights });
    const x = random("f32", [3, 40], 12);
    const { outputs, kernels } = await runBundleDirWith(dir, { x }, { profiling: true });
    const manifest = readBundleDir(dir).manifest;
    expect(kernels!.map((k) => k.kernel)).toEqual(manifest.kernels.map((k) => k.name));
    expect(kernels!.every((k) => Number.isFinite(k.ms) && k.ms >= 0)).toBe(true);
    expect(kernels!.reduce((s, k) => s + k.ms, 0)).toBeGreaterThan(0);
    expect(kernels![0].ops[0]).toBe("matmul");
    expect(maxAbsDiff(outputs.y, (await runBundleDir(dir, { x })).y)).toBe(0);
  });

  it("refuses to profile on a device without timestamp-query", async () => {
    const { graph, weights } = smallModel();
    const { dir } = await loadGraph(gpu!, graph, { weights });
    const plain = await createNodeDevice(readBundleDir(dir).manifest); // profiling not asked for
    try {
      const model = await WgslModel.create(plain.device, readBundleDir(dir));
      await expect(model.profile({ x: random("f32", [3, 40], 13) })).rejects.toThrow(
        /profiling needs the device feature timestamp-query/,
      );
    } finally {
      plain.release();
    }
  });

  it("runs a bundle folder in one call (what `netc run <bundle-dir>` does)", async () => {
    const { graph, weights } = smallModel();
    const { dir } = await loadGraph(gpu!, graph, { weights });
    const x = random("f32", [3, 40], 9);
    const [got, want] = await Promise.all([
      runBundleDir(dir, { x }),
      onnxReference(graph, new Map([["x", x]]), { weights }),
    ]);
    expect(maxAbsDiff(got.y, want.get("y")!)).toBeLessThanOrEqual(TOLERANCE);
  });
});
