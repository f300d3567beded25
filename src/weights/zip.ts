// A zip reader for the archives torch.save writes: central directory, zip64 records, STORED entries only.
// Every offset and length read from the file is checked against the file before it is used.
import { WeightCodes, weightError } from "../diagnostics/weight-codes.js";
import type { BinaryFile } from "./file.js";

export interface ZipEntry {
  readonly name: string;
  /** Absolute offset of the entry's first data byte. */
  readonly dataOffset: number;
  readonly size: number;
}

interface CentralEntry extends ZipEntry {
  /** 0 is STORED; anything else needs inflating, which torch never requires. */
  readonly method: number;
  readonly encrypted: boolean;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const MAX_COMMENT = 0xffff;
const ZIP64_EXTRA_ID = 0x0001;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;
const METHOD_STORED = 0;
const FLAG_ENCRYPTED = 1;

const utf8 = new TextDecoder("utf-8");

interface Directory {
  offset: number;
  size: number;
  count: number;
}

export class ZipArchive {
  private constructor(
    readonly file: BinaryFile,
    private readonly entries: ReadonlyMap<string, CentralEntry>,
  ) {}

  names(): IterableIterator<string> {
    return this.entries.keys();
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry's data location; a compressed or encrypted entry is refused here, when it is needed. */
  get(name: string): ZipEntry | undefined {
    const entry = this.entries.get(name);
    if (entry?.encrypted)
      throw weightError(WeightCodes.UnsupportedZip, `${this.file.path}: zip entry '${name}' is encrypted`);
    if (entry && entry.method !== METHOD_STORED) {
      throw weightError(
        WeightCodes.UnsupportedZip,
        `${this.file.path}: zip entry '${name}' is compressed (method ${entry.method}); torch.save stores ` +
          `entries uncompressed`,
      );
    }
    return entry;
  }

  static read(file: BinaryFile): ZipArchive {
    const dir = findDirectory(file);
    const raw = file.read(dir.offset, dir.size, "the zip central directory");
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const entries = new Map<string, CentralEntry>();
    let at = 0;
    for (let i = 0; i < dir.count; i++) {
      const entry = readCentralEntry(file, view, raw, at, dir.offset);
      if (entries.has(entry.name)) corrupt(file, `the entry '${entry.name}' appears twice`);
      entries.set(entry.name, entry);
      at = entry.nextCentral;
    }
    return new ZipArchive(file, entries);
  }

  /** Reads a whole entry; for small entries (pickles, version records), never for tensor data. */
  readEntry(name: string): Uint8Array {
    const entry = this.get(name) ?? corrupt(this.file, `there is no entry '${name}'`);
    return this.file.read(entry.dataOffset, entry.size, `zip entry '${name}'`);
  }
}

function corrupt(file: BinaryFile, detail: string): never {
  throw weightError(WeightCodes.CorruptZip, `${file.path}: corrupt zip archive: ${detail}`);
}

function u64(file: BinaryFile, view: DataView, at: number, what: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) corrupt(file, `${what} ${v} is out of range`);
  return Number(v);
}

/** Locates the central directory through the end-of-central-directory record and, when present, its zip64 twin. */
function findDirectory(file: BinaryFile): Directory {
  if (file.size < EOCD_SIZE) corrupt(file, "the file is too short to hold an end-of-central-directory record");
  const tailLength = Math.min(file.size, ZIP64_LOCATOR_SIZE + EOCD_SIZE + MAX_COMMENT);
  const tailStart = file.size - tailLength;
  const tail = file.read(tailStart, tailLength, "the zip trailer");
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let at = tailLength - EOCD_SIZE; at >= 0; at--) {
    if (view.getUint32(at, true) === SIG_EOCD && at + EOCD_SIZE + view.getUint16(at + 20, true) <= tailLength) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) corrupt(file, "no end-of-central-directory record (the file is truncated or not a zip archive)");
  if (view.getUint16(eocd + 4, true) !== 0 || view.getUint16(eocd + 6, true) !== 0) {
    throw weightError(
      WeightCodes.UnsupportedZip,
      `${file.path}: zip archives split over several disks are not supported`,
    );
  }
  let dir: Directory = {
    count: view.getUint16(eocd + 10, true),
    size: view.getUint32(eocd + 12, true),
    offset: view.getUint32(eocd + 16, true),
  };
  let dirEnd = tailStart + eocd;
  const locator = eocd - ZIP64_LOCATOR_SIZE;
  if (locator >= 0 && view.getUint32(locator, true) === SIG_ZIP64_LOCATOR) {
    const recordAt = u64(file, view, locator + 8, "the zip64 record offset");
    const record = file.read(recordAt, ZIP64_EOCD_SIZE, "the zip64 end-of-central-directory record");
    const rv = new DataView(record.buffer, record.byteOffset, record.byteLength);
    if (rv.getUint32(0, true) !== SIG_ZIP64_EOCD)
      corrupt(file, `no zip64 end-of-central-directory record at offset ${recordAt}`);
    dir = {
      count: u64(file, rv, 32, "the entry count"),
      size: u64(file, rv, 40, "the central directory size"),
      offset: u64(file, rv, 48, "the central directory offset"),
    };
    dirEnd = recordAt;
  } else if (dir.count === U16_MAX || dir.size === U32_MAX || dir.offset === U32_MAX) {
    corrupt(file, "the end-of-central-directory record needs a zip64 record that is missing");
  }
  if (dir.offset + dir.size > dirEnd) {
    corrupt(
      file,
      `the central directory (${dir.size} bytes at offset ${dir.offset}) overlaps its end record at ${dirEnd}`,
    );
  }
  if (dir.count * CENTRAL_SIZE > dir.size)
    corrupt(file, `${dir.count} entries cannot fit in a ${dir.size}-byte directory`);
  return dir;
}

interface ParsedEntry extends CentralEntry {
  nextCentral: number;
}

function readCentralEntry(
  file: BinaryFile,
  view: DataView,
  raw: Uint8Array,
  at: number,
  dirOffset: number,
): ParsedEntry {
  const where = `the central directory entry at offset ${dirOffset + at}`;
  if (at + CENTRAL_SIZE > raw.byteLength || view.getUint32(at, true) !== SIG_CENTRAL)
    corrupt(file, `${where} is invalid`);
  const flags = view.getUint16(at + 8, true);
  const method = view.getUint16(at + 10, true);
  let compressed = view.getUint32(at + 20, true);
  let size = view.getUint32(at + 24, true);
  const nameLength = view.getUint16(at + 28, true);
  const extraLength = view.getUint16(at + 30, true);
  const commentLength = view.getUint16(at + 32, true);
  let localOffset = view.getUint32(at + 42, true);
  const nameStart = at + CENTRAL_SIZE;
  const extraStart = nameStart + nameLength;
  const next = extraStart + extraLength + commentLength;
  if (next > raw.byteLength) corrupt(file, `${where} runs past the directory`);
  const name = utf8.decode(raw.subarray(nameStart, extraStart));

  // Zip64 extra field: 64-bit values for exactly those fields saturated at 0xffffffff, in this order.
  for (let e = extraStart; e + 4 <= extraStart + extraLength; ) {
    const id = view.getUint16(e, true);
    const length = view.getUint16(e + 2, true);
    if (e + 4 + length > extraStart + extraLength) corrupt(file, `${where} has a malformed extra field`);
    if (id === ZIP64_EXTRA_ID) {
      let p = e + 4;
      const take = (): number => {
        if (p + 8 > e + 4 + length) corrupt(file, `the zip64 field of '${name}' is too short`);
        const v = u64(file, view, p, `a zip64 value of '${name}'`);
        p += 8;
        return v;
      };
      if (size === U32_MAX) size = take();
      if (compressed === U32_MAX) compressed = take();
      if (localOffset === U32_MAX) localOffset = take();
    }
    e += 4 + length;
  }

  if (method === METHOD_STORED && compressed !== size) {
    corrupt(file, `the stored entry '${name}' claims ${compressed} bytes stored for ${size} bytes of data`);
  }
  const dataOffset = localDataOffset(file, name, localOffset);
  if (dataOffset + compressed > dirOffset) {
    corrupt(file, `the data of '${name}' (${compressed} bytes at offset ${dataOffset}) overlaps the central directory`);
  }
  return { name, dataOffset, size, method, encrypted: (flags & FLAG_ENCRYPTED) !== 0, nextCentral: next };
}

/** The local header repeats the name and has its own extra field (torch pads it to align data to 64 bytes). */
function localDataOffset(file: BinaryFile, name: string, localOffset: number): number {
  const header = file.read(localOffset, LOCAL_SIZE, `the local header of '${name}'`);
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (view.getUint32(0, true) !== SIG_LOCAL) corrupt(file, `no local header for '${name}' at offset ${localOffset}`);
  return localOffset + LOCAL_SIZE + view.getUint16(26, true) + view.getUint16(28, true);
}
