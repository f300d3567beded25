// The fallback where WebGPU cannot run a bundle: the compile writes the same model as ONNX into the bundle
// (model.onnx, named with its size and hash in the manifest), and in headless Chromium with WebGPU switched off
// loadModel runs it on onnxruntime-web (wasm), says so, and returns what onnxruntime-node computes on that ONNX.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Server } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { runOnnx } from "../../src/backends/onnx/run.js";
import { emitToDisk, prepare } from "../../src/pipeline.js";
import { adapterShortfall, loadModel } from "../../src/runtime/load-model.js";
import { random } from "../helpers/ir.js";
import { CLIP_SHAPE, MINI, reducedIfdd, tempDir } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const TOLERANCE = 1e-3;
const playwright = await import("playwright-core").catch(() => undefined);
const why = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is missing (apt-get install chromium)`
  : !playwright
    ? "playwright-core is not installed"
    : undefined;

const { serveExample } = (await import("../../examples/web/serve.mjs" as string)) as {
  serveExample: (o: { bundle: string; port: number }) => Promise<{ server: Server; url: string }>;
};

/** The reduced IFDD through the driver, as `netc compile --target wgsl` writes it (with or without the fallback). */
function compiledBundle(fallback: boolean): string {
  const model = reducedIfdd();
  const file = MINI;
  const dir = join(tempDir("fallback"), "bundle");
  const prepared = prepare(readFileSync(file, "utf8"), { file, overrides: { B: "1" }, weights: model.weights });
  rmSync(model.dir, { recursive: true, force: true });
  const r = emitToDisk({ ...prepared, graph: prepared.graph! }, dir, { target: "wgsl", fallback, seed: 11, file });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return dir;
}

describe("the ONNX fallback of a WGSL bundle", () => {
  const dir = compiledBundle(true);
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  let served: { server: Server; url: string } | undefined;
  afterAll(() => {
    served?.server.close();
    rmSync(join(dir, ".."), { recursive: true, force: true });
  });

  it(
    "is model-<hash>.onnx in the bundle, named in the manifest with its size and hash; --no-fallback leaves " +
      "it out",
    () => {
      const onnx = readFileSync(join(dir, manifest.fallback.onnx));
      const sha256 = createHash("sha256").update(onnx).digest("hex");
      expect(manifest.fallback).toEqual({ onnx: `model-${sha256.slice(0, 16)}.onnx`, bytes: onnx.length, sha256 });
      const without = compiledBundle(false);
      try {
        expect(readdirSync(without).filter((f) => f.endsWith(".onnx"))).toEqual([]);
        expect(JSON.parse(readFileSync(join(without, "manifest.json"), "utf8")).fallback).toBeUndefined();
      } finally {
        rmSync(join(without, ".."), { recursive: true, force: true });
      }
    },
  );

  it("names what an adapter lacks, and without WebGPU or a fallback loadModel fails with NET7040", async () => {
    const adapter = (features: string[], limits: Record<string, number>) =>
      ({ features: new Set(features), limits }) as unknown as GPUAdapter;
    const needs = {
      ...manifest,
      requiredFeatures: ["shader-f16"],
      requiredLimits: { maxStorageBufferBindingSize: 1 << 28 },
    };
    expect(adapterShortfall(adapter([], { maxStorageBufferBindingSize: 1 << 30 }), needs)).toBe(
      "the WebGPU adapter lacks the feature shader-f16",
    );
    expect(adapterShortfall(adapter(["shader-f16"], { maxStorageBufferBindingSize: 1 << 27 }), needs)).toBe(
      `the WebGPU adapter's maxStorageBufferBindingSize is ${1 << 27}; the bundle needs ${1 << 28}`,
    );
    expect(adapterShortfall(adapter(["shader-f16"], { maxStorageBufferBindingSize: 1 << 28 }), needs)).toBeUndefined();

    const without = compiledBundle(false);
    try {
      const fromDisk = (async (url: URL) =>
        new Response(readFileSync(join(without, url.pathname.slice("/b/".length))))) as unknown as typeof fetch;
      await expect(loadModel("http://bundle.test/b/", { fetch: fromDisk, gpu: undefined })).rejects.toMatchObject({
        code: "NET7040",
        message:
          "this browser has no WebGPU (navigator.gpu is missing), and the bundle has no ONNX fallback for " +
          "onnxruntime-web (wasm) (it was compiled with --no-fallback)",
      });
    } finally {
      rmSync(join(without, ".."), { recursive: true, force: true });
    }
  });

  // Headless Chromium here has navigator.gpu but no adapter; a page without navigator.gpu at all is the other case.
  const cases = [
    { name: "no WebGPU adapter", removeGpu: false, reason: "no WebGPU adapter answered" },
    { name: "no navigator.gpu", removeGpu: true, reason: "this browser has no WebGPU (navigator.gpu is missing)" },
  ];
  it.skipIf(why).each(cases)(
    `in Chromium with $name: runs on onnxruntime-web and matches onnxruntime-node${why ? ` (skipped: ${why})` : ""}`,
    async ({ removeGpu, reason }) => {
      served ??= await serveExample({ bundle: dir, port: 0 });
      const clip = random("f32", CLIP_SHAPE, 41, 0, 1).data as Float32Array;
      const want = (
        await runOnnx(
          readFileSync(join(dir, manifest.fallback.onnx)),
          new Map([["video", { dtype: "f32", shape: CLIP_SHAPE, data: clip }]]),
        )
      ).get("logits")!;
      const browser = await playwright!.chromium.launch({ executablePath: CHROMIUM });
      try {
        const page = await browser.newPage();
        if (removeGpu) await page.addInitScript("delete Navigator.prototype.gpu");
        const requests: string[] = [];
        page.on("request", (r) => void requests.push(new URL(r.url()).pathname));
        await page.goto(`${served.url}bundle/manifest.json`);
        // A string, not a function: the test runner rewrites import() inside functions it compiles. The page has no
        // import map, so onnxruntime-web is handed over as a module, as a bundler would resolve it.
        const result = (await page.evaluate(`(async () => {
        const { loadModel } = await import("/netc/runtime/index.js");
        const ort = await import("/ort/ort.wasm.min.mjs");
        const model = await loadModel("/bundle/", { ort });
        const out = await model.run({ video: new Float32Array(${JSON.stringify(Array.from(clip))}) });
        const [logits, shape] = [Array.from(out.logits.data), out.logits.shape];
        return { gpu: "gpu" in navigator, backend: model.backend, reason: model.reason, shape, logits };
      })()`)) as { gpu: boolean; backend: string; reason: string; shape: number[]; logits: number[] };
        expect(result).toMatchObject({ gpu: !removeGpu, backend: "onnxruntime-web (wasm)", reason, shape: want.shape });
        const expected = want.data as Float32Array;
        expect(result.logits).toHaveLength(expected.length);
        const worst = Math.max(...result.logits.map((v, i) => Math.abs(v - expected[i])));
        expect(worst).toBeLessThanOrEqual(TOLERANCE);
        // Only the fallback's side of the bundle was downloaded.
        expect(requests).toContain(`/bundle/${manifest.fallback.onnx}`);
        expect(requests.filter((p) => p.endsWith(".bin") || p.endsWith(".wgsl"))).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    120_000,
  );
});
