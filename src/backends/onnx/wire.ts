// The protobuf wire format, driven by field tables: enough of it for ONNX (varints, 32/64-bit fixed, length-delimited
// fields, packed repeated scalars), with no dependencies. int64 values are numbers where they are safe integers and
// bigints otherwise, so nothing is silently rounded. Encoding writes fields in field-number order, as protoc and
// protobufjs do, and packs repeated numeric fields (protobufjs's choice; every parser must accept both forms).
// A bytes field may be given lazily (its length now, its bytes when written), so that a model's weights can be
// streamed into a file one at a time: every length prefix is known before the first byte goes out.

/** An int64 field's value: a number when it is a safe integer, a bigint otherwise (decoding) or either (encoding). */
export type Int64 = number | bigint;

export type ScalarKind = "int32" | "int64" | "uint64" | "float" | "double" | "string" | "bytes";

export interface FieldSpec {
  no: number;
  key: string;
  kind: ScalarKind | "message";
  repeated?: boolean;
  /** The schema of a message field (a thunk: ONNX's messages refer to each other). */
  message?: () => Schema;
}

/** A message's fields in field-number order. */
export type Schema = readonly FieldSpec[];

/** A bytes field's value made only when it is written (a weight read from its checkpoint); its length is fixed. */
export interface LazyBytes {
  readonly byteLength: number;
  bytes(): Uint8Array;
}

const isLazyBytes = (v: unknown): v is LazyBytes => typeof (v as Partial<LazyBytes>).bytes === "function";

/** A malformed message (truncated, a bad wire type, a value out of range). */
export class ProtobufError extends Error {}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;

const isPackable = (kind: FieldSpec["kind"]) => kind !== "string" && kind !== "bytes" && kind !== "message";

function wireTypeOf(kind: FieldSpec["kind"]): number {
  switch (kind) {
    case "float":
      return WIRE_FIXED32;
    case "double":
      return WIRE_FIXED64;
    case "string":
    case "bytes":
    case "message":
      return WIRE_LENGTH;
    default:
      return WIRE_VARINT;
  }
}

const TWO_64 = 1n << 64n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** The unsigned 64-bit pattern a varint carries for an int32/int64/uint64 value (negative ints use ten bytes). */
function varintBits(value: unknown, kind: ScalarKind, key: string): number | bigint {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new ProtobufError(`${key} must be an integer, got ${value}`);
    if (kind === "int32" && (value < -(2 ** 31) || value >= 2 ** 31))
      throw new ProtobufError(`${key} is out of the int32 range: ${value}`);
    if (kind === "uint64" && value < 0) throw new ProtobufError(`${key} must not be negative, got ${value}`);
    return value >= 0 ? value : BigInt(value) + TWO_64;
  }
  if (typeof value === "bigint") {
    const [lo, hi] =
      kind === "uint64"
        ? [0n, TWO_64 - 1n]
        : kind === "int32"
          ? [-(2n ** 31n), 2n ** 31n - 1n]
          : [INT64_MIN, INT64_MAX];
    if (value < lo || value > hi) throw new ProtobufError(`${key} is out of the ${kind} range: ${value}`);
    return value >= 0n ? value : value + TWO_64;
  }
  throw new ProtobufError(`${key} must be a number or bigint, got ${typeof value}`);
}

function varintSize(bits: number | bigint): number {
  if (typeof bits === "number") {
    let n = 1;
    while (bits >= 128) {
      bits = Math.floor(bits / 128);
      n++;
    }
    return n;
  }
  let n = 1;
  while (bits >= 128n) {
    bits >>= 7n;
    n++;
  }
  return n;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3; // lone surrogates become U+FFFD, three bytes
  }
  return n;
}

const present = (v: unknown) => v !== undefined && v !== null;

/** First pass: the size of every message, kept so the second pass writes length prefixes without re-measuring. */
class Sizer {
  readonly sizes = new Map<object, number>();

  message(msg: Record<string, unknown>, schema: Schema): number {
    let total = 0;
    for (const f of schema) {
      const v = msg[f.key];
      if (!present(v)) continue;
      const tag = varintSize(f.no * 8);
      if (f.repeated) {
        const items = v as readonly unknown[];
        if (items.length === 0) continue;
        if (isPackable(f.kind)) {
          const body = items.reduce<number>((s, x) => s + this.scalar(x, f), 0);
          this.sizes.set(items, body);
          total += tag + varintSize(body) + body;
        } else for (const x of items) total += tag + this.delimited(x, f);
      } else total += tag + (isPackable(f.kind) ? this.scalar(v, f) : this.delimited(v, f));
    }
    this.sizes.set(msg, total);
    return total;
  }

  private scalar(v: unknown, f: FieldSpec): number {
    if (f.kind === "float") return 4;
    if (f.kind === "double") return 8;
    return varintSize(varintBits(v, f.kind as ScalarKind, f.key));
  }

  /** A length prefix and the body of a string, bytes or message field. */
  private delimited(v: unknown, f: FieldSpec): number {
    let body: number;
    if (f.kind === "string") body = utf8Length(v as string);
    else if (f.kind === "bytes") body = (v as Uint8Array | LazyBytes).byteLength;
    else body = this.message(v as Record<string, unknown>, f.message!());
    return varintSize(body) + body;
  }
}

/** Where a streamed message goes: each chunk is consumed (written out) before the call returns. */
export type ByteSink = (chunk: Uint8Array) => void;

/** Bytes a streaming writer gathers before handing them to its sink. */
const STREAM_CHUNK = 1 << 20;

class Writer {
  private pos = 0;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly utf8 = new TextEncoder();

  /** Without a sink, `size` is the whole message's; with one, the buffer is a window flushed to the sink. */
  constructor(
    size: number,
    private readonly sizes: Map<object, number>,
    private readonly sink?: ByteSink,
  ) {
    this.bytes = new Uint8Array(sink ? STREAM_CHUNK : size);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  /** The whole message (no sink), or the bytes not yet flushed. */
  get written(): Uint8Array {
    return this.bytes.subarray(0, this.pos);
  }

  flush(): void {
    if (this.pos === 0) return;
    this.sink!(this.bytes.subarray(0, this.pos));
    this.pos = 0;
  }

  /** Room for `n` more bytes (a varint or a fixed-width value): a streaming buffer is flushed when it is short. */
  private room(n: number): void {
    if (this.sink && this.pos + n > this.bytes.byteLength) this.flush();
  }

  /** Raw bytes: copied into the buffer when they fit, else passed to the sink as they are. */
  private raw(b: Uint8Array): void {
    if (this.pos + b.byteLength <= this.bytes.byteLength) {
      this.bytes.set(b, this.pos);
      this.pos += b.byteLength;
      return;
    }
    this.flush();
    this.sink!(b);
  }

  private varint(bits: number | bigint): void {
    this.room(10);
    if (typeof bits === "number") {
      while (bits >= 128) {
        this.bytes[this.pos++] = (bits % 128) | 128;
        bits = Math.floor(bits / 128);
      }
      this.bytes[this.pos++] = bits;
      return;
    }
    while (bits >= 128n) {
      this.bytes[this.pos++] = Number(bits & 127n) | 128;
      bits >>= 7n;
    }
    this.bytes[this.pos++] = Number(bits);
  }

  message(msg: Record<string, unknown>, schema: Schema): void {
    for (const f of schema) {
      const v = msg[f.key];
      if (!present(v)) continue;
      if (f.repeated) {
        const items = v as readonly unknown[];
        if (items.length === 0) continue;
        if (isPackable(f.kind)) {
          this.varint(f.no * 8 + WIRE_LENGTH);
          this.varint(this.sizes.get(items)!);
          for (const x of items) this.scalar(x, f);
        } else
          for (const x of items) {
            this.varint(f.no * 8 + WIRE_LENGTH);
            this.delimited(x, f);
          }
      } else {
        this.varint(f.no * 8 + wireTypeOf(f.kind));
        if (isPackable(f.kind)) this.scalar(v, f);
        else this.delimited(v, f);
      }
    }
  }

  private scalar(v: unknown, f: FieldSpec): void {
    if (f.kind === "float") {
      this.room(4);
      this.view.setFloat32(this.pos, v as number, true);
      this.pos += 4;
    } else if (f.kind === "double") {
      this.room(8);
      this.view.setFloat64(this.pos, v as number, true);
      this.pos += 8;
    } else this.varint(varintBits(v, f.kind as ScalarKind, f.key));
  }

  private delimited(v: unknown, f: FieldSpec): void {
    if (f.kind === "string") {
      const s = v as string;
      const n = utf8Length(s);
      this.varint(n);
      if (this.pos + n <= this.bytes.byteLength)
        this.pos += this.utf8.encodeInto(s, this.bytes.subarray(this.pos)).written;
      else this.raw(this.utf8.encode(s));
    } else if (f.kind === "bytes") {
      const b = v as Uint8Array | LazyBytes;
      this.varint(b.byteLength);
      if (!isLazyBytes(b)) return this.raw(b);
      const made = b.bytes();
      if (made.byteLength !== b.byteLength)
        throw new ProtobufError(`${f.key} was announced as ${b.byteLength} bytes but came as ${made.byteLength}`);
      this.raw(made);
    } else {
      this.varint(this.sizes.get(v as object)!);
      this.message(v as Record<string, unknown>, f.message!());
    }
  }
}

/** Serializes `msg` by `schema`. Absent (undefined or null) fields and empty repeated fields are not written. */
export function encodeMessage(msg: object, schema: Schema): Uint8Array {
  const sizer = new Sizer();
  const size = sizer.message(msg as Record<string, unknown>, schema);
  const writer = new Writer(size, sizer.sizes);
  writer.message(msg as Record<string, unknown>, schema);
  return writer.written;
}

/** The size `msg` encodes to, measured without encoding it (lazy bytes are not made). */
export function encodedSize(msg: object, schema: Schema): number {
  return new Sizer().message(msg as Record<string, unknown>, schema);
}

/**
 * Serializes `msg` into `sink`, a window at a time, with the same bytes as encodeMessage; lazy bytes are made one
 * field at a time, as they are reached, and passed on without being kept.
 */
export function encodeMessageTo(msg: object, schema: Schema, sink: ByteSink): void {
  const sizer = new Sizer();
  const size = sizer.message(msg as Record<string, unknown>, schema);
  const writer = new Writer(size, sizer.sizes, sink);
  writer.message(msg as Record<string, unknown>, schema);
  writer.flush();
}

class Reader {
  pos: number;
  private readonly view: DataView;
  private static readonly utf8 = new TextDecoder();

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new ProtobufError(`truncated message at byte ${this.pos}`);
  }

  /** A varint as its unsigned 64-bit value: a number below 2^53, else a bigint. */
  varint(): number | bigint {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      this.need(1);
      const b = this.bytes[this.pos++];
      if (i < 7) {
        value += (b & 127) * scale;
        scale *= 128;
        if (b < 128) return value;
        continue;
      }
      // Past 49 bits: finish in bigint, exactly.
      let big = BigInt(value) + BigInt(b & 127) * (1n << 49n);
      let shift = 56n;
      let last = b;
      while (last >= 128) {
        if (shift > 63n) throw new ProtobufError(`varint longer than ten bytes at byte ${this.pos}`);
        this.need(1);
        last = this.bytes[this.pos++];
        big += BigInt(last & 127) << shift;
        shift += 7n;
      }
      big = BigInt.asUintN(64, big);
      return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    throw new ProtobufError(`varint longer than ten bytes at byte ${this.pos}`);
  }

  length(): number {
    const n = this.varint();
    if (typeof n !== "number" || this.pos + n > this.end)
      throw new ProtobufError(`a length-delimited field runs past the end of its message at byte ${this.pos}`);
    return n;
  }

  scalar(kind: ScalarKind): unknown {
    switch (kind) {
      case "float": {
        this.need(4);
        const v = this.view.getFloat32(this.pos, true);
        this.pos += 4;
        return v;
      }
      case "double": {
        this.need(8);
        const v = this.view.getFloat64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case "string": {
        const n = this.length();
        const s = Reader.utf8.decode(this.bytes.subarray(this.pos, this.pos + n));
        this.pos += n;
        return s;
      }
      case "bytes": {
        const n = this.length();
        const b = this.bytes.subarray(this.pos, this.pos + n);
        this.pos += n;
        return b;
      }
      default: {
        const bits = this.varint();
        if (
          kind === "uint64" ||
          (typeof bits === "number" && bits <= (kind === "int32" ? 2 ** 31 - 1 : Number.MAX_SAFE_INTEGER))
        )
          return bits;
        const signed = BigInt.asIntN(kind === "int32" ? 32 : 64, BigInt(bits));
        return signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(signed)
          : signed;
      }
    }
  }

  skip(wireType: number): void {
    if (wireType === WIRE_VARINT) this.varint();
    else if (wireType === WIRE_FIXED64) this.advance(8);
    else if (wireType === WIRE_FIXED32) this.advance(4);
    else if (wireType === WIRE_LENGTH) this.advance(this.length());
    else throw new ProtobufError(`unsupported wire type ${wireType} at byte ${this.pos}`);
  }

  private advance(n: number): void {
    this.need(n);
    this.pos += n;
  }
}

function decodeFields(r: Reader, schema: Schema, bytes: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of schema) if (f.repeated) out[f.key] = [];
  const byNumber = new Map(schema.map((f) => [f.no, f]));
  while (r.pos < r.end) {
    const tag = r.varint();
    if (typeof tag !== "number" || tag < 8) throw new ProtobufError(`bad field tag at byte ${r.pos}`);
    const no = Math.floor(tag / 8);
    const wireType = tag % 8;
    const f = byNumber.get(no);
    if (!f) {
      r.skip(wireType);
      continue;
    }
    if (f.repeated && isPackable(f.kind) && wireType === WIRE_LENGTH) {
      const length = r.length();
      const end = r.pos + length;
      const items = out[f.key] as unknown[];
      const packed = new Reader(bytes, r.pos, end);
      while (packed.pos < end) items.push(packed.scalar(f.kind as ScalarKind));
      r.pos = end;
      continue;
    }
    if (wireType !== wireTypeOf(f.kind))
      throw new ProtobufError(`field ${f.key} (${no}) has wire type ${wireType}, expected ${wireTypeOf(f.kind)}`);
    let value: unknown;
    if (f.kind === "message") {
      const length = r.length();
      const end = r.pos + length;
      value = decodeFields(new Reader(bytes, r.pos, end), f.message!(), bytes);
      r.pos = end;
    } else value = r.scalar(f.kind);
    if (f.repeated) (out[f.key] as unknown[]).push(value);
    else out[f.key] = value; // the last occurrence wins (merging of repeated message fields is not needed for ONNX)
  }
  return out;
}

/**
 * Parses `bytes` by `schema`. Unknown fields are skipped; repeated fields are always arrays; bytes fields are views
 * of `bytes`. Throws ProtobufError for malformed input.
 */
export function decodeMessage(bytes: Uint8Array, schema: Schema): Record<string, unknown> {
  return decodeFields(new Reader(bytes, 0, bytes.byteLength), schema, bytes);
}
