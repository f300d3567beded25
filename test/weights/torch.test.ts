import fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { findStateDict, openCheckpoint, type Checkpoint, type CheckpointNode } from "../../src/weights/index.js";
import { expectDiagnostic, expectedTensors, expectTensor, fixture, missingShared, shared, values } from "./helpers.js";

const opened: Checkpoint[] = [];
afterAll(() => opened.forEach((c) => c.close()));

function open(path: string): Checkpoint {
  const ckpt = openCheckpoint(path);
  opened.push(ckpt);
  return ckpt;
}

function child(node: CheckpointNode, key: string): CheckpointNode {
  if (node.kind !== "dict") throw new Error(`not a dict: ${node.kind}`);
  const found = node.entries.find((e) => e.key === key);
  if (!found) throw new Error(`no key ${key}`);
  return found.node;
}

const LAYOUTS: [string, "torch-zip" | "torch-legacy" | "safetensors"][] = [
  ["zip_dtypes.pth", "torch-zip"],
  ["legacy_dtypes.pth", "torch-legacy"],
  ["zip_views.pth", "torch-zip"],
  ["legacy_views.pth", "torch-legacy"],
  ["dataparallel.pth.tar", "torch-zip"],
  ["legacy_dataparallel.pth.tar", "torch-legacy"],
  ["nested.pth", "torch-zip"],
  ["casts.pth", "torch-zip"],
  ["legacy_storage_view.pth", "torch-legacy"],
  ["peer.safetensors", "safetensors"],
];

describe("every layout reads back bit for bit", () => {
  for (const [name, format] of LAYOUTS) {
    it(name, () => {
      const ckpt = open(fixture(name));
      expect(ckpt.format).toBe(format);
      const expected = expectedTensors(name);
      expect(ckpt.tensors.map((t) => t.key)).toEqual(Object.keys(expected));
      for (const entry of ckpt.tensors) expectTensor(ckpt.readTensor(entry), expected[entry.key]);
    });
  }
});

describe("tensor layouts", () => {
  it("covers every dtype, a 0-d tensor and an empty one", () => {
    const ckpt = open(fixture("zip_dtypes.pth"));
    expect(new Set(ckpt.tensors.map((t) => t.dtype))).toEqual(
      new Set(["f32", "f16", "bf16", "f64", "i64", "i32", "i8", "u8", "bool"]),
    );
    const scalar = ckpt.tensors.find((t) => t.key === "scalar");
    const empty = ckpt.tensors.find((t) => t.key === "empty");
    expect(scalar?.shape).toEqual([]);
    expect(ckpt.readTensor(scalar!).data).toEqual(new Float32Array([3.5]));
    expect(empty?.shape).toEqual([0, 3]);
    expect(ckpt.readTensor(empty!).data.length).toBe(0);
  });

  for (const name of ["zip_views.pth", "legacy_views.pth"]) {
    it(`${name}: views share one storage, with strides and offsets`, () => {
      const ckpt = open(fixture(name));
      const byKey = new Map(ckpt.tensors.map((t) => [t.key, t]));
      const base = byKey.get("base")!;
      for (const key of ["transposed", "block", "flat", "every_other", "last_row", "scalar_view"]) {
        expect(byKey.get(key)!.storage).toBe(base.storage);
      }
      expect(byKey.get("transposed")!.strides).toEqual([1, 6]);
      expect(byKey.get("block")!.storageOffset).toBe(8);
      expect(byKey.get("expanded")!.strides).toEqual([0, 1]);
      expect(Array.from(ckpt.readTensor(byKey.get("every_other")!).data as Float32Array)).toEqual([
        0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22,
      ]);
    });
  }

  it("resolves a legacy storage view into its root storage", () => {
    const ckpt = open(fixture("legacy_storage_view.pth"));
    const [a, b] = ckpt.tensors;
    expect(a.storage).toMatchObject({ name: "1", numel: 5, fileOffset: b.storage.fileOffset + 2 * 4 });
    expect(values(ckpt.readTensor(a))).toEqual([3, 4, 5]);
  });

  it("reads ints beyond 2^53 exactly", () => {
    const ckpt = open(fixture("legacy_dtypes.pth"));
    const t = ckpt.readTensor(ckpt.tensors.find((e) => e.key === "i64")!);
    expect(Array.from(t.data as BigInt64Array)).toEqual([0n, -1n, 2n ** 62n, -(2n ** 63n), 2n ** 53n + 1n, 7n]);
  });
});

describe("container tree", () => {
  it("keeps the nesting of a training checkpoint", () => {
    const ckpt = open(fixture("nested.pth"));
    expect(child(ckpt.root, "epoch")).toEqual({ kind: "scalar", value: 3 });
    const meta = child(ckpt.root, "meta");
    expect(child(meta, "big")).toEqual({ kind: "scalar", value: 2n ** 70n });
    expect(child(meta, "neg")).toEqual({ kind: "scalar", value: -5 });
    expect(child(meta, "none")).toEqual({ kind: "scalar", value: null });
    expect(child(meta, "blob")).toEqual({ kind: "other", description: "bytes[2]" });
    expect(child(meta, "ids")).toEqual({ kind: "other", description: "set of 2" });
    expect(child(meta, "tags")).toEqual({
      kind: "list",
      items: [
        { kind: "scalar", value: "a" },
        { kind: "scalar", value: "b" },
      ],
    });
    expect(ckpt.tensors.map((t) => t.key)).toContain("runs.0.wrapped.deep");
  });

  it("keys optimizer state by parameter index", () => {
    const ckpt = open(fixture("dataparallel.pth.tar"));
    expect(ckpt.tensors.map((t) => t.key)).toContain("optimizer.state.4.exp_avg");
    expect(child(ckpt.root, "best_acc1").kind).toBe("tensor");
  });
});

describe("findStateDict", () => {
  it("finds the one dict of tensors, leaving optimizer state aside", () => {
    const sd = findStateDict(open(fixture("dataparallel.pth.tar")));
    expect(sd.path).toBe("state_dict");
    expect([...sd.tensors.keys()]).toContain("module.qkv.weight");
    expect(sd.tensors.size).toBe(11);
  });

  it("takes the root when it is the state dict", () => {
    const sd = findStateDict(open(fixture("zip_dtypes.pth")));
    expect(sd.path).toBe("");
    expect(sd.tensors.size).toBe(12);
  });

  it("lists the candidates when several dicts qualify", () => {
    const d = expectDiagnostic(
      () => findStateDict(open(fixture("nested.pth"))),
      "NET6014",
      "nested.pth",
      "'model' (11 tensors)",
      "'ema' (11 tensors)",
    );
    expect(d.hint).toContain("subdict");
  });

  it("follows an explicit path, also through lists and into nested dicts", () => {
    const ckpt = open(fixture("nested.pth"));
    expect(findStateDict(ckpt, "ema").tensors.get("head.bias")?.dtype).toBe("f16");
    expect([...findStateDict(ckpt, "runs.0").tensors.keys()]).toEqual(["wrapped.deep"]);
  });

  it("names a path that is not there, and shows what is", () => {
    const d = expectDiagnostic(() => findStateDict(open(fixture("nested.pth")), "model_ema"), "NET6013", "'model_ema'");
    expect(d.hint).toContain("'model'");
    expectDiagnostic(() => findStateDict(open(fixture("nested.pth")), "epoch"), "NET6013", "not a dict of tensors");
  });
});

describe("shared checkpoints", () => {
  const s2d = ["s2d/s2d_small_random.pth", "s2d/perturbed/s2d_small_perturbed.pth"];
  for (const rel of s2d) {
    it.skipIf(missingShared("fixtures", rel))(
      `${rel} opens: 'model' with the keys of state_dict_keys_small.txt`,
      () => {
        const ckpt = open(shared("fixtures", rel));
        const sd = findStateDict(ckpt);
        expect(sd.path).toBe("model");
        const listed = fs
          .readFileSync(shared("fixtures", "s2d", "state_dict_keys_small.txt"), "utf8")
          .split("\n")
          .filter((l) => l && !l.startsWith("#"))
          .map((l) => l.split(" ")[0]);
        expect([...sd.tensors.keys()]).toEqual(listed);
        // The fine-tuning script also saves its argparse.Namespace: kept as plain fields.
        expect(child(ckpt.root, "args")).toMatchObject({ kind: "dict", className: "argparse.Namespace" });
      },
    );
  }

  for (const rel of ["s2d/mobilefacenet_random.pth.tar", "s2d/perturbed/mobilefacenet_perturbed.pth.tar"]) {
    it.skipIf(missingShared("fixtures", rel))(`${rel} opens: 'state_dict' with 333 entries`, () => {
      const ckpt = open(shared("fixtures", rel));
      const sd = findStateDict(ckpt);
      expect(sd.path).toBe("state_dict");
      expect(sd.tensors.size).toBe(333);
      expect(sd.tensors.get("conv1.conv.weight")?.shape).toEqual([64, 3, 3, 3]);
    });
  }

  it.skipIf(missingShared("fixtures", "ifdd", "stress", "state_dict_overrides.pth"))(
    "the IFDD stress overrides open as a root state dict",
    () => {
      const sd = findStateDict(open(shared("fixtures", "ifdd", "stress", "state_dict_overrides.pth")));
      expect(sd.path).toBe("");
      expect(sd.tensors.size).toBe(3);
    },
  );
});
