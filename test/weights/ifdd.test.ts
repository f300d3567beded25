// The full-size IFDD checkpoint (150 MB, {'epoch', 'model', 'opt'}) from ../shared: inspect and import it all.
import { createHash } from "node:crypto";
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import type { DType } from "../../src/util/tensor.js";
import {
  findStateDict,
  importWeights,
  inspectCheckpoint,
  openCheckpoint,
  reportDiagnostics,
  type DeclaredWeight,
} from "../../src/weights/index.js";
import { hexOf, missingShared, readJson, shared } from "./helpers.js";

const skip = missingShared("fixtures", "ifdd", "ifdd_dfew_random.pth");
if (skip) console.warn(skip);

interface Spot {
  entries: number;
  elements: number;
  topKeys: string[];
  epoch: number;
  sha256: string;
  tensors: Record<string, { dtype: DType; shape: number[]; firstHex: string; sha256: string }>;
}

const TORCH_DTYPES: Record<string, DType> = { float32: "f32", int64: "i64" };

/** state_dict_keys.txt: key, shape as a Python tuple, dtype, numel; tab-separated. */
function listedWeights(): DeclaredWeight[] {
  return fs
    .readFileSync(shared("fixtures", "ifdd", "state_dict_keys.txt"), "utf8")
    .split("\n")
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const [path, shape, dtype] = line.split("\t");
      return {
        path,
        dtype: TORCH_DTYPES[dtype],
        shape: shape
          .replace(/[()\s]/g, "")
          .split(",")
          .filter(Boolean)
          .map(Number),
      };
    });
}

describe.skipIf(skip)("IFDD checkpoint", () => {
  const path = shared("fixtures", "ifdd", "ifdd_dfew_random.pth");
  const spot = readJson<Spot>("ifdd_spot.json");

  it("inspects: the trainer's layout, 297 state-dict entries, 37,577,131 elements", () => {
    const ckpt = openCheckpoint(path);
    try {
      const text = inspectCheckpoint(ckpt, { maxTensorsPerDict: 5 });
      expect(text).toContain("state dict: 'model' (297 tensors, 37,577,131 elements)");
      expect(text).toContain("epoch: 0");
      expect(text).toContain("opt: dict");
      expect(ckpt.root.kind === "dict" && ckpt.root.entries.map((e) => e.key)).toEqual(spot.topKeys);
    } finally {
      ckpt.close();
    }
  });

  it("imports every weight as listed, bit for bit", () => {
    const declared = listedWeights();
    expect(declared).toHaveLength(spot.entries);
    const ckpt = openCheckpoint(path);
    try {
      const progress: number[] = [];
      const { weights, report } = importWeights(declared, [{ checkpoint: ckpt }], {
        onProgress: (done) => progress.push(done),
      });
      expect(reportDiagnostics(report)).toEqual([]);
      expect(report.sources).toEqual([`${path} ['model']`]);
      expect(weights.size).toBe(297);
      expect(progress.at(-1)).toBe(150_308_556);

      // One digest over every tensor's bytes, in the state dict's order, as tools/make_checkpoints.py took it.
      let elements = 0;
      const all = createHash("sha256");
      for (const key of findStateDict(ckpt).tensors.keys()) {
        const t = weights.get(key)!;
        elements += t.data.length;
        all.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      }
      expect(elements).toBe(spot.elements);
      expect(all.digest("hex")).toBe(spot.sha256);
      for (const [key, s] of Object.entries(spot.tensors)) {
        const t = weights.get(key)!;
        expect({ dtype: t.dtype, shape: t.shape }).toEqual({ dtype: s.dtype, shape: s.shape });
        const hex = hexOf(t);
        expect(hex.slice(0, s.firstHex.length)).toBe(s.firstHex);
        expect(createHash("sha256").update(Buffer.from(hex, "hex")).digest("hex")).toBe(s.sha256);
      }
    } finally {
      ckpt.close();
    }
  });
});
