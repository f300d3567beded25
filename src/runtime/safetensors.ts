// A minimal safetensors reader over bytes in memory, for browsers and Node alike (the bundle's weights file).
import { WgslRuntimeError } from "./errors.js";

export interface StoredTensor {
  dtype: string;
  shape: number[];
  /** A view of the tensor's bytes inside the file. */
  bytes: Uint8Array;
}

export function parseSafetensors(file: Uint8Array): Map<string, StoredTensor> {
  if (file.byteLength < 8) throw new WgslRuntimeError("the weights file is too short to be safetensors");
  const headerLength = Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
  if (8 + headerLength > file.byteLength) throw new WgslRuntimeError("the weights file ends inside its safetensors header");
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  const data = file.subarray(8 + headerLength);
  const out = new Map<string, StoredTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets: [begin, end] } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (end > data.byteLength || begin > end) throw new WgslRuntimeError(`the weights file is truncated at tensor ${name}`);
    out.set(name, { dtype, shape, bytes: data.subarray(begin, end) });
  }
  return out;
}
