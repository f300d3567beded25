// A minimal safetensors reader over bytes in memory, for browsers and Node alike (the bundle's weights file).
// The file is untrusted: the header is bounded, every entry checked (dtype from a fixed table, shape, offsets
// inside the data and matching dtype and shape) before any tensor is handed out.
import { WgslRuntimeError } from "./errors.js";
import { BUNDLE_ERROR, BUNDLE_LIMITS } from "./validate.js";

export interface StoredTensor {
  dtype: string;
  shape: number[];
  /** A view of the tensor's bytes inside the file. */
  bytes: Uint8Array;
}

/** Bytes per element of the safetensors dtypes a bundle may hold. */
const DTYPE_BYTES = new Map<string, number>([
  ["F64", 8],
  ["F32", 4],
  ["F16", 2],
  ["BF16", 2],
  ["I64", 8],
  ["I32", 4],
  ["I16", 2],
  ["I8", 1],
  ["U8", 1],
  ["BOOL", 1],
]);

const bad = (message: string) => new WgslRuntimeError(`the weights file: ${message}`, BUNDLE_ERROR.BadManifest);

export function parseSafetensors(file: Uint8Array): Map<string, StoredTensor> {
  if (file.byteLength < 8) throw bad("too short to be safetensors");
  const headerLength = Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > BUNDLE_LIMITS.weightsHeaderBytes)
    throw bad(`a header of ${headerLength} bytes is larger than ${BUNDLE_LIMITS.weightsHeaderBytes}`);
  if (8 + headerLength > file.byteLength) throw bad("the file ends inside its safetensors header");
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw bad(`the header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    throw bad("the header is not a JSON object");
  const data = file.subarray(8 + headerLength);
  const out = new Map<string, StoredTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (typeof e !== "object" || e === null) throw bad(`the entry of ${name} is not an object`);
    const size = typeof e.dtype === "string" ? DTYPE_BYTES.get(e.dtype) : undefined;
    if (size === undefined)
      throw bad(`tensor ${name} has dtype ${JSON.stringify(e.dtype)}, which is not a safetensors dtype`);
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.length > 64 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw bad(`tensor ${name} has shape ${JSON.stringify(shape)}, not a list of sizes`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0))
      throw bad(`tensor ${name} has data_offsets ${JSON.stringify(offsets)}, not two byte offsets`);
    const [begin, end] = offsets as [number, number];
    if (end > data.byteLength || begin > end) throw bad(`tensor ${name} lies outside the file (it is truncated?)`);
    const bytes = (shape as number[]).reduce((p, d) => p * d, size);
    if (bytes !== end - begin)
      throw bad(
        `tensor ${name} has ${end - begin} bytes; ${e.dtype}[${(shape as number[]).join(", ")}] needs ${bytes}`,
      );
    out.set(name, { dtype: e.dtype as string, shape: shape as number[], bytes: data.subarray(begin, end) });
  }
  return out;
}
