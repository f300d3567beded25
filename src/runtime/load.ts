// Loads a bundle over fetch (a browser page, or any runtime with fetch): the manifest, validated before anything
// it names is fetched, then every shader and the weights in parallel, reporting bytes as they arrive. With
// `cache`, the weights are kept in Cache Storage under the content hash the manifest carries, so a second load
// fetches no weight bytes; bytes that do not match the hash are refused, never cached. A bundle is untrusted: its base
// must be on
// the page's own origin, and every file it names is a relative path under that base (validateManifest).
import { WgslRuntimeError } from "./errors.js";
import type { BundleManifest, WgslBundle } from "./manifest.js";
import { BUNDLE_ERROR, BUNDLE_LIMITS, maxWeightsBytes, shaderFiles, validateManifest } from "./validate.js";

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
  /** Known once every file's size is (from Content-Length, or the cached copy); until then the bytes seen so far. */
  totalBytes: number;
  /** The weights came from Cache Storage. */
  fromCache: boolean;
}

export interface LoadBundleOptions {
  fetch?: typeof fetch;
  onProgress?: (progress: LoadProgress) => void;
  /** Keep the weights in Cache Storage (where the runtime has it), keyed by the manifest's weightsSha256. */
  cache?: boolean;
  /** The Cache Storage cache to use (default `netc-bundles`). */
  cacheName?: string;
}

const hex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");

/** Reads a response's body, reporting each piece; refuses more than `maxBytes`. */
async function readBody(
  r: Response,
  maxBytes: number,
  seen: (bytes: number) => void,
  refuse: () => Error,
): Promise<Uint8Array<ArrayBuffer>> {
  if (!r.body) {
    const bytes = new Uint8Array(await r.arrayBuffer());
    if (bytes.byteLength > maxBytes) throw refuse();
    seen(bytes.byteLength);
    return bytes;
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = r.body.getReader();
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

export async function loadBundle(
  base: string | URL,
  options: LoadBundleOptions | typeof fetch = {},
): Promise<WgslBundle> {
  return (await openBundle(base, options)).bundle();
}

/** A bundle whose manifest has arrived (validated): fetch either what WebGPU runs or the ONNX fallback. */
export interface OpenedBundle {
  manifest: BundleManifest;
  /** The shaders and the weights (from the cache when asked and present). */
  bundle(): Promise<WgslBundle>;
  /** The manifest's `fallback` ONNX file, checked against its size and hash. */
  fallbackOnnx(): Promise<Uint8Array<ArrayBuffer>>;
}

/** Fetches and validates the manifest alone, so that a caller can choose what else to fetch. */
export async function openBundle(
  base: string | URL,
  options: LoadBundleOptions | typeof fetch = {},
): Promise<OpenedBundle> {
  const opts = typeof options === "function" ? { fetch: options } : options;
  const fetchFn = opts.fetch ?? fetch;
  const root = bundleRoot(base);
  const progress = { loadedBytes: 0, totalBytes: 0, fromCache: false };
  let pending = 0;
  const report = () =>
    opts.onProgress?.({
      ...progress,
      totalBytes: pending > 0 ? Math.max(progress.loadedBytes, progress.totalBytes) : progress.loadedBytes,
    });
  const got = (bytes: number) => {
    progress.loadedBytes += bytes;
    report();
  };
  const get = async (path: string, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> => {
    const url = new URL(path, root);
    if (!url.href.startsWith(root.href))
      throw new WgslRuntimeError(
        `the bundle file ${path} is outside the bundle ${root.href}`,
        BUNDLE_ERROR.FileRefused,
      );
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
    progress.totalBytes += announced;
    pending++;
    try {
      return await readBody(r, maxBytes, got, refuse);
    } finally {
      pending--;
    }
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(await get("manifest.json", BUNDLE_LIMITS.manifestBytes)));
  } catch (e) {
    if (e instanceof WgslRuntimeError) throw e;
    throw new WgslRuntimeError(
      `${root.href}manifest.json is not JSON: ${(e as Error).message}`,
      BUNDLE_ERROR.BadManifest,
    );
  }
  const manifest = validateManifest(parsed);
  return {
    manifest,
    async bundle() {
      const files = shaderFiles(manifest);
      const [weights, ...sources] = await Promise.all([
        weightsOf(manifest, root, opts, get, got, progress),
        ...files.map((file) => get(file, BUNDLE_LIMITS.shaderBytes)),
      ]);
      report();
      const shaders = new Map(files.map((file, i) => [file, new TextDecoder().decode(sources[i])]));
      return { manifest, shaders, weights };
    },
    async fallbackOnnx() {
      const fallback = manifest.fallback;
      if (!fallback)
        throw new WgslRuntimeError(
          "the bundle has no ONNX fallback (it was compiled with --no-fallback)",
          BUNDLE_ERROR.NoBackend,
        );
      const bytes = await get(fallback.onnx, fallback.bytes);
      if (globalThis.crypto?.subtle && hex(await crypto.subtle.digest("SHA-256", bytes)) !== fallback.sha256)
        throw new WgslRuntimeError(
          `the bundle file ${fallback.onnx} does not match the manifest's fallback.sha256 (a partial or stale file?)`,
          BUNDLE_ERROR.FileRefused,
        );
      report();
      return bytes;
    },
  };
}

/**
 * The weights file: from Cache Storage when asked and present, else fetched (then cached); checked against the hash.
 */
async function weightsOf(
  manifest: WgslBundle["manifest"],
  root: URL,
  opts: LoadBundleOptions,
  get: (path: string, maxBytes: number) => Promise<Uint8Array<ArrayBuffer>>,
  got: (bytes: number) => void,
  progress: { fromCache: boolean; totalBytes: number },
): Promise<Uint8Array<ArrayBuffer>> {
  const hash = manifest.weightsSha256;
  const store =
    opts.cache && hash && globalThis.caches
      ? await globalThis.caches.open(opts.cacheName ?? "netc-bundles")
      : undefined;
  // The key names the content, so a recompiled bundle at the same URL is a different entry.
  const key = new URL(`${manifest.weights}?sha256=${hash}`, root).href;
  const cached = await store?.match(key);
  if (cached) {
    const bytes = new Uint8Array(await cached.arrayBuffer());
    if (hex(await crypto.subtle.digest("SHA-256", bytes)) === hash) {
      progress.fromCache = true;
      progress.totalBytes += bytes.byteLength;
      got(bytes.byteLength);
      return bytes;
    }
    await store!.delete(key);
  }
  const bytes = await get(manifest.weights, maxWeightsBytes(manifest));
  if (hash && globalThis.crypto?.subtle && hex(await crypto.subtle.digest("SHA-256", bytes)) !== hash)
    throw new WgslRuntimeError(
      `the bundle file ${manifest.weights} does not match the manifest's weightsSha256 (a partial or stale file?)`,
      BUNDLE_ERROR.FileRefused,
    );
  await store?.put(key, new Response(bytes, { headers: { "content-type": "application/octet-stream" } }));
  return bytes;
}
