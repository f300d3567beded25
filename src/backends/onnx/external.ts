// ONNX external data: large initializers live in a side file (location/offset/length), which is how models over
// the 2 GiB protobuf limit are stored. Offsets follow onnx.save's alignment: 64 KiB for tensors of 1 MiB or more
// (so they can be memory-mapped), 64 bytes otherwise.
import { EXTERNAL_LOCATION, type TensorBytes, type TensorProto } from "./proto.js";

export interface ExternalChunk {
  offset: number;
  /** The tensor's bytes, or (while a model is being written) a way to make them. */
  bytes: Uint8Array | TensorBytes;
}

/** The side file's contents: chunks at increasing offsets, zero-filled between them. */
export interface ExternalData {
  /** Path of the side file relative to the model file, as recorded in the model. */
  location: string;
  chunks: ExternalChunk[];
  byteLength: number;
}

/** Initializers below this many bytes stay inside the model. */
export const DEFAULT_EXTERNAL_THRESHOLD = 1024;
/** A single protobuf message cannot exceed 2 GiB; leave room for everything that is not a weight. */
export const MAX_INLINE_BYTES = 2 ** 31 - 64 * 2 ** 20;

const alignmentFor = (n: number) => (n >= 2 ** 20 ? 65536 : 64);

/** Moves the raw data of initializers of at least `threshold` bytes to the side file, in order. */
export function moveToExternal(initializers: TensorProto[], location: string, threshold: number): ExternalData {
  const chunks: ExternalChunk[] = [];
  let end = 0;
  for (const t of initializers) {
    const bytes = t.rawData;
    if (!bytes || bytes.byteLength < threshold) continue;
    const align = alignmentFor(bytes.byteLength);
    const offset = Math.ceil(end / align) * align;
    chunks.push({ offset, bytes });
    end = offset + bytes.byteLength;
    delete t.rawData;
    t.dataLocation = EXTERNAL_LOCATION;
    t.externalData = [
      { key: "location", value: location },
      { key: "offset", value: String(offset) },
      { key: "length", value: String(bytes.byteLength) },
    ];
  }
  return { location, chunks, byteLength: end };
}

/** The side file's chunks with their bytes made, for a caller that wants them in memory. */
export function materialize(ext: ExternalData): ExternalData {
  return { ...ext, chunks: ext.chunks.map((c) => ({ offset: c.offset, bytes: bytesOfChunk(c) })) };
}

export function bytesOfChunk(c: ExternalChunk): Uint8Array {
  return c.bytes instanceof Uint8Array ? c.bytes : c.bytes.bytes();
}

export function inlineBytes(initializers: readonly TensorProto[]): number {
  return initializers.reduce((acc, t) => acc + (t.rawData?.byteLength ?? 0), 0);
}
