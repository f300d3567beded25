import { afterAll, describe, expect, it } from "vitest";
import type { DType, HostTensor } from "../../src/util/tensor.js";
import { openCheckpoint } from "../../src/weights/index.js";
import { castTensor, reshapeTensor, sliceTensor, transposeTensor } from "../../src/weights/transforms.js";
import { numberToBf16Bits, numberToF16Bits } from "../../src/util/tensor.js";
import { expectTensor, fixture, readJson, type TensorRecord, values } from "./helpers.js";

const casts = openCheckpoint(fixture("casts.pth"));
afterAll(() => casts.close());

function source(key: string): HostTensor {
  const entry = casts.tensors.find((t) => t.key === key);
  if (!entry) throw new Error(`no ${key}`);
  return casts.readTensor(entry);
}

/** The tensor torch converted, selected the way tools/make_checkpoints.py did. */
function sourceFor(conversion: string): HostTensor {
  const [from] = conversion.split("->");
  const pick = (t: HostTensor, indices: number[]): HostTensor => {
    const data = t.data.slice(0, indices.length) as typeof t.data;
    indices.forEach((src, i) => (data[i] = t.data[src]));
    return { dtype: t.dtype, shape: [indices.length], data };
  };
  switch (conversion) {
    case "f16->f32":
    case "f16->bf16":
      return castTensor(source("f32"), "f16");
    case "bf16->f32":
      return castTensor(source("f32"), "bf16");
    case "i64->f16":
      return pick(source("i64"), [0, 1, 2, 3]);
    case "whole->i8":
      return pick(source("whole"), [0, 1, 2, 3]);
    case "whole->u8":
      return pick(source("whole"), [1, 2, 5, 6]);
    default:
      return source(from);
  }
}

/** Every NaN as one pattern: torch's vectorised bf16 conversion writes NaN as 0xffff, its scalar one as 0x7fc0. */
function sameNaNs(t: HostTensor): HostTensor {
  if (t.dtype === "bf16")
    return { ...t, data: (t.data as Uint16Array).map((h) => ((h & 0x7f80) === 0x7f80 && h & 0x7f ? 0x7fc0 : h)) };
  if (t.dtype === "f32") return { ...t, data: (t.data as Float32Array).map((x) => (Number.isNaN(x) ? NaN : x)) };
  return t;
}

function fromRecord(r: TensorRecord): HostTensor {
  const bytes = Buffer.from(r.hex, "hex");
  const data =
    r.dtype === "bf16"
      ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2)
      : new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  return { dtype: r.dtype as DType, shape: r.shape, data };
}

describe("casts match torch bit for bit", () => {
  const derived = readJson<Record<string, TensorRecord>>("casts.derived.json");
  for (const [conversion, record] of Object.entries(derived)) {
    it(conversion, () => {
      const cast = castTensor(sourceFor(conversion), record.dtype as DType);
      if (conversion.includes("bf16")) expect(sameNaNs(cast)).toEqual(sameNaNs(fromRecord(record)));
      else expectTensor(cast, record);
    });
  }

  it("rounds halfway cases to even and keeps NaN a NaN", () => {
    expect(numberToF16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(numberToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(numberToF16Bits(65520)).toBe(0x7c00);
    expect(numberToF16Bits(2 ** -25)).toBe(0);
    expect(numberToF16Bits(NaN) & 0x7e00).toBe(0x7e00);
    expect(numberToBf16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(numberToBf16Bits(NaN) & 0x7fc0).toBe(0x7fc0);
  });
});

describe("layout transforms", () => {
  const t: HostTensor = { dtype: "f64", shape: [2, 3], data: Float64Array.from([0, 1, 2, 3, 4, 5]) };

  it("transposes 8-byte elements exactly", () => {
    const nan = new Float64Array(new BigUint64Array([0x7ff8000000000123n]).buffer)[0];
    const withNaN = { ...t, data: Float64Array.from([nan, 1, 2, 3, 4, 5]) };
    const out = transposeTensor(withNaN, [1, 0]);
    expect(out.shape).toEqual([3, 2]);
    expect(new BigUint64Array(out.data.buffer)[0]).toBe(0x7ff8000000000123n);
    expect(values(out).slice(1)).toEqual([3, 1, 4, 2, 5]);
  });

  it("slices along an axis and reshapes without copying", () => {
    expect(values(sliceTensor(t, 1, 1, 2))).toEqual([1, 2, 4, 5]);
    expect(values(sliceTensor(t, 0, 1, 1))).toEqual([3, 4, 5]);
    const r = reshapeTensor(t, [3, 2]);
    expect(r.shape).toEqual([3, 2]);
    expect(r.data).toBe(t.data);
  });
});
