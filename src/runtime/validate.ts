// A bundle is untrusted input: its manifest is checked against the bundle schema (types, ranges, cross-references,
// bounded totals, file names confined to the bundle folder) before the runtime allocates or reads anything it names.
// Browser-safe: no Node imports. Every violation is a WgslRuntimeError naming the field and its value.
import { DTYPES } from "../util/tensor.js";
import { WgslRuntimeError } from "./errors.js";
import { BUNDLE_FORMAT, BUNDLE_VERSION, type BundleManifest } from "./manifest.js";

/** Codes of the bundle errors (NET7xxx, as in src/diagnostics/wgsl-codes.ts). */
export const BUNDLE_ERROR = {
  BadManifest: "NET7011",
  FileRefused: "NET7012",
  Timeout: "NET7013",
  NoBackend: "NET7040",
  FallbackRuntimeMissing: "NET7041",
  ShardMismatch: "NET7051",
  BatchOutOfRange: "NET7060",
} as const;

/** Bounds on what a manifest may ask for: far above any model netc compiles, far below what exhausts a machine. */
export const BUNDLE_LIMITS = {
  /** Sum of all buffer sizes (the GPU memory a bundle takes). */
  totalBufferBytes: 4 * 2 ** 30,
  buffers: 1 << 16,
  kernels: 1 << 16,
  bindingsPerKernel: 1000,
  /** Per kernel shader. */
  shaderBytes: 16 << 20,
  manifestBytes: 64 << 20,
  /** Weight shards: at most this many, each at most `shardBytes` (what a page holds while it uploads one). */
  shards: 1 << 16,
  shardBytes: 1 << 30,
  /** The one file with every kernel's WGSL. */
  shaderPackBytes: 256 << 20,
  workgroupsPerDimension: 65535,
  /** The ONNX fallback file (onnxruntime-web's wasm heap is 4 GiB at most). */
  fallbackBytes: 4 * 2 ** 30,
  featuresAndLimits: 64,
} as const;

const STORAGE_BYTES: Record<string, number> = { f32: 4, f16: 2, i32: 4 };
const DTYPE_SET = new Set<string>(DTYPES);

export function manifestError(field: string, value: unknown, expected: string): WgslRuntimeError {
  return new WgslRuntimeError(
    `manifest.json: ${field} is ${show(value)}; expected ${expected}`,
    BUNDLE_ERROR.BadManifest,
  );
}

function show(value: unknown): string {
  if (value === undefined) return "missing";
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const own = (o: Record<string, unknown>, key: string): unknown => (Object.hasOwn(o, key) ? o[key] : undefined);

function object(v: unknown, field: string): Record<string, unknown> {
  if (!isObject(v)) throw manifestError(field, v, "an object");
  return v;
}

function string(v: unknown, field: string): string {
  if (typeof v !== "string") throw manifestError(field, v, "a string");
  return v;
}

function integer(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max)
    throw manifestError(field, v, `a whole number from ${min} to ${max}`);
  return v;
}

function array(v: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw manifestError(field, v, "an array");
  if (v.length > max) throw manifestError(`${field}.length`, v.length, `at most ${max} entries`);
  return v;
}

function oneOf<T extends string>(v: unknown, field: string, choices: readonly T[]): T {
  if (typeof v !== "string" || !choices.includes(v as T)) throw manifestError(field, v, `one of ${choices.join(", ")}`);
  return v as T;
}

/**
 * A file name inside the bundle: relative, `/`-separated segments of letters, digits, `_`, `-` and `.`, none of
 * them `.` or `..`. No absolute paths, URLs, backslashes or parent folders: the name cannot leave the bundle.
 */
export function bundleFileName(v: unknown, field: string): string {
  const name = string(v, field);
  const segments = name.split("/");
  if (name.length > 255 || !segments.every((s) => /^[A-Za-z0-9_.-]+$/.test(s) && s !== "." && s !== ".."))
    throw new WgslRuntimeError(
      `manifest.json: ${field} is ${show(name)}; a bundle file is a relative path inside the bundle folder`,
      BUNDLE_ERROR.FileRefused,
    );
  return name;
}

function slot(v: unknown, field: string, bufferSizes: readonly number[], maxBatch: number | undefined): void {
  const s = object(v, field);
  string(own(s, "name"), `${field}.name`);
  oneOf(own(s, "dtype"), `${field}.dtype`, [...DTYPE_SET]);
  const shape = array(own(s, "shape"), `${field}.shape`, 64).map((d, i) =>
    integer(d, `${field}.shape[${i}]`, 0, 2 ** 31 - 1),
  );
  const storage = oneOf(own(s, "storage"), `${field}.storage`, ["f32", "f16", "i32"]);
  let elements = 0;
  array(own(s, "chunks"), `${field}.chunks`, BUNDLE_LIMITS.buffers).forEach((c, i) => {
    const chunk = object(c, `${field}.chunks[${i}]`);
    const buffer = integer(own(chunk, "buffer"), `${field}.chunks[${i}].buffer`, 0, bufferSizes.length - 1);
    const count = integer(
      own(chunk, "elements"),
      `${field}.chunks[${i}].elements`,
      0,
      Math.floor(bufferSizes[buffer] / STORAGE_BYTES[storage]),
    );
    elements += count;
  });
  const batched = own(s, "batched");
  if (batched !== undefined && batched !== true) throw manifestError(`${field}.batched`, batched, "true or missing");
  if (batched && (maxBatch === undefined || shape.length === 0 || shape[0] % maxBatch !== 0))
    throw manifestError(
      `${field}.batched`,
      batched,
      maxBatch === undefined
        ? "missing (the bundle has no run-time batch)"
        : `a first axis that is a multiple of batch.max (${maxBatch})`,
    );
  const numel = shape.reduce((p, d) => p * d, 1);
  if (elements !== numel)
    throw manifestError(
      `${field}.chunks`,
      `${elements} elements`,
      `the ${numel} elements of shape [${shape.join(", ")}]`,
    );
}

/** `ceil((perBatch * b + fixed) / divisor)`: whole numbers, a positive divisor. */
function batchTerms(v: unknown, field: string): void {
  array(v, field, 8).forEach((t, i) => {
    const term = object(t, `${field}[${i}]`);
    integer(own(term, "perBatch"), `${field}[${i}].perBatch`, 0, 2 ** 31 - 1);
    integer(own(term, "fixed"), `${field}[${i}].fixed`, 0, 2 ** 31 - 1);
    integer(own(term, "divisor"), `${field}[${i}].divisor`, 1, 2 ** 31 - 1);
  });
}

/** A kernel's dispatch formula and batch uniform; only in a bundle with a run-time batch. */
function batchDispatch(
  kernel: Record<string, unknown>,
  f: string,
  maxBatch: number | undefined,
  storage: number[],
): void {
  const dispatch = own(kernel, "dispatch");
  const binding = own(kernel, "batchBinding");
  if (maxBatch === undefined && (dispatch !== undefined || binding !== undefined))
    throw manifestError(
      `${f}.${dispatch !== undefined ? "dispatch" : "batchBinding"}`,
      dispatch ?? binding,
      "missing (the bundle has no run-time batch)",
    );
  if (dispatch !== undefined) {
    const d = object(dispatch, `${f}.dispatch`);
    for (const axis of ["x", "y", "z"]) batchTerms(own(d, axis), `${f}.dispatch.${axis}`);
    if (own(d, "wrap") !== undefined)
      integer(own(d, "wrap"), `${f}.dispatch.wrap`, 1, BUNDLE_LIMITS.workgroupsPerDimension);
  }
  if (binding !== undefined) {
    const n = integer(binding, `${f}.batchBinding`, 0, BUNDLE_LIMITS.bindingsPerKernel);
    if (storage.includes(n)) throw manifestError(`${f}.batchBinding`, n, "a binding no storage buffer uses");
  }
}

function slotsAndKernels(
  m: Record<string, unknown>,
  bufferSizes: readonly number[],
  maxBatch: number | undefined,
): void {
  const names = (key: "inputs" | "outputs") => {
    const seen = new Set<string>();
    array(own(m, key), key, 1 << 12).forEach((s, i) => {
      slot(s, `${key}[${i}]`, bufferSizes, maxBatch);
      const name = (s as { name: string }).name;
      if (seen.has(name))
        throw manifestError(`${key}[${i}].name`, name, `a name not used by an earlier ${key.slice(0, -1)}`);
      seen.add(name);
    });
  };
  names("inputs");
  names("outputs");
  array(own(m, "kernels"), "kernels", BUNDLE_LIMITS.kernels).forEach((k, i) => {
    const f = `kernels[${i}]`;
    const kernel = object(k, f);
    string(own(kernel, "name"), `${f}.name`);
    const shader = bundleFileName(own(kernel, "shader"), `${f}.shader`);
    if (!shader.endsWith(".wgsl")) throw manifestError(`${f}.shader`, shader, "a .wgsl file");
    string(own(kernel, "entryPoint"), `${f}.entryPoint`);
    const wg = array(own(kernel, "workgroups"), `${f}.workgroups`, 3);
    if (wg.length !== 3) throw manifestError(`${f}.workgroups`, wg, "three workgroup counts");
    wg.forEach((n, j) => integer(n, `${f}.workgroups[${j}]`, 0, BUNDLE_LIMITS.workgroupsPerDimension));
    const storage = array(own(kernel, "bindings"), `${f}.bindings`, BUNDLE_LIMITS.bindingsPerKernel).map((b, j) => {
      const binding = object(b, `${f}.bindings[${j}]`);
      const n = integer(own(binding, "binding"), `${f}.bindings[${j}].binding`, 0, BUNDLE_LIMITS.bindingsPerKernel);
      integer(own(binding, "buffer"), `${f}.bindings[${j}].buffer`, 0, bufferSizes.length - 1);
      oneOf(own(binding, "access"), `${f}.bindings[${j}].access`, ["read", "read_write"]);
      return n;
    });
    batchDispatch(kernel, f, maxBatch, storage);
    array(own(kernel, "ops"), `${f}.ops`, 1 << 12).forEach((op, j) => string(op, `${f}.ops[${j}]`));
    string(own(kernel, "scope"), `${f}.scope`);
    if (own(kernel, "construct") !== undefined) string(own(kernel, "construct"), `${f}.construct`);
    if (own(kernel, "source") !== undefined) {
      const source = object(own(kernel, "source"), `${f}.source`);
      string(own(source, "file"), `${f}.source.file`);
      integer(own(source, "line"), `${f}.source.line`, 0, Number.MAX_SAFE_INTEGER);
      integer(own(source, "col"), `${f}.source.col`, 0, Number.MAX_SAFE_INTEGER);
    }
  });
}

/** `batch`: the symbol and the largest batch; returns the largest batch. */
function batchInfo(v: unknown): number {
  const b = object(v, "batch");
  string(own(b, "symbol"), "batch.symbol");
  return integer(own(b, "max"), "batch.max", 1, 1024);
}

function sha256Field(v: unknown, field: string): string {
  if (typeof v !== "string" || !/^[0-9a-f]{64}$/.test(v)) throw manifestError(field, v, "64 lowercase hex digits");
  return v;
}

/** `fallback`: an ONNX file inside the bundle, its size (bounded like the weights) and hash. */
function fallbackInfo(v: unknown): void {
  const f = object(v, "fallback");
  bundleFileName(own(f, "onnx"), "fallback.onnx");
  integer(own(f, "bytes"), "fallback.bytes", 1, BUNDLE_LIMITS.fallbackBytes);
  sha256Field(own(f, "sha256"), "fallback.sha256");
}

/** A content-named file: name, size from `minBytes` to `maxBytes`, hash. */
function bundleFile(v: unknown, field: string, minBytes: number, maxBytes: number): Record<string, unknown> {
  const f = object(v, field);
  bundleFileName(own(f, "file"), `${field}.file`);
  integer(own(f, "bytes"), `${field}.bytes`, minBytes, maxBytes);
  sha256Field(own(f, "sha256"), `${field}.sha256`);
  return f;
}

/**
 * `weights`: shards of `shardBytes` each (the last one up to that), and tensors at 4-byte aligned offsets inside
 * their concatenation, in order and without overlap, each the contents of the buffers naming it (never larger),
 * the last one ending where the shards do.
 */
function weightShards(v: unknown, buffers: readonly { size: number; weight?: string }[]): void {
  const w = object(v, "weights");
  const shardBytes = integer(own(w, "shardBytes"), "weights.shardBytes", 4, BUNDLE_LIMITS.shardBytes);
  if (shardBytes % 4 !== 0) throw manifestError("weights.shardBytes", shardBytes, "a multiple of 4");
  const shards = array(own(w, "shards"), "weights.shards", BUNDLE_LIMITS.shards);
  let total = 0;
  shards.forEach((s, i) => {
    const last = i === shards.length - 1;
    const bytes = own(bundleFile(s, `weights.shards[${i}]`, 1, shardBytes), "bytes") as number;
    if (!last && bytes !== shardBytes)
      throw manifestError(
        `weights.shards[${i}].bytes`,
        bytes,
        `weights.shardBytes (${shardBytes}): only the last shard is shorter`,
      );
    total += bytes;
  });
  const sizeOf = new Map<string, number>();
  for (const b of buffers)
    if (b.weight !== undefined) sizeOf.set(b.weight, Math.min(sizeOf.get(b.weight) ?? b.size, b.size));
  const placed = new Set<string>();
  let end = 0;
  array(own(w, "tensors"), "weights.tensors", BUNDLE_LIMITS.buffers).forEach((t, i) => {
    const f = `weights.tensors[${i}]`;
    const tensor = object(t, f);
    const name = string(own(tensor, "name"), `${f}.name`);
    const room = sizeOf.get(name);
    if (room === undefined || placed.has(name))
      throw manifestError(`${f}.name`, name, "a weight some buffer names, placed once");
    placed.add(name);
    const offset = integer(own(tensor, "offset"), `${f}.offset`, end, total);
    const bytes = integer(own(tensor, "bytes"), `${f}.bytes`, 0, Math.min(room, total - offset));
    if (offset % 4 !== 0 || bytes % 4 !== 0)
      throw manifestError(f, { offset, bytes }, "an offset and a size that are multiples of 4");
    end = offset + bytes;
  });
  const unplaced = [...sizeOf.keys()].find((name) => !placed.has(name));
  if (unplaced !== undefined)
    throw manifestError("weights.tensors", `no entry for ${unplaced}`, "every weight a buffer names");
  // Nothing to download beyond the last tensor: a manifest cannot make a page fetch bytes no buffer takes.
  if (total !== end) throw manifestError("weights.shards", `${total} bytes in all`, `the tensors' ${end} bytes`);
}

/** `shaders`: one file, and each kernel shader a byte range inside it. */
function shaderPack(v: unknown, kernelShaders: readonly string[]): void {
  const pack = bundleFile(v, "shaders", 0, BUNDLE_LIMITS.shaderPackBytes);
  const size = own(pack, "bytes") as number;
  const names = new Set<string>();
  array(own(pack, "sources"), "shaders.sources", BUNDLE_LIMITS.kernels).forEach((x, i) => {
    const f = `shaders.sources[${i}]`;
    const source = object(x, f);
    const name = string(own(source, "name"), `${f}.name`);
    if (names.has(name)) throw manifestError(`${f}.name`, name, "a name not used by an earlier source");
    names.add(name);
    const offset = integer(own(source, "offset"), `${f}.offset`, 0, size);
    integer(own(source, "bytes"), `${f}.bytes`, 0, Math.min(BUNDLE_LIMITS.shaderBytes, size - offset));
  });
  const missing = kernelShaders.find((name) => !names.has(name));
  if (missing !== undefined) throw manifestError("shaders.sources", `no entry for ${missing}`, "every kernel's shader");
}

/** Checks `value` (parsed manifest.json) against the bundle schema; returns it typed, or throws WgslRuntimeError. */
export function validateManifest(value: unknown): BundleManifest {
  const m = object(value, "the manifest");
  if (own(m, "format") !== BUNDLE_FORMAT)
    throw manifestError("format", own(m, "format"), `"${BUNDLE_FORMAT}" (not a netc WGSL bundle)`);
  if (own(m, "version") !== BUNDLE_VERSION) throw manifestError("version", own(m, "version"), `${BUNDLE_VERSION}`);
  string(own(m, "model"), "model");
  oneOf(own(m, "precision"), "precision", ["f32", "f16"]);
  array(own(m, "requiredFeatures"), "requiredFeatures", BUNDLE_LIMITS.featuresAndLimits).forEach((f, i) =>
    string(f, `requiredFeatures[${i}]`),
  );
  const limits = object(own(m, "requiredLimits"), "requiredLimits");
  const limitNames = Object.keys(limits);
  if (limitNames.length > BUNDLE_LIMITS.featuresAndLimits)
    throw manifestError("requiredLimits", `${limitNames.length} limits`, `at most ${BUNDLE_LIMITS.featuresAndLimits}`);
  for (const name of limitNames) integer(limits[name], `requiredLimits.${name}`, 0, Number.MAX_SAFE_INTEGER);
  let total = 0;
  const buffers = array(own(m, "buffers"), "buffers", BUNDLE_LIMITS.buffers);
  const bufferSizes = buffers.map((b, i) => {
    const entry = object(b, `buffers[${i}]`);
    const size = integer(own(entry, "size"), `buffers[${i}].size`, 0, BUNDLE_LIMITS.totalBufferBytes);
    if (size % 4 !== 0) throw manifestError(`buffers[${i}].size`, size, "a multiple of 4");
    if (own(entry, "weight") !== undefined) string(own(entry, "weight"), `buffers[${i}].weight`);
    total += size;
    if (total > BUNDLE_LIMITS.totalBufferBytes)
      throw manifestError(
        "buffers",
        `${total}+ bytes in ${i + 1} buffers`,
        `at most ${BUNDLE_LIMITS.totalBufferBytes} bytes in all`,
      );
    return size;
  });
  const maxBatch = own(m, "batch") === undefined ? undefined : batchInfo(own(m, "batch"));
  slotsAndKernels(m, bufferSizes, maxBatch);
  weightShards(own(m, "weights"), buffers as { size: number; weight?: string }[]);
  shaderPack(own(m, "shaders"), shaderNames(m as unknown as BundleManifest));
  if (own(m, "fallback") !== undefined) fallbackInfo(own(m, "fallback"));
  return m as unknown as BundleManifest;
}

/** The distinct kernel shaders a valid manifest names (each a range of the shader pack). */
export const shaderNames = (m: Pick<BundleManifest, "kernels">): string[] => [
  ...new Set(m.kernels.map((k) => k.shader)),
];

/** The kernel shaders of the pack file `bytes` (checked against the manifest's size and hash by the caller). */
export function unpackShaders(m: BundleManifest, bytes: Uint8Array): Map<string, string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const shaders = new Map<string, string>();
  for (const s of m.shaders.sources) {
    try {
      shaders.set(s.name, decoder.decode(bytes.subarray(s.offset, s.offset + s.bytes)));
    } catch {
      throw new WgslRuntimeError(
        `${m.shaders.file}: the shader ${s.name} is not UTF-8 text`,
        BUNDLE_ERROR.ShardMismatch,
      );
    }
  }
  return shaders;
}

/** A NET7051 error unless `bytes` is the file `entry` names (its size, and its hash when `hash` is given). */
export function checkBundleFile(
  entry: { file: string; bytes: number; sha256: string },
  bytes: Uint8Array,
  hash: string | undefined,
): void {
  const problem =
    bytes.byteLength !== entry.bytes
      ? `has ${bytes.byteLength} bytes; the manifest says ${entry.bytes}`
      : hash !== undefined && hash !== entry.sha256
        ? `has the SHA-256 ${hash}; the manifest says ${entry.sha256}`
        : undefined;
  if (problem)
    throw new WgslRuntimeError(
      `the bundle file ${entry.file} ${problem} (a partial, stale or tampered file)`,
      BUNDLE_ERROR.ShardMismatch,
    );
}
