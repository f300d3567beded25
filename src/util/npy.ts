// Reads and writes numpy .npy files (format versions 1-3, C order, little-endian). A malformed file is reported
// as a BadNpy diagnostic, never thrown: .npy files come from users.
import { CliCodes, makeDiagnostic } from "../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError } from "../diagnostics/diagnostics.js";
import { writeAll, writeFilesAtomic } from "./output.js";
import { InputFileError, MAX_BINARY_BYTES, readRegularFile } from "./input-file.js";
import { bf16BitsToNumber, byteSize, bytesOf, dataFromBytes, type DType, type HostTensor, numel } from "./tensor.js";

export type NpyResult = { ok: true; tensor: HostTensor } | { ok: false; diagnostic: Diagnostic };

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** numpy type strings by element type; bf16 has none and is written as f32. */
const DESCR: Record<Exclude<DType, "bf16">, string> = {
  f32: "<f4",
  f64: "<f8",
  f16: "<f2",
  i64: "<i8",
  i32: "<i4",
  i8: "|i1",
  u8: "|u1",
  bool: "|b1",
};

/** Accepted type strings: '<' or '=' (native, and this reader assumes a little-endian host); '|' for bytes. */
function dtypeOfDescr(descr: string): DType | undefined {
  const order = descr[0];
  const code = descr.slice(1);
  for (const [dtype, d] of Object.entries(DESCR) as [DType, string][]) {
    if (d.slice(1) !== code) continue;
    const single = byteSize(dtype) === 1;
    if (order === "<" || order === "=" || (single && order === "|")) return dtype;
  }
  return undefined;
}

class NpyError extends Error {}

type PyValue = string | number | boolean | PyValue[] | Map<string, PyValue>;

/**
 * A real header nests a shape tuple in a dict: two levels. Deeper nesting is refused before it can exhaust the stack.
 */
const MAX_HEADER_DEPTH = 16;

/** Parses the header: a Python dict literal of strings, ints, bools and tuples (never evaluated). */
function parseHeader(text: string): Map<string, PyValue> {
  let i = 0;
  let depth = 0;
  const nest = () => {
    if (++depth > MAX_HEADER_DEPTH)
      throw new NpyError(`the header nests more than ${MAX_HEADER_DEPTH} levels of brackets`);
  };
  const scalar = /(True|False|-?\d+)L?/y;
  const skip = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const expect = (c: string) => {
    skip();
    if (text[i] !== c) throw new NpyError(`expected '${c}' at offset ${i} of the header`);
    i++;
  };
  const value = (): PyValue => {
    skip();
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new NpyError("unterminated string in the header");
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    if (c === "(" || c === "[") return sequence(c === "(" ? ")" : "]");
    if (c === "{") return dict();
    scalar.lastIndex = i;
    const m = scalar.exec(text);
    if (!m) throw new NpyError(`unexpected '${text.slice(i, i + 10)}' in the header`);
    i += m[0].length;
    return m[1] === "True" ? true : m[1] === "False" ? false : Number(m[1]);
  };
  const sequence = (close: string): PyValue[] => {
    nest();
    i++;
    const out: PyValue[] = [];
    for (skip(); text[i] !== close; skip()) {
      out.push(value());
      skip();
      if (text[i] === ",") i++;
      else if (text[i] !== close) throw new NpyError(`expected ',' or '${close}' in the header`);
    }
    i++;
    depth--;
    return out;
  };
  const dict = (): Map<string, PyValue> => {
    nest();
    expect("{");
    const out = new Map<string, PyValue>();
    for (skip(); text[i] !== "}"; skip()) {
      const k = value();
      if (typeof k !== "string") throw new NpyError("a header key is not a string");
      expect(":");
      out.set(k, value());
      skip();
      if (text[i] === ",") i++;
      else if (text[i] !== "}") throw new NpyError("expected ',' or '}' in the header");
    }
    i++;
    depth--;
    return out;
  };
  const d = dict();
  skip();
  if (i !== text.length) throw new NpyError("extra text after the header dictionary");
  return d;
}

function decode(bytes: Uint8Array): HostTensor {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new NpyError("not a .npy file (bad magic)");
  const major = bytes[6];
  if (major < 1 || major > 3) throw new NpyError(`unsupported .npy format version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenSize = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenSize) throw new NpyError("truncated header");
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenSize;
  if (start + headerLen > bytes.length) throw new NpyError("truncated header");
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(start, start + headerLen));
  const h = parseHeader(text);
  const descr = h.get("descr");
  const fortran = h.get("fortran_order");
  const shape = h.get("shape");
  if (typeof descr !== "string") throw new NpyError("the header has no 'descr' string");
  if (typeof fortran !== "boolean") throw new NpyError("the header has no 'fortran_order' flag");
  if (
    !Array.isArray(shape) ||
    !shape.every((d): d is number => typeof d === "number" && Number.isSafeInteger(d) && d >= 0 && d < 2 ** 31)
  )
    throw new NpyError("the header's 'shape' is not a tuple of sizes from 0 to 2^31-1");
  const dtype = dtypeOfDescr(descr);
  if (!dtype)
    throw new NpyError(
      `unsupported element type '${descr}' (supported: ${Object.values(DESCR).join(", ")}, little-endian)`,
    );
  if (fortran && shape.filter((d) => d !== 1).length > 1)
    throw new NpyError("Fortran-order arrays are not supported; save with np.ascontiguousarray");
  const count = numel(shape);
  const size = count * byteSize(dtype);
  const dataStart = start + headerLen;
  if (!Number.isSafeInteger(size) || dataStart + size > bytes.length)
    throw new NpyError(
      `the data is truncated: shape (${shape.join(", ")}) of ${descr} needs ${size} bytes, the file has ` +
        `${bytes.length - dataStart}`,
    );
  if (dataStart + size < bytes.length)
    throw new NpyError(`${bytes.length - dataStart - size} unexpected bytes after the data`);
  const data = dataFromBytes(dtype, bytes.subarray(dataStart, dataStart + size));
  if (dtype === "bool") for (let i = 0; i < count; i++) data[i] = data[i] ? 1 : 0;
  return { dtype, shape, data };
}

/** Parses .npy bytes; `name` is used in the diagnostic. */
export function parseNpy(bytes: Uint8Array, name = "<npy>"): NpyResult {
  try {
    return { ok: true, tensor: decode(bytes) };
  } catch (e) {
    if (!(e instanceof NpyError)) throw e;
    return { ok: false, diagnostic: makeDiagnostic(CliCodes.BadNpy, `${name}: ${e.message}`) };
  }
}

export function readNpyFile(path: string): NpyResult {
  let bytes: Uint8Array;
  try {
    bytes = readRegularFile(path, MAX_BINARY_BYTES);
  } catch (e) {
    if (!(e instanceof InputFileError)) throw e;
    return { ok: false, diagnostic: e.diagnostic };
  }
  return parseNpy(bytes, path);
}

/** Encodes a tensor as .npy (version 1, or 2 when the header needs it); bf16 is widened to f32 exactly. */
export function encodeNpy(t: HostTensor): Uint8Array {
  const src: HostTensor =
    t.dtype === "bf16"
      ? { dtype: "f32", shape: t.shape, data: Float32Array.from(t.data as Uint16Array, bf16BitsToNumber) }
      : t;
  const shape = src.shape.length === 1 ? `(${src.shape[0]},)` : `(${src.shape.join(", ")})`;
  let header =
    `{'descr': '${DESCR[src.dtype as Exclude<DType, "bf16">]}', 'fortran_order': False, 'shape': ` + `${shape}, }`;
  const v1 = header.length + 11 <= 0xffff;
  const prefix = v1 ? 10 : 12;
  header = `${header.padEnd(Math.ceil((prefix + header.length + 1) / 64) * 64 - prefix - 1, " ")}\n`;
  const data = bytesOf(src);
  const out = new Uint8Array(prefix + header.length + data.byteLength);
  out.set(MAGIC);
  out[6] = v1 ? 1 : 2;
  const view = new DataView(out.buffer);
  if (v1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  out.set(data, prefix + header.length);
  return out;
}

/** Writes one .npy file atomically (a temporary sibling renamed into place). */
export function writeNpyFile(path: string, t: HostTensor): Diagnostic[] {
  const bytes = encodeNpy(t);
  try {
    writeFilesAtomic([{ target: path, write: (fd) => writeAll(fd, bytes) }]);
    return [];
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    return e.diagnostics;
  }
}
