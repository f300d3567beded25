import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BinaryFile } from "../../src/weights/file.js";
import { openCheckpoint } from "../../src/weights/index.js";
import { ZipArchive } from "../../src/weights/zip.js";
import { editedCopy, expectDiagnostic, fixture, tempDir } from "./helpers.js";

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface SparseEntry {
  name: string;
  size: number;
  /** Bytes written at offsets inside the entry; the rest stays a hole in a sparse file. */
  chunks: { at: number; bytes: Uint8Array }[];
}

/**
 * Writes a zip64 archive of STORED entries with every size and offset in zip64 extra fields, as torch does past 4 GB.
 */
function writeZip64(file: string, entries: SparseEntry[]): void {
  const fd = fs.openSync(file, "w");
  const write = (bytes: Uint8Array, at: number) => fs.writeSync(fd, bytes, 0, bytes.byteLength, at);
  const central: Buffer[] = [];
  let at = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30 + name.length + 20);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(45, 4);
    local.writeUInt32LE(0xffffffff, 18);
    local.writeUInt32LE(0xffffffff, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(20, 28);
    name.copy(local, 30);
    local.writeUInt16LE(1, 30 + name.length);
    local.writeUInt16LE(16, 32 + name.length);
    local.writeBigUInt64LE(BigInt(e.size), 34 + name.length);
    local.writeBigUInt64LE(BigInt(e.size), 42 + name.length);
    write(local, at);
    const dataAt = at + local.length;
    for (const c of e.chunks) write(c.bytes, dataAt + c.at);

    const cd = Buffer.alloc(46 + name.length + 28);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(45, 4);
    cd.writeUInt16LE(45, 6);
    cd.writeUInt32LE(0xffffffff, 20);
    cd.writeUInt32LE(0xffffffff, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt16LE(28, 30);
    cd.writeUInt32LE(0xffffffff, 42);
    name.copy(cd, 46);
    cd.writeUInt16LE(1, 46 + name.length);
    cd.writeUInt16LE(24, 48 + name.length);
    cd.writeBigUInt64LE(BigInt(e.size), 50 + name.length);
    cd.writeBigUInt64LE(BigInt(e.size), 58 + name.length);
    cd.writeBigUInt64LE(BigInt(at), 66 + name.length);
    central.push(cd);
    at = dataAt + e.size;
  }
  const dirBytes = Buffer.concat(central);
  write(dirBytes, at);
  const record = Buffer.alloc(56 + 20 + 22);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeUInt16LE(45, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(BigInt(entries.length), 24);
  record.writeBigUInt64LE(BigInt(entries.length), 32);
  record.writeBigUInt64LE(BigInt(dirBytes.length), 40);
  record.writeBigUInt64LE(BigInt(at), 48);
  record.writeUInt32LE(0x07064b50, 56);
  record.writeBigUInt64LE(BigInt(at + dirBytes.length), 64);
  record.writeUInt32LE(1, 72);
  record.writeUInt32LE(0x06054b50, 76);
  record.writeUInt16LE(0xffff, 84);
  record.writeUInt16LE(0xffff, 86);
  record.writeUInt32LE(0xffffffff, 88);
  record.writeUInt32LE(0xffffffff, 92);
  write(record, at + dirBytes.length);
  fs.closeSync(fd);
}

describe("zip reader", () => {
  it("reads torch's archive: zip64 trailer, data aligned to 64 bytes", () => {
    const file = BinaryFile.open(fixture("zip_dtypes.pth"));
    try {
      const zip = ZipArchive.read(file);
      const names = [...zip.names()];
      expect(names).toContain("zip_dtypes/data.pkl");
      expect(names).toContain("zip_dtypes/version");
      for (const name of names.filter((n) => n.includes("/data/"))) expect(zip.get(name)!.dataOffset % 64).toBe(0);
      expect(new TextDecoder().decode(zip.readEntry("zip_dtypes/version")).trim()).toBe("3");
    } finally {
      file.close();
    }
  });

  it("reads a tensor that lies beyond 4 GiB in a file over 4 GiB, without reading the file", () => {
    const numel = 2 ** 30 + 16; // 4 GiB + 64 bytes of float32
    const values = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const big = path.join(dir, "big.pth");
    const pickle = fs.readFileSync(fixture("big_storage.data.pkl"));
    writeZip64(big, [
      { name: "big/data.pkl", size: pickle.length, chunks: [{ at: 0, bytes: pickle }] },
      { name: "big/data/0", size: numel * 4, chunks: [{ at: (numel - 8) * 4, bytes: new Uint8Array(values.buffer) }] },
      { name: "big/version", size: 2, chunks: [{ at: 0, bytes: Buffer.from("3\n") }] },
    ]);
    expect(fs.statSync(big).size).toBeGreaterThan(2 ** 32);

    const ckpt = openCheckpoint(big);
    try {
      const [tail] = ckpt.tensors;
      expect(tail.key).toBe("tail");
      expect(tail.storage.numel).toBe(numel);
      expect(tail.storage.fileOffset + tail.storageOffset * 4).toBeGreaterThan(2 ** 32);
      expect(ckpt.readTensor(tail).data).toEqual(values);
    } finally {
      ckpt.close();
      fs.rmSync(big);
    }
  });
});

describe("corrupt zips", () => {
  const src = fixture("zip_dtypes.pth");
  const size = fs.statSync(src).size;
  const eocd = size - 22;

  it("without an end-of-central-directory record", () => {
    const bad = editedCopy(src, dir, (b) => b.writeUInt32LE(0, eocd));
    expectDiagnostic(() => openCheckpoint(bad), "NET6004", "edited-zip_dtypes.pth", "end-of-central-directory");
  });

  it("whose zip64 record points elsewhere", () => {
    const bad = editedCopy(src, dir, (b) => b.writeBigUInt64LE(BigInt(size - 200), eocd - 20 + 8));
    expectDiagnostic(() => openCheckpoint(bad), "NET6004", "zip64");
  });

  it("whose central directory overlaps its end", () => {
    const record = Number(fs.readFileSync(src).readBigUInt64LE(eocd - 20 + 8));
    const bad = editedCopy(src, dir, (b) => b.writeBigUInt64LE(BigInt(size), record + 48));
    expectDiagnostic(() => openCheckpoint(bad), "NET6004", "central directory");
  });

  it("whose local header is not where the directory says", () => {
    const bad = editedCopy(src, dir, (b) => b.writeUInt32LE(0xdeadbeef, b.indexOf("PK\x03\x04", 4, "latin1")));
    expectDiagnostic(() => openCheckpoint(bad), "NET6004", "local header");
  });

  it("with an entry re-compressed (deflate), which torch never writes", () => {
    expectDiagnostic(() => openCheckpoint(fixture("deflated.pth")), "NET6005", "deflated.pth", "compressed (method 8)");
  });
});
