// Loading a bundle like a web app: the example server sends lengths, ETags and ranges; in headless Chromium
// loadBundle reports progress as bytes arrive, and with `cache` a second load takes the weights from Cache Storage
// without fetching a byte of them. (No WebGPU is needed to load: Chromium runs without it here.)
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { emitWgslBundle } from "../../src/backends/wgsl/index.js";
import { compileToGraph } from "../../src/driver.js";
import { tempDir } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
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
  const front = compileToGraph(readFileSync(file, "utf8"), { file, overrides: { B: "1" } });
  const dir = join(tempDir("loading"), "bundle");
  const r = emitWgslBundle(front.graph!, { outDir: dir });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return dir;
}

describe("loading a bundle over HTTP", () => {
  const dir = tinyBundle();
  let served: { server: Server; url: string } | undefined;
  const url = async () => (served ??= await serveExample({ bundle: dir, port: 0 })).url;
  afterAll(() => {
    served?.server.close();
    rmSync(join(dir, ".."), { recursive: true, force: true });
  });

  it(
    "the example server sends Content-Length and an ETag, answers If-None-Match with 304 and honours " + "Range",
    async () => {
      const weights = readFileSync(join(dir, "weights.safetensors"));
      const at = `${await url()}bundle/weights.safetensors`;
      const whole = await fetch(at);
      expect(whole.status).toBe(200);
      expect(Number(whole.headers.get("content-length"))).toBe(weights.length);
      expect(Buffer.from(await whole.arrayBuffer()).equals(weights)).toBe(true);
      const etag = whole.headers.get("etag")!;
      expect(etag).toMatch(/^"[\w-]+"$/);
      expect((await fetch(at, { headers: { "if-none-match": etag } })).status).toBe(304);
      const part = await fetch(at, { headers: { range: "bytes=8-23" } });
      expect(part.status).toBe(206);
      expect(part.headers.get("content-range")).toBe(`bytes 8-23/${weights.length}`);
      expect(Buffer.from(await part.arrayBuffer()).equals(weights.subarray(8, 24))).toBe(true);
      expect((await fetch(at, { headers: { range: `bytes=${weights.length}-` } })).status).toBe(416);
    },
  );

  it.skipIf(why)(
    `in Chromium: progress events arrive, and a cached second load fetches no weight ` +
      `bytes${why ? ` (skipped: ${why})` : ""}`,
    async () => {
      const browser = await playwright!.chromium.launch({ executablePath: CHROMIUM });
      try {
        const page = await browser.newPage();
        const weightRequests: string[] = [];
        page.on(
          "request",
          (r) => void (r.url().endsWith("/bundle/weights.safetensors") && weightRequests.push(r.url())),
        );
        // The bundle's origin, without the example app loading it too.
        await page.goto(`${await url()}bundle/manifest.json`);
        // A string, not a function: the test runner rewrites import() inside functions it compiles.
        const load = (): Promise<{
          events: { loadedBytes: number; totalBytes: number; fromCache: boolean }[];
          weights: number[];
          hash: string;
        }> =>
          page.evaluate(`(async () => {
          const { loadBundle } = await import("/netc/runtime/index.js");
          const events = [];
          const bundle = await loadBundle("/bundle/", { cache: true, onProgress: (e) => events.push(e) });
          return { events, weights: Array.from(bundle.weights), hash: bundle.manifest.weightsSha256 };
        })()`);
        const first = await load();
        expect(weightRequests).toHaveLength(1);
        const second = await load();
        expect(weightRequests).toHaveLength(1); // the cache answered
        expect(second.weights).toEqual(first.weights);
        expect(Buffer.from(first.weights).equals(readFileSync(join(dir, "weights.safetensors")))).toBe(true);

        const shaders = [
          ...new Set(
            (JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")).kernels as { shader: string }[]).map(
              (k) => k.shader,
            ),
          ),
        ];
        const bytes = ["manifest.json", ...shaders].reduce(
          (s, f) => s + readFileSync(join(dir, f)).length,
          first.weights.length,
        );
        for (const run of [first, second]) {
          expect(run.events.length).toBeGreaterThan(1);
          run.events.forEach(
            (e, i) => i > 0 && expect(e.loadedBytes).toBeGreaterThanOrEqual(run.events[i - 1].loadedBytes),
          );
          expect(run.events.at(-1)).toMatchObject({ loadedBytes: bytes, totalBytes: bytes });
        }
        expect(first.events.at(-1)!.fromCache).toBe(false);
        expect(second.events.at(-1)!.fromCache).toBe(true);

        // A cached copy that no longer matches the hash is dropped and fetched again, never used.
        await page.evaluate(async (hash) => {
          const cache = await caches.open("netc-bundles");
          await cache.put(
            new URL(`/bundle/weights.safetensors?sha256=${hash}`, location.href).href,
            new Response(new Uint8Array([1, 2, 3])),
          );
        }, first.hash);
        const third = await load();
        expect(weightRequests).toHaveLength(2);
        expect(third.weights).toEqual(first.weights);
      } finally {
        await browser.close();
      }
    },
    60_000,
  );
});
