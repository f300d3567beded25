// Loads a bundle over fetch (a browser page, or any runtime with fetch): the manifest, validated before anything
// it names is fetched, then every shader and the weights in parallel. A bundle is untrusted: its base must be on
// the page's own origin, and every file it names is a relative path under that base (validateManifest).
import { WgslRuntimeError } from "./errors.js";
import type { WgslBundle } from "./model.js";
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
  if (pageUrl ? root.origin !== pageUrl.origin || root.protocol !== pageUrl.protocol : root.protocol !== "http:" && root.protocol !== "https:")
    throw new WgslRuntimeError(`the bundle location ${root.href} is not on ${pageUrl ? `this page's origin (${pageUrl.origin})` : "http(s)"}`, BUNDLE_ERROR.FileRefused);
  return root;
}

export async function loadBundle(base: string | URL, fetchFn: typeof fetch = fetch): Promise<WgslBundle> {
  const root = bundleRoot(base);
  const get = async (path: string, maxBytes: number): Promise<Uint8Array> => {
    const url = new URL(path, root);
    if (!url.href.startsWith(root.href)) throw new WgslRuntimeError(`the bundle file ${path} is outside the bundle ${root.href}`, BUNDLE_ERROR.FileRefused);
    const r = await fetchFn(url);
    if (!r.ok) throw new WgslRuntimeError(`cannot load ${url}: HTTP ${r.status}`);
    if (r.url && new URL(r.url).origin !== root.origin) throw new WgslRuntimeError(`${url} was redirected to another origin (${new URL(r.url).origin})`, BUNDLE_ERROR.FileRefused);
    const announced = Number(r.headers?.get?.("content-length") ?? 0);
    const refuse = () => new WgslRuntimeError(`the bundle file ${path} is larger than the ${maxBytes} bytes its manifest allows`, BUNDLE_ERROR.FileRefused);
    if (announced > maxBytes) throw refuse();
    const bytes = new Uint8Array(await r.arrayBuffer());
    if (bytes.byteLength > maxBytes) throw refuse();
    return bytes;
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(await get("manifest.json", BUNDLE_LIMITS.manifestBytes)));
  } catch (e) {
    if (e instanceof WgslRuntimeError) throw e;
    throw new WgslRuntimeError(`${root.href}manifest.json is not JSON: ${(e as Error).message}`, BUNDLE_ERROR.BadManifest);
  }
  const manifest = validateManifest(parsed);
  const files = shaderFiles(manifest);
  const [weights, ...sources] = await Promise.all([get(manifest.weights, maxWeightsBytes(manifest)), ...files.map((file) => get(file, BUNDLE_LIMITS.shaderBytes))]);
  const shaders = new Map(files.map((file, i) => [file, new TextDecoder().decode(sources[i])]));
  return { manifest, shaders, weights };
}
