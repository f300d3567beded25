// Loads a bundle over fetch (a browser page, or any runtime with fetch): the manifest, validated before anything
// it names is fetched, then the one shader file and the weight shards, reporting bytes as they arrive. Shards are
// fetched as the model consumes them (WgslModel.create writes each into the GPU buffers and drops it), a couple
// ahead, so a page holds about two shards, never the whole weights. Every file but the manifest is named by its
// content (see bundle.ts): each is checked against the size and SHA-256 the manifest gives (NET7051 when it
// differs), and with `cache` kept in Cache Storage under its URL, so a second load fetches only the manifest; a
// cached copy that no longer matches is dropped and fetched again. A bundle is untrusted: its base must be on
// the page's own origin, and every file it names is a relative path under that base (validateManifest).
import { WgslRuntimeError } from "./errors.js";
import type { BundleFile, BundleManifest, WgslBundle } from "./manifest.js";
import { BUNDLE_ERROR, BUNDLE_LIMITS, checkBundleFile, unpackShaders, validateManifest } from "./validate.js";

/** The bundle's folder URL: same-origin as the page (where there is one), over http(s) or the page's own scheme. */
function bundleRoot(base: string | URL): URL {
  const page = globalThis.location?.href;
  let root: URL;
  try {
    root = new URL(String(base).endsWith("/") ? String(base) : `${String(base)}/`, page);
  } catch {
    throw new WgslRuntimeError(`the bundle location ${String(base)} is not a URL`, BUNDLE_ERROR.FileRefused);
  }
  const pageUrl = page !== undefined ? new URL(page) : undefined;
  if (
    pageUrl
      ? root.origin !== pageUrl.origin || root.protocol !== pageUrl.protocol
      : root.protocol !== "http:" && root.protocol !== "https:"
  )
    throw new WgslRuntimeError(
      `the bundle location ${root.href} is not on ${pageUrl ? `this page's origin (${pageUrl.origin})` : "http(s)"}`,
      BUNDLE_ERROR.FileRefused,
    );
  return root;
}

/** Progress of a load: bytes of the bundle's files received so far (from the network or the cache) of the total. */
export interface LoadProgress {
  loadedBytes: number;
  /** Known once the manifest is in (every other file's size is in it); until then the bytes seen so far. */
  totalBytes: number;
  /** Of loadedBytes, those read from Cache Storage. */
  cachedBytes: number;
  /** Every file after the manifest read so far came from Cache Storage (false until one has). */
  fromCache: boolean;
  /** Kernel pipelines compiled so far, of totalPipelines (loadModel on WebGPU; 0 of 0 elsewhere and before). */
  compiledPipelines: number;
  totalPipelines: number;
}

export interface LoadBundleOptions {
  fetch?: typeof fetch;
  onProgress?: (progress: LoadProgress) => void;
  /** Keep the shader file, the shards and the fallback in Cache Storage (where the runtime has it), by their URLs. */
  cache?: boolean;
  /** The Cache Storage cache to use (default `netc-bundles`). */
  cacheName?: string;
  /** Shards fetched ahead of the one being uploaded, plus that one (default 2: about two shards held at a time). */
  shardsInFlight?: number;
}

const hex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");

/** SHA-256 of `bytes` as hex, or undefined where Web Crypto is missing (an insecure origin): then sizes alone are checked. */
async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string | undefined> {
  return globalThis.crypto?.subtle ? hex(await crypto.subtle.digest("SHA-256", bytes)) : undefined;
}

/** Reads a response's body into one array, reporting each piece; refuses more than `maxBytes`. */
async function readBody(
  r: Response,
  maxBytes: number,
  seen: (bytes: number) => void,
  refuse: () => Error,
  expectedBytes?: number,
): Promise<Uint8Array<ArrayBuffer>> {
  if (!r.body) {
    const bytes = new Uint8Array(await r.arrayBuffer());
    if (bytes.byteLength > maxBytes) throw refuse();
    seen(bytes.byteLength);
    return bytes;
  }
  const reader = r.body.getReader();
  // A known size is read straight into its array (no second copy of a shard); else pieces joined at the end.
  if (expectedBytes !== undefined) {
    const bytes = new Uint8Array(expectedBytes);
    let at = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (at + value.byteLength > expectedBytes) {
        await reader.cancel();
        throw refuse();
      }
      bytes.set(value, at);
      at += value.byteLength;
      seen(value.byteLength);
    }
    return at === expectedBytes ? bytes : bytes.slice(0, at);
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw refuse();
    }
    parts.push(value);
    seen(value.byteLength);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.byteLength;
  }
  return bytes;
}

/**
 * Fetches the manifest, then the shader file; the weight shards come as `shards` is iterated (by WgslModel.create).
 * The returned bundle can create several models: each iteration of `shards` reads them again (from the cache, if kept).
 */
export async function loadBundle(
  base: string | URL,
  options: LoadBundleOptions | typeof fetch = {},
): Promise<WgslBundle> {
  return (await openBundle(base, options)).bundle();
}

/** A bundle whose manifest has arrived (validated): fetch either what WebGPU runs or the ONNX fallback. */
export interface OpenedBundle {
  manifest: BundleManifest;
  /** The shaders now, and the weight shards as they are iterated (from the cache when asked and present). */
  bundle(): Promise<WgslBundle>;
  /** The manifest's `fallback` ONNX file, checked against its size and hash. */
  fallbackOnnx(): Promise<Uint8Array<ArrayBuffer>>;
  /** Reports pipelines compiled (loadModel passes WgslModel's progress here). */
  pipelines(compiled: number, total: number): void;
}

/** Fetches and validates the manifest alone, so that a caller can choose what else to fetch. */
export async function openBundle(
  base: string | URL,
  options: LoadBundleOptions | typeof fetch = {},
): Promise<OpenedBundle> {
  const opts = typeof options === "function" ? { fetch: options } : options;
  const fetchFn = opts.fetch ?? fetch;
  const root = bundleRoot(base);
  const progress: LoadProgress = {
    loadedBytes: 0,
    totalBytes: 0,
    cachedBytes: 0,
    fromCache: false,
    compiledPipelines: 0,
    totalPipelines: 0,
  };
  const report = () =>
    opts.onProgress?.({ ...progress, totalBytes: Math.max(progress.loadedBytes, progress.totalBytes) });
  const got = (bytes: number) => {
    progress.loadedBytes += bytes;
    report();
  };
  const urlOf = (path: string): URL => {
    const url = new URL(path, root);
    if (!url.href.startsWith(root.href))
      throw new WgslRuntimeError(
        `the bundle file ${path} is outside the bundle ${root.href}`,
        BUNDLE_ERROR.FileRefused,
      );
    return url;
  };
  const get = async (path: string, maxBytes: number, expectedBytes?: number): Promise<Uint8Array<ArrayBuffer>> => {
    const url = urlOf(path);
    const r = await fetchFn(url);
    if (!r.ok) throw new WgslRuntimeError(`cannot load ${url}: HTTP ${r.status}`);
    if (r.url && new URL(r.url).origin !== root.origin)
      throw new WgslRuntimeError(
        `${url} was redirected to another origin (${new URL(r.url).origin})`,
        BUNDLE_ERROR.FileRefused,
      );
    const announced = Number(r.headers?.get?.("content-length") ?? 0);
    const refuse = () =>
      new WgslRuntimeError(
        `the bundle file ${path} is larger than the ${maxBytes} bytes its manifest allows`,
        BUNDLE_ERROR.FileRefused,
      );
    if (announced > maxBytes) throw refuse();
    return readBody(r, maxBytes, got, refuse, expectedBytes);
  };
  let parsed: unknown;
  try {
    const manifestBytes = await get("manifest.json", BUNDLE_LIMITS.manifestBytes);
    progress.totalBytes += manifestBytes.byteLength;
    parsed = JSON.parse(new TextDecoder().decode(manifestBytes));
  } catch (e) {
    if (e instanceof WgslRuntimeError) throw e;
    throw new WgslRuntimeError(
      `${root.href}manifest.json is not JSON: ${(e as Error).message}`,
      BUNDLE_ERROR.BadManifest,
    );
  }
  const manifest = validateManifest(parsed);
  const store =
    opts.cache && globalThis.caches ? await globalThis.caches.open(opts.cacheName ?? "netc-bundles") : undefined;

  let fetchedFiles = 0;
  /** A content-named file: from the cache when kept there and intact, else fetched, checked, then kept. */
  const file = async (entry: BundleFile): Promise<Uint8Array<ArrayBuffer>> => {
    const key = urlOf(entry.file).href;
    const cached = await store?.match(key);
    if (cached) {
      const bytes = new Uint8Array(await cached.arrayBuffer());
      if (bytes.byteLength === entry.bytes && (await sha256(bytes)) === entry.sha256) {
        progress.cachedBytes += bytes.byteLength;
        progress.fromCache = fetchedFiles === 0;
        got(bytes.byteLength);
        return bytes;
      }
      await store!.delete(key); // damaged or stale: fetched again below
    }
    fetchedFiles++;
    progress.fromCache = false;
    const bytes = await get(entry.file, entry.bytes, entry.bytes);
    checkBundleFile(entry, bytes, await sha256(bytes));
    await store?.put(key, new Response(bytes, { headers: { "content-type": "application/octet-stream" } }));
    return bytes;
  };

  return {
    manifest,
    pipelines(compiled, total) {
      progress.compiledPipelines = compiled;
      progress.totalPipelines = total;
      report();
    },
    async bundle() {
      progress.totalBytes +=
        manifest.shaders.bytes + manifest.weights.shards.reduce((sum, shard) => sum + shard.bytes, 0);
      const shaders = unpackShaders(manifest, await file(manifest.shaders));
      const window = Math.max(1, Math.floor(opts.shardsInFlight ?? 2));
      const entries = manifest.weights.shards;
      const shards: AsyncIterable<Uint8Array<ArrayBuffer>> = {
        async *[Symbol.asyncIterator]() {
          const pending: Promise<Uint8Array<ArrayBuffer>>[] = [];
          const start = (i: number) => {
            if (i >= entries.length) return;
            const fetched = file(entries[i]);
            fetched.catch(() => {}); // awaited in turn below; a later failure must not go unhandled meanwhile
            pending.push(fetched);
          };
          for (let i = 0; i < window; i++) start(i);
          for (let i = 0; i < entries.length; i++) {
            yield await pending.shift()!;
            start(i + window); // after the consumer is done with the shard: `window` shards held at most
          }
        },
      };
      return { manifest, shaders, shards };
    },
    async fallbackOnnx() {
      const fallback = manifest.fallback;
      if (!fallback)
        throw new WgslRuntimeError(
          "the bundle has no ONNX fallback (it was compiled with --no-fallback)",
          BUNDLE_ERROR.NoBackend,
        );
      progress.totalBytes += fallback.bytes;
      return file({ file: fallback.onnx, bytes: fallback.bytes, sha256: fallback.sha256 });
    },
  };
}
