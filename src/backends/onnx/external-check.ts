// ONNX external data names files by path (TensorProto.external_data "location"), and onnxruntime opens whatever a
// model names: `/etc/passwd`, `../../secret`, a FIFO, a device. A model file is untrusted input, so before
// onnxruntime sees it every location must be a relative path to a regular file of bounded size inside the model's
// folder (after links are resolved), and each tensor's bytes (offset, length) must lie inside that file.
// A model given as bytes has no folder: it may not name external data at all.
import fs from "node:fs";
import path from "node:path";
import { refusal } from "../../util/input-file.js";
import { DataLocation, DataType, type GraphProto, type ModelProto, type TensorProto } from "./proto.js";

/** Largest side file a model may name (the models netc writes put everything over 2 GiB there). */
export const MAX_EXTERNAL_DATA_BYTES = 2 ** 40;

/** onnxruntime reads a tensor from a raw memory address when its location is this marker. */
const ORT_MEMORY_MARKER = "_ORT_MEM_ADDR_";

const ELEMENT_BYTES: Partial<Record<number, number>> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.UINT16]: 2,
  [DataType.INT16]: 2,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.FLOAT16]: 2,
  [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4,
  [DataType.UINT64]: 8,
  [DataType.BFLOAT16]: 2,
};

/** Every tensor in the model: initializers and attribute tensors, in subgraphs too (iteratively: graphs nest). */
function* tensorsOf(model: ModelProto): Generator<TensorProto> {
  const graphs: GraphProto[] = model.graph ? [model.graph] : [];
  for (let g = graphs.pop(); g; g = graphs.pop()) {
    yield* g.initializer ?? [];
    for (const node of g.node ?? [])
      for (const a of node.attribute ?? []) {
        if (a.t) yield a.t;
        yield* a.tensors ?? [];
        if (a.g) graphs.push(a.g);
        graphs.push(...(a.graphs ?? []));
      }
  }
}

const isExternal = (t: TensorProto) => t.dataLocation === DataLocation.EXTERNAL || (t.externalData?.length ?? 0) > 0;

export function usesExternalData(model: ModelProto): boolean {
  for (const t of tensorsOf(model)) if (isExternal(t)) return true;
  return false;
}

/** A whole number of bytes from an external_data entry, or undefined when it is not one. */
function byteCount(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,16}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The tensor's size in bytes from its type and dims, when both are known. */
function expectedBytes(t: TensorProto): number | undefined {
  const element = ELEMENT_BYTES[t.dataType ?? 0];
  if (element === undefined) return undefined;
  const n = (t.dims ?? []).reduce<number>((p, d) => p * Number(d), element);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Why the external data of `model` may not be read, one line per problem (empty when it may, or when it has none).
 * `modelDir` is the folder of the model file onnxruntime resolves locations against; undefined for bytes.
 */
export function externalDataProblems(model: ModelProto, modelDir: string | undefined): string[] {
  const problems: string[] = [];
  const sizes = new Map<string, number | string>(); // location -> file size, or why the file is refused
  const realDir = modelDir === undefined ? undefined : fs.realpathSync(modelDir);
  for (const t of tensorsOf(model)) {
    if (!isExternal(t)) continue;
    const name = `the tensor ${JSON.stringify(t.name ?? "")}`;
    if (realDir === undefined) {
      problems.push(
        `${name} keeps its data in an external file, and a model given as bytes has no folder to read it from`,
      );
      continue;
    }
    const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? "", e.value]));
    const location = entries.get("location");
    if (location === undefined || location === "") {
      problems.push(`${name} is stored externally but names no location`);
      continue;
    }
    const shown = `${name}: its external data location ${JSON.stringify(location)}`;
    let size = sizes.get(location);
    if (size === undefined) {
      size = sideFileSize(location, realDir);
      sizes.set(location, size);
    }
    if (typeof size === "string") {
      problems.push(`${shown} ${size}`);
      continue;
    }
    const offset = entries.has("offset") ? byteCount(entries.get("offset")) : 0;
    const length = entries.has("length") ? byteCount(entries.get("length")) : expectedBytes(t);
    if (offset === undefined)
      problems.push(`${shown} has the offset ${JSON.stringify(entries.get("offset"))}, not a whole number of bytes`);
    else if (length === undefined)
      problems.push(
        entries.has("length")
          ? `${shown} has the length ${JSON.stringify(entries.get("length"))}, not a whole number of bytes`
          : `${shown} has no length, and the tensor's type does not give one`,
      );
    else if (offset + length > size)
      problems.push(
        `${shown} holds ${size} bytes, but the tensor's bytes ${offset} to ${offset + length} lie past its end`,
      );
  }
  return problems;
}

/** The size of the side file `location` names, or why it may not be read (a phrase after "location X"). */
function sideFileSize(location: string, realDir: string): number | string {
  if (location.includes("\0")) return "holds a NUL character";
  if (location.includes(ORT_MEMORY_MARKER)) return "is onnxruntime's raw-memory marker, which no model file may use";
  if (path.isAbsolute(location) || path.win32.isAbsolute(location))
    return "is an absolute path; external data must be a file beside the model";
  let real: string;
  try {
    real = fs.realpathSync(path.join(realDir, location));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT"
      ? "names no file in the model's folder"
      : `cannot be read (${code ?? (e as Error).message})`;
  }
  if (!real.startsWith(realDir.endsWith(path.sep) ? realDir : realDir + path.sep))
    return "leads outside the model's folder";
  const st = fs.statSync(real);
  const why = refusal(st);
  if (why) return `names a path that ${why.replace(/^it /, "")}`;
  if (st.size > MAX_EXTERNAL_DATA_BYTES)
    return `names a file of ${st.size} bytes, more than the ${MAX_EXTERNAL_DATA_BYTES} netc lets onnxruntime read`;
  return st.size;
}
