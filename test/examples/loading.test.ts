// Loading a bundle like a web app: the example server sends lengths, ETags and ranges, and the bundle's
// content-named files as immutable; in headless Chromium (WebGPU on its software adapter) loadModel reports bytes
// and pipelines as they come, streams the weight shards into the GPU, and with `cache` a second load takes every
// shard from Cache Storage without one weight request. A damaged cache entry is fetched again; a tampered shard on
// the server is a NET7051 error naming the file.
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { IncomingMessage, Server } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { emitWgslBundle } from "../../src/backends/wgsl/index.js";
import { compileToGraph } from "../../src/driver.js";
import type { BundleManifest } from "../../src/runtime/manifest.js";
import { tempDir } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
/** Small shards, so that the tiny model's 52 KB of weights are many, and tensors span them. */
const SHARD_BYTES = 4096;
const playwright = await import("playwright-core").catch(() => undefined);
const why = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is missing (apt-get install chromium)`
  : !playwright
    ? "playwright-core is not installed"
    : undefined;

const { serveExample } = (await import("../../examples/web/serve.mjs" as string)) as {
  serveExample: (o: { bundle: string; port: number }) => Promise<{ server: Server; url: string }>;
};

function tinyBundle(): string {
  const file = "examples/tiny.net";
  const front = compileToGraph(readFileSync(file, "utf8"), { file, overrides: { B: "1" }, target: "wgsl" });
  const dir = join(tempDir("loading"), "bundle");
  const r = emitWgslBundle(front.graph!, { outDir: dir, shardBytes: SHARD_BYTES });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return dir;
}

interface PageLoad {
  events: {
    loadedBytes: number;
    totalBytes: number;
    cachedBytes: number;
    fromCache: boolean;
    compiledPipelines: number;
    totalPipelines: number;
  }[];
  backend: string;
  logits: number[];
  error?: string;
}

/** Serves `dir` with the example server; records the path of every request it gets. */
async function served(dir: string) {
  const s = await serveExample({ bundle: dir, port: 0 });
  const paths: string[] = [];
  s.server.on("request", (req: IncomingMessage) => paths.push(new URL(req.url ?? "/", s.url).pathname));
  return { ...s, paths };
}

describe("loading a bundle over HTTP", () => {
  const dir = tinyBundle();
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as BundleManifest;
  const shardFiles = manifest.weights.shards.map((s) => s.file);
  let server: Awaited<ReturnType<typeof served>> | undefined;
  const start = async () => (server ??= await served(dir));
  const tampered = join(dir, "..", "tampered");
  afterAll(() => {
    server?.server.close();
    rmSync(join(dir, ".."), { recursive: true, force: true });
  });

  it("is written as content-named shards of the size asked for, tensors spanning them", () => {
    expect(shardFiles.length).toBe(Math.ceil(manifest.weights.shards.reduce((s, x) => s + x.bytes, 0) / SHARD_BYTES));
    expect(manifest.weights.shards.slice(0, -1).every((s) => s.bytes === SHARD_BYTES)).toBe(true);
    for (const s of manifest.weights.shards) expect(s.file).toBe(`weights-${s.sha256.slice(0, 16)}.bin`);
    expect(manifest.shaders.file).toBe(`shaders-${manifest.shaders.sha256.slice(0, 16)}.wgsl`);
    const spans = manifest.weights.tensors.filter(
      (t) => Math.floor(t.offset / SHARD_BYTES) !== Math.floor((t.offset + t.bytes - 1) / SHARD_BYTES),
    );
    expect(spans.length).toBeGreaterThan(0);
    expect(
      readdirSync(dir)
        .filter((f) => f.startsWith("weights-"))
        .sort(),
    ).toEqual([...new Set(shardFiles)].sort());
  });

  it(
    "the example server sends Content-Length, ETag/304, Range, and immutable caching for content-named " + "files only",
    async () => {
      const { url } = await start();
      const shard = readFileSync(join(dir, shardFiles[0]));
      const at = `${url}bundle/${shardFiles[0]}`;
      const whole = await fetch(at);
      expect(whole.status).toBe(200);
      expect(Number(whole.headers.get("content-length"))).toBe(shard.length);
      expect(whole.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(Buffer.from(await whole.arrayBuffer()).equals(shard)).toBe(true);
      const etag = whole.headers.get("etag")!;
      expect(etag).toMatch(/^"[\w-]+"$/);
      expect((await fetch(at, { headers: { "if-none-match": etag } })).status).toBe(304);
      const part = await fetch(at, { headers: { range: "bytes=8-23" } });
      expect(part.status).toBe(206);
      expect(part.headers.get("content-range")).toBe(`bytes 8-23/${shard.length}`);
      expect(Buffer.from(await part.arrayBuffer()).equals(shard.subarray(8, 24))).toBe(true);
      expect((await fetch(at, { headers: { range: `bytes=${shard.length}-` } })).status).toBe(416);
      expect((await fetch(`${url}bundle/${manifest.shaders.file}`)).headers.get("cache-control")).toContain(
        "immutable",
      );
      expect((await fetch(`${url}bundle/manifest.json`)).headers.get("cache-control")).toBe("no-cache");
      // A name that only looks hashed is not under the bundle's naming, so it is not immutable either.
      expect((await fetch(`${url}bundle/model.js`)).headers.get("cache-control")).toBe("no-cache");
    },
  );

  it.skipIf(why)(
    `in Chromium: progress in bytes and pipelines, a cached second load makes no weight request, a damaged ` +
      `cache entry is fetched again, a tampered shard is NET7051${why ? ` (skipped: ${why})` : ""}`,
    async () => {
      const { url, paths } = await start();
      cpSync(dir, tampered, { recursive: true });
      const victim = manifest.weights.shards[2];
      const bad = readFileSync(join(tampered, victim.file));
      bad[100] ^= 1;
      writeFileSync(join(tampered, victim.file), bad);
      const other = await served(tampered);
      const browser = await playwright!.chromium.launch({
        executablePath: CHROMIUM,
        args: ["--enable-unsafe-webgpu"],
      });
      try {
        const page = await browser.newPage();
        // A string, not a function: the test runner rewrites import() inside functions it compiles.
        const load = (base: string): Promise<PageLoad> =>
          page.evaluate(`(async () => {
            const { loadModel } = await import("/netc/runtime/index.js");
            const events = [];
            try {
              const onProgress = (e) => events.push(e);
              const model = await loadModel(${JSON.stringify(base)}, { cache: true, onProgress });
              const out = await model.run({ frames: new Float32Array(8 * 64).map((_, i) => Math.sin(i)) });
              model.destroy();
              return { events, backend: model.backend, logits: Array.from(out.logits.data) };
            } catch (e) {
              return { events, backend: "", logits: [], error: String(e.message) };
            }
          })()`);
        await page.goto(`${url}bundle/manifest.json`); // the bundle's origin, without the example app loading it too
        const earlier = paths.length; // the server test's requests
        const weightRequests = () => paths.slice(earlier).filter((p) => /\/weights-[0-9a-f]{16}\.bin$/.test(p)).length;
        const bundleBytes = manifest.weights.shards.reduce((s, x) => s + x.bytes, 0) + manifest.shaders.bytes;
        const manifestBytes = readFileSync(join(dir, "manifest.json")).length;

        const first = await load("/bundle/");
        expect(first.error).toBeUndefined();
        expect(first.backend).toBe("webgpu");
        expect(first.logits).toHaveLength(7);
        expect(weightRequests()).toBe(new Set(shardFiles).size);
        const before = paths.length;
        const second = await load("/bundle/");
        expect(second.logits).toEqual(first.logits);
        expect(weightRequests()).toBe(new Set(shardFiles).size); // not one more: every shard from Cache Storage
        expect(paths.slice(before)).toEqual(["/bundle/manifest.json"]); // nor the shader file

        for (const run of [first, second]) {
          expect(run.events.length).toBeGreaterThan(shardFiles.length);
          run.events.forEach((e, i) => {
            if (i === 0) return;
            expect(e.loadedBytes).toBeGreaterThanOrEqual(run.events[i - 1].loadedBytes);
            expect(e.compiledPipelines).toBeGreaterThanOrEqual(run.events[i - 1].compiledPipelines);
          });
          const last = run.events.at(-1)!;
          expect(last).toMatchObject({
            loadedBytes: manifestBytes + bundleBytes,
            totalBytes: manifestBytes + bundleBytes,
          });
          expect(last.totalPipelines).toBeGreaterThan(0);
          expect(run.events.some((e) => e.compiledPipelines === last.totalPipelines)).toBe(true);
        }
        expect(first.events.at(-1)).toMatchObject({ fromCache: false, cachedBytes: 0 });
        expect(second.events.at(-1)).toMatchObject({ fromCache: true, cachedBytes: bundleBytes });

        // A cached shard that no longer matches its hash is dropped and fetched again, never used.
        const key = `${url}bundle/${victim.file}`;
        await page.evaluate(async (k) => {
          const cache = await caches.open("netc-bundles");
          await cache.put(k, new Response(new Uint8Array([1, 2, 3])));
        }, key);
        const third = await load("/bundle/");
        expect(third.error).toBeUndefined();
        expect(third.logits).toEqual(first.logits);
        expect(third.events.at(-1)).toMatchObject({ fromCache: false, cachedBytes: bundleBytes - victim.bytes });
        const repaired = await page.evaluate(async (k) => {
          const hit = await (await caches.open("netc-bundles")).match(k);
          return hit ? (await hit.arrayBuffer()).byteLength : -1;
        }, key);
        expect(repaired).toBe(victim.bytes);

        // A shard whose bytes differ from the manifest's hash (same name and size) is refused, naming it.
        const page2 = await browser.newPage();
        await page2.goto(`${other.url}bundle/manifest.json`);
        const refused = (await page2.evaluate(`(async () => {
          const { loadModel } = await import("/netc/runtime/index.js");
          try { await loadModel("/bundle/"); return "loaded"; } catch (e) { return e.code + " " + e.message; }
        })()`)) as string;
        expect(refused).toMatch(
          new RegExp(
            `^NET7051 the bundle file ${victim.file} has the SHA-256 [0-9a-f]{64}; the manifest says ${victim.sha256}`,
          ),
        );
      } finally {
        await browser.close();
        other.server.close();
      }
    },
    120_000,
  );
});
