// netc/runtime is browser-safe: an app that uses it bundles for the browser (esbuild, platform "browser") with no
// Node built-in and no native package in the bundle. The Node entry, for contrast, cannot bundle so.
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
    metafile: true,
    logLevel: "silent",
  });
}

describe("the browser runtime", () => {
  it("bundles for the browser without Node built-ins or native packages", async () => {
    const result = await bundleApp(APP);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain("src/runtime/model.ts");
    expect(inputs.filter((p) => /^node:|node_modules|src\/(cli|weights|backends|compiler)\//.test(p))).toEqual([]);
    const code = result.outputFiles[0].text;
    expect(code).not.toMatch(/\brequire\(|from "node:|import\("node:/);
  });

  it("the Node entry does not (the check above can fail)", async () => {
    await expect(
      bundleApp(`import { readBundleDir } from "./src/runtime/node.ts";\nconsole.log(readBundleDir);`),
    ).rejects.toThrow(/node:fs|node:path|node:os/);
  });
});
