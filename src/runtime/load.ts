// Loads a bundle over fetch (a browser page, or any runtime with fetch): the manifest, then every shader and
// the weights in parallel.
import { WgslRuntimeError } from "./errors.js";
import type { BundleManifest } from "./manifest.js";
import type { WgslBundle } from "./model.js";

export async function loadBundle(base: string | URL, fetchFn: typeof fetch = fetch): Promise<WgslBundle> {
  const root = new URL(String(base).endsWith("/") ? String(base) : `${String(base)}/`, globalThis.location?.href);
  const get = async (path: string): Promise<Response> => {
    const r = await fetchFn(new URL(path, root));
    if (!r.ok) throw new WgslRuntimeError(`cannot load ${new URL(path, root)}: HTTP ${r.status}`);
    return r;
  };
  const manifest = (await (await get("manifest.json")).json()) as BundleManifest;
  const files = [...new Set(manifest.kernels.map((k) => k.shader))];
  const [weights, ...sources] = await Promise.all([get(manifest.weights).then((r) => r.arrayBuffer()), ...files.map((file) => get(file).then((r) => r.text()))]);
  const shaders = new Map(files.map((file, i) => [file, sources[i] as string]));
  return { manifest, shaders, weights: new Uint8Array(weights as ArrayBuffer) };
}
