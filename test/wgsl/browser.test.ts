// A compiled bundle in a real browser: headless Chromium (Debian's, driven by playwright-core) loads model.js from
// a page on 127.0.0.1, with `netc/runtime` mapped to the runtime's sources, and must give Node's outputs.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative } from "node:path";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { at, random } from "../helpers/ir.js";
import { maxAbsDiff, onnxReference, TOLERANCE, tempDir } from "./helpers.js";
import { emitWgslBundle } from "../../src/backends/wgsl/index.js";

const CHROMIUM = "/usr/bin/chromium";

/** The runtime's modules as the browser gets them: TypeScript with the types stripped, same paths. */
function runtimeFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const sources = [
    ...readdirSync("src/runtime")
      .filter((f) => f.endsWith(".ts") && f !== "node.ts")
      .map((f) => `src/runtime/${f}`),
    "src/util/tensor.ts",
  ];
  for (const path of sources) {
    const js = ts.transpileModule(readFileSync(path, "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    files.set(`/${path.replace(/\.ts$/, ".js")}`, js);
  }
  return files;
}

const PAGE = `<!doctype html>
<script type="importmap">{ "imports": { "netc/runtime": "/src/runtime/index.js" } }</script>
<script type="module">
  import { load } from "/bundle/model.js";
  window.result = (async () => {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return { error: "no WebGPU adapter in the page" };
    const model = await load(await adapter.requestDevice());
    const x = new Float32Array(await (await fetch("/x.json")).json());
    const out = await model.run({ x });
    return Object.fromEntries(Object.entries(out).map(([name, t]) => [name, Array.from(t.data, Number)]));
  })().catch((e) => ({ error: String(e) }));
</script>`;

function serve(files: Map<string, string | Buffer>): Promise<Server> {
  const types: Record<string, string> = {
    js: "text/javascript",
    json: "application/json",
    html: "text/html",
    wgsl: "text/plain",
  };
  const server = createServer((req, res) => {
    const body = files.get(req.url ?? "");
    if (body === undefined) return void res.writeHead(404).end();
    res
      .writeHead(200, { "content-type": types[(req.url ?? "").split(".").pop()!] ?? "application/octet-stream" })
      .end(body);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function bundleFiles(dir: string, files: Map<string, string | Buffer>, root = dir): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) bundleFiles(path, files, root);
    else files.set(`/bundle/${relative(root, path)}`, readFileSync(path));
  }
}

const playwright = await import("playwright-core").catch(() => undefined);
const why = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is missing (apt-get install chromium)`
  : !playwright
    ? "playwright-core is not installed"
    : undefined;

describe.skipIf(why)(`a bundle in headless Chromium${why ? ` (skipped: ${why})` : ""}`, () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it("loads model.js from a page and matches onnxruntime", async () => {
    const b = new GraphBuilder("page");
    const x = b.input("x", "f32", [4, 16], at(1));
    const w = b.param({ path: "w", dtype: "f32", shape: [16, 8], unused: false, span: at(2).span });
    const h = b.op1("tanh", {}, [b.op1("matmul", {}, [x, w], at(3))], at(3));
    b.output("y", b.op1("softmax", { axis: -1 }, [h], at(4)));
    const weights = new Map([["w", random("f32", [16, 8], 5)]]);
    const dir = join(tempDir("page"), "bundle");
    expect(emitWgslBundle(b.graph, { outDir: dir, weights }).diagnostics).toEqual([]);
    const input = random("f32", [4, 16], 6);

    const files = new Map<string, string | Buffer>([
      ...runtimeFiles(),
      ["/index.html", PAGE],
      ["/x.json", JSON.stringify(Array.from(input.data as Float32Array))],
    ]);
    bundleFiles(dir, files);
    server = await serve(files);
    const browser = await playwright!.chromium.launch({ executablePath: CHROMIUM, args: ["--enable-unsafe-webgpu"] });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/index.html`);
      const result = (await page
        .waitForFunction(() => (window as unknown as { result?: Promise<unknown> }).result, undefined, {
          timeout: 120_000,
        })
        .then(() =>
          page.evaluate(
            () => (window as unknown as { result: Promise<Record<string, number[]> & { error?: string }> }).result,
          ),
        )) as Record<string, number[]> & { error?: string };
      expect(result.error).toBeUndefined();
      const want = (await onnxReference(b.graph, new Map([["x", input]]), { weights })).get("y")!;
      expect(maxAbsDiff({ dtype: "f32", shape: [4, 8], data: Float32Array.from(result.y) }, want)).toBeLessThanOrEqual(
        TOLERANCE,
      );
    } finally {
      await browser.close();
    }
  }, 180_000);
});
