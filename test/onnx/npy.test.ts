// .npy reading and writing: files written by numpy itself, round trips, and malformed input that must become a
// BadNpy diagnostic rather than an exception.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { encodeNpy, parseNpy, readNpyFile, writeNpyFile } from "../../src/util/npy.js";
import { DTYPES, type HostTensor } from "../../src/util/tensor.js";
import { random, rng, tensor } from "../helpers/ir.js";

const DIR = join(import.meta.dirname, "../fixtures/npy");
const manifest = JSON.parse(readFileSync(join(DIR, "manifest.json"), "utf8")) as {
  good: Record<string, { shape: number[]; data: (number | string)[] }>;
  bad: string[];
};

function ok(r: ReturnType<typeof parseNpy>): HostTensor {
  if (!r.ok) throw new Error(r.diagnostic.message);
  return r.tensor;
}

function bad(bytes: Uint8Array): string {
  const r = parseNpy(bytes, "x.npy");
  if (r.ok) throw new Error("parsed a malformed file");
  expect(r.diagnostic.code).toBe("NET8002");
  return r.diagnostic.message;
}

describe("npy files written by numpy", () => {
  it.each(Object.entries(manifest.good))("reads %s", (name, want) => {
    const t = ok(readNpyFile(join(DIR, name)));
    expect(t.shape).toEqual(want.shape);
    const values = Array.from(t.data as ArrayLike<number | bigint>, (v) => (typeof v === "bigint" ? String(v) : v));
    if (t.dtype === "f32") values.forEach((v, i) => expect(v).toBeCloseTo(want.data[i] as number, 6));
    else expect(values).toEqual(want.data);
  });

  it("maps numpy types to element types", () => {
    const types = ["f4_2x3", "f8_scalar", "i8", "i4", "b1", "u1", "f2"].map(
      (n) => ok(readNpyFile(join(DIR, `${n}.npy`))).dtype,
    );
    expect(types).toEqual(["f32", "f64", "i64", "i32", "bool", "u8", "f16"]);
  });

  it.each(manifest.bad)("rejects %s with a clear message", (name) => {
    expect(bad(readFileSync(join(DIR, name)))).toMatch(/big-endian|little-endian|Fortran|unsupported element type/);
  });
});

describe("npy writing", () => {
  it.each(DTYPES.filter((d) => d !== "bf16"))("round-trips %s", (dtype) => {
    for (const shape of [[], [0], [3], [2, 3, 4]]) {
      const t = random(dtype, shape, 5);
      const back = ok(parseNpy(encodeNpy(t)));
      expect(back).toEqual(t);
    }
  });

  it("widens bf16 to f32 exactly", () => {
    const back = ok(parseNpy(encodeNpy(tensor("bf16", [2], [1, -2]))));
    expect(back.dtype).toBe("f32");
    expect(Array.from(back.data as Float32Array)).toEqual([1, -2]);
  });

  it("pads the header to 64 bytes and is read back by numpy", () => {
    const dir = mkdtempSync(join(tmpdir(), "netc-npy-"));
    const path = join(dir, "t.npy");
    expect(writeNpyFile(path, tensor("i64", [2, 2], [1, -2, 3, 2 ** 40]))).toEqual([]);
    const bytes = readFileSync(path);
    expect((bytes[8] + 10) % 64).toBe(0);
    const py = spawnSync(
      "/usr/bin/python3",
      ["-c", "import numpy,sys; a=numpy.load(sys.argv[1]); print(a.dtype, a.shape, a.tolist())", path],
      { encoding: "utf8" },
    );
    if (py.status === 0) expect(py.stdout.trim()).toBe("int64 (2, 2) [[1, -2], [3, 1099511627776]]");
  });
});

describe("malformed npy", () => {
  const good = encodeNpy(tensor("f32", [2, 3], [1, 2, 3, 4, 5, 6]));
  const withHeader = (header: string) => {
    const h = new TextEncoder().encode(header);
    const out = new Uint8Array(10 + h.length);
    out.set(good.subarray(0, 8));
    new DataView(out.buffer).setUint16(8, h.length, true);
    out.set(h, 10);
    return out;
  };

  it.each([
    ["an empty file", new Uint8Array(0), /bad magic/],
    ["another format", new TextEncoder().encode("PK\u0003\u0004 not numpy at all"), /bad magic/],
    ["version 9", Uint8Array.from([...good.subarray(0, 6), 9, 0, ...good.subarray(8)]), /version 9/],
    ["a truncated header", good.subarray(0, 40), /truncated header/],
    [
      "truncated data",
      good.subarray(0, good.length - 1),
      /truncated: shape \(2, 3\) of <f4 needs 24 bytes, the file has 23/,
    ],
    ["trailing bytes", Uint8Array.from([...good, 0]), /1 unexpected bytes/],
    [
      "code in the header",
      withHeader("{'descr': __import__('os').system('x'), 'fortran_order': False, 'shape': ()}\n"),
      /unexpected/,
    ],
    ["a missing shape", withHeader("{'descr': '<f4', 'fortran_order': False}\n"), /'shape'/],
    ["a negative dim", withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}\n"), /sizes from 0/],
    ["an unterminated string", withHeader("{'descr': '<f4, 'fortran_order': False, 'shape': ()}\n"), /expected/],
    [
      "an absurd shape",
      withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000, 100000000, 1000)}\n"),
      /truncated/,
    ],
  ])("reports %s", (_, bytes, message) => {
    expect(bad(bytes)).toMatch(message);
  });

  it("never throws on corrupted bytes", () => {
    const r = rng(11);
    for (let i = 0; i < 2000; i++) {
      const bytes = good.slice(0, Math.floor(r() * (good.length + 1)));
      for (let k = 0; k < 3; k++) bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 256);
      const result = parseNpy(bytes);
      if (!result.ok) expect(result.diagnostic.code).toBe("NET8002");
    }
  });

  it("reports a missing file as NET8001", () => {
    const r = readNpyFile("/nonexistent/x.npy");
    expect(r.ok ? "" : r.diagnostic.code).toBe("NET8001");
  });
});
