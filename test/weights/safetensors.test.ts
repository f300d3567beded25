import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { allocData, type DType, type HostTensor } from "../../src/util/tensor.js";
import { findStateDict, openCheckpoint, stateDictToSafetensors, writeSafetensors } from "../../src/weights/index.js";
import { expectDiagnostic, expectedTensors, expectTensor, fixture, hexOf, tempDir } from "./helpers.js";

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A safetensors file from a raw header object and data bytes. */
function craft(name: string, header: unknown, data = new Uint8Array(16)): string {
  const json = Buffer.from(typeof header === "string" ? header : JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.concat([length, json, data]));
  return file;
}

function tensor(dtype: DType, shape: number[], fill: (i: number) => number | bigint): HostTensor {
  const data = allocData(
    dtype,
    shape.reduce((a, b) => a * b, 1),
  );
  for (let i = 0; i < data.length; i++) (data as { [i: number]: number | bigint })[i] = fill(i);
  return { dtype, shape, data };
}

describe("safetensors", () => {
  it("reads a file written by an independent writer, with its metadata", () => {
    const ckpt = openCheckpoint(fixture("peer.safetensors"));
    try {
      expect(ckpt.format).toBe("safetensors");
      expect(Object.fromEntries(ckpt.metadata)).toEqual({ format: "pt", source: "make_checkpoints" });
      const expected = expectedTensors("peer.safetensors");
      for (const entry of ckpt.tensors) expectTensor(ckpt.readTensor(entry), expected[entry.key]);
    } finally {
      ckpt.close();
    }
  });

  it("writes every dtype and reads it back bit for bit", () => {
    const tensors = new Map<string, HostTensor>([
      ["f32", tensor("f32", [2, 3], (i) => i - 2.5)],
      ["f16", tensor("f16", [3], (i) => 0x3c00 + i)],
      ["bf16", tensor("bf16", [1, 2], (i) => 0x7fc1 - i)],
      ["f64", tensor("f64", [2], (i) => Math.PI * i)],
      ["i64", tensor("i64", [2], (i) => (i ? -(2n ** 62n) : 2n ** 53n + 1n))],
      ["i32", tensor("i32", [2], (i) => -i)],
      ["i8", tensor("i8", [2], (i) => -128 + i)],
      ["u8", tensor("u8", [4], (i) => 250 + i)],
      ["bool", tensor("bool", [2], (i) => i)],
      ["scalar", tensor("f32", [], () => 7)],
      ["empty", tensor("f32", [0, 4], () => 0)],
      ["__proto__", tensor("f32", [1], () => 1)],
    ]);
    const out = path.join(dir, "all.safetensors");
    writeSafetensors(out, tensors, { metadata: new Map([["format", "pt"]]) });
    const header = fs.readFileSync(out);
    expect(Number(header.readBigUInt64LE(0)) % 8).toBe(0);
    const ckpt = openCheckpoint(out);
    try {
      expect(ckpt.metadata.get("format")).toBe("pt");
      expect(ckpt.tensors.map((t) => t.key)).toEqual([...tensors.keys()]);
      for (const entry of ckpt.tensors) {
        const t = ckpt.readTensor(entry);
        const original = tensors.get(entry.key)!;
        expect({ dtype: t.dtype, shape: t.shape, hex: hexOf(t) }).toEqual({
          dtype: original.dtype,
          shape: original.shape,
          hex: hexOf(original),
        });
      }
    } finally {
      ckpt.close();
    }
  });

  it("converts a torch checkpoint's state dict, reporting progress", () => {
    const src = openCheckpoint(fixture("dataparallel.pth.tar"));
    const out = path.join(dir, "converted.safetensors");
    const progress: [number, number][] = [];
    try {
      stateDictToSafetensors(findStateDict(src), out, { onProgress: (done, total) => progress.push([done, total]) });
    } finally {
      src.close();
    }
    expect(progress).toHaveLength(11);
    expect(progress[10][0]).toBe(progress[10][1]);
    const back = openCheckpoint(out);
    try {
      const expected = expectedTensors("dataparallel.pth.tar");
      for (const entry of back.tensors) expectTensor(back.readTensor(entry), expected[`state_dict.${entry.key}`]);
    } finally {
      back.close();
    }
  });

  const badHeaders: [string, unknown, string, string][] = [
    ["not JSON", "{oops", "NET6012", "not valid JSON"],
    ["an unknown dtype", { x: { dtype: "F8_E4M3", shape: [1], data_offsets: [0, 1] } }, "NET6009", "F8_E4M3"],
    [
      "the dtype 'constructor'",
      { x: { dtype: "constructor", shape: [1], data_offsets: [0, 4] } },
      "NET6009",
      '"constructor"',
    ],
    [
      "the dtype '__proto__'",
      { x: { dtype: "__proto__", shape: [1], data_offsets: [0, 4] } },
      "NET6009",
      '"__proto__"',
    ],
    ["offsets past the data", { x: { dtype: "F32", shape: [8], data_offsets: [0, 32] } }, "NET6003", "tensor 'x'"],
    ["reversed offsets", { x: { dtype: "F32", shape: [0], data_offsets: [8, 4] } }, "NET6012", "data_offsets [8, 4]"],
    [
      "a shape that disagrees with the bytes",
      { x: { dtype: "F32", shape: [3], data_offsets: [0, 8] } },
      "NET6012",
      "(3 elements)",
    ],
    ["a partial element", { x: { dtype: "F32", shape: [1], data_offsets: [0, 6] } }, "NET6012", "whole number"],
    ["a negative dimension", { x: { dtype: "F32", shape: [-2], data_offsets: [0, 8] } }, "NET6010", "dimension 0"],
    [
      "an overflowing shape",
      { x: { dtype: "F32", shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } },
      "NET6010",
      "too large",
    ],
    [
      "overlapping tensors",
      { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } },
      "NET6012",
      "overlap",
    ],
    ["non-string metadata", { __metadata__: { n: 1 } }, "NET6012", "__metadata__ 'n'"],
  ];
  for (const [what, header, code, fragment] of badHeaders) {
    it(`refuses a header with ${what}`, () => {
      expectDiagnostic(() => openCheckpoint(craft("bad.safetensors", header)), code, "bad.safetensors", fragment);
    });
  }

  it("refuses a header over 100 MB before reading it", () => {
    const file = path.join(dir, "huge.safetensors");
    const length = 100 * 1024 * 1024 + 8;
    const bytes = Buffer.alloc(16, 0x20);
    bytes.writeBigUInt64LE(BigInt(length));
    bytes[8] = 0x7b;
    fs.writeFileSync(file, bytes);
    fs.truncateSync(file, length + 8); // sparse: the header is all zeros and never read
    expectDiagnostic(() => openCheckpoint(file), "NET6012", "at most");
    fs.rmSync(file);
  });

  it("refuses to write a reserved or repeated name", () => {
    const t = tensor("f32", [1], () => 0);
    const item = { name: "__metadata__", dtype: "f32" as const, shape: [1], read: () => t };
    expectDiagnostic(() => writeSafetensors(path.join(dir, "r.safetensors"), [item]), "NET6015", "__metadata__");
    const twice = { ...item, name: "a" };
    expectDiagnostic(() => writeSafetensors(path.join(dir, "r.safetensors"), [twice, twice]), "NET6015", "'a'");
    expect(fs.existsSync(path.join(dir, "r.safetensors"))).toBe(false);
  });
});
