// netc/runtime is browser-safe: an app that uses it bundles for the browser (esbuild, platform "browser") with no
// Node built-in and no native package in the bundle; onnxruntime-web's browser build (the ONNX fallback) only in a
// chunk of its own, loaded when a fallback runs. The Node entry, for contrast, cannot bundle so.
import { resolve } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

const APP = `
import { loadBundle, requestDeviceFor, WgslModel } from "./src/runtime/index.ts";
const bundle = await loadBundle("/model-wgsl/");
const adapter = await navigator.gpu.requestAdapter();
const model = await WgslModel.create(await requestDeviceFor(adapter, bundle.manifest), bundle);
console.log(await model.run({ x: new Float32Array(4) }));
`;

async function bundleApp(contents: string) {
  return build({
    stdin: { contents, resolveDir: ROOT, loader: "ts", sourcefile: "app.ts" },
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    splitting: true,
    outdir: "out",
    metafile: true,
    logLevel: "silent",
  });
}

describe("the browser runtime", () => {
  it("bundles for the browser without Node built-ins or native packages", async () => {
    const result = await bundleApp(APP);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain("src/runtime/model.ts");
    const ortWeb = (p: string) => /node_modules\/onnxruntime-web\/dist\/ort\.wasm\.bundle\.min\.mjs$/.test(p);
    expect(
      inputs.filter((p) => !ortWeb(p) && /^node:|node_modules|src\/(cli|weights|backends|compiler)\//.test(p)),
    ).toEqual([]);
    const entry = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined)!;
    expect(Object.keys(entry.inputs)).toContain("src/runtime/model.ts");
    expect(Object.keys(entry.inputs).filter(ortWeb)).toEqual([]);
    for (const file of result.outputFiles) expect(file.text).not.toMatch(/\brequire\(|from "node:|import\("node:/);
  });

  it("the Node entry does not (the check above can fail)", async () => {
    await expect(
      bundleApp(`import { readBundleDir } from "./src/runtime/node.ts";\nconsole.log(readBundleDir);`),
    ).rejects.toThrow(/node:fs|node:path|node:os/);
  });
});
