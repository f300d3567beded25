// Hostile and damaged inputs: each gives a clear diagnostic naming the file, nothing runs, nothing is written.
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DiagnosticError } from "../../src/diagnostics/diagnostics.js";
import { findStateDict, openCheckpoint, stateDictToSafetensors, writeSafetensors } from "../../src/weights/index.js";
import { editedCopy, expectDiagnostic, fixture, tempDir, truncatedCopy, values } from "./helpers.js";

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What `netc weights convert` does: open, pick the state dict, write safetensors. */
function convert(input: string, output: string): void {
  const ckpt = openCheckpoint(input);
  try {
    stateDictToSafetensors(findStateDict(ckpt), output);
  } finally {
    ckpt.close();
  }
}

/** Converting `input` fails with `code`, and leaves the output folder empty (no output, no temporary file). */
function expectRefused(input: string, code: string, ...fragments: string[]): void {
  const outDir = fs.mkdtempSync(path.join(dir, "out-"));
  expectDiagnostic(
    () => convert(input, path.join(outDir, "model.safetensors")),
    code,
    path.basename(input),
    ...fragments,
  );
  expect(fs.readdirSync(outDir)).toEqual([]);
}

describe("malicious pickles", () => {
  it("refuses a checkpoint whose pickle calls os.system (zip)", () => {
    expectRefused(fixture("evil_system.pth"), "NET6007", "'posix.system'", "nothing was executed");
  });

  it("refuses a checkpoint whose pickle calls os.system (legacy)", () => {
    expectRefused(fixture("evil_system_legacy.pth"), "NET6007", "'posix.system'");
  });

  it("keeps an object of an arbitrary class as an inert opaque value: nothing constructed, its state recorded", () => {
    const ckpt = openCheckpoint(fixture("evil_object.pth"));
    try {
      expect(findStateDict(ckpt).path).toBe("state_dict");
      const config = ckpt.root.kind === "dict" ? ckpt.root.entries.find((e) => e.key === "config")?.node : undefined;
      expect(config).toEqual({
        kind: "opaque",
        global: "__main__.Config",
        made: "new",
        entries: [{ key: "depth", node: { kind: "scalar", value: 3 } }],
      });
    } finally {
      ckpt.close();
    }
  });

  it("refuses TorchScript archives, which carry code", () => {
    expectRefused(fixture("torchscript.pt"), "NET6008", "TorchScript");
  });

  it("keeps '__proto__', 'constructor' and 'toString' keys as plain keys", () => {
    const ckpt = openCheckpoint(fixture("proto_keys.pth"));
    try {
      expect(ckpt.tensors.map((t) => t.key)).toEqual([
        "__proto__.polluted",
        "model.__proto__",
        "model.constructor",
        "model.toString",
      ]);
      const sd = findStateDict(ckpt, "model");
      expect(values(ckpt.readTensor(sd.tensors.get("__proto__")!))).toEqual([1]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(typeof ({} as { constructor: unknown }).constructor).toBe("function");
    } finally {
      ckpt.close();
    }
  });
});

describe("inconsistent tensors", () => {
  it("a storage entry shorter than its declared elements", () => {
    expectRefused(fixture("short_storage.pth"), "NET6011", "storage '0'", "holds 18 bytes");
  });

  it("a view that reaches past its storage", () => {
    expectRefused(fixture("view_past_storage.pth"), "NET6011", "tensor 'w'", "storage '0' holds 4 elements");
  });

  it("a shape whose element count overflows", () => {
    expectRefused(fixture("shape_overflow.pth"), "NET6010", "tensor 'w'", "too large");
  });

  it("a negative dimension", () => {
    expectRefused(fixture("negative_dim.pth"), "NET6010", "tensor 'w'", "dimension 0");
  });
});

describe("files that are not checkpoints", () => {
  it("a text file", () => expectRefused(fixture("not_a_checkpoint.txt"), "NET6002", "neither a zip"));
  it("a plain Python pickle", () => expectRefused(fixture("plain_pickle.pkl"), "NET6002", "Python pickle"));

  it("a NumPy array", () => {
    const npy = path.join(dir, "x.npy");
    fs.writeFileSync(npy, Buffer.concat([Buffer.from("\x93NUMPY\x01\x00", "latin1"), Buffer.alloc(120, 0x20)]));
    expectRefused(npy, "NET6002", "NumPy");
  });

  it("an empty file", () => {
    const empty = path.join(dir, "empty.pth");
    fs.writeFileSync(empty, "");
    expectRefused(empty, "NET6002", "empty");
  });

  it("a zip archive that is not a checkpoint", () => {
    const zip = editedCopy(fixture("zip_dtypes.pth"), dir, (b) => {
      for (let at = b.indexOf("data.pkl"); at >= 0; at = b.indexOf("data.pkl", at + 1)) b.write("data.txt", at);
    });
    expectRefused(zip, "NET6002", "no data.pkl");
  });

  it("a missing file and a folder", () => {
    expectRefused(path.join(dir, "nope.pth"), "NET6001", "cannot open");
    expectRefused(dir, "NET6001", "not a regular file");
  });
});

describe("truncated and corrupted files", () => {
  const sources = [
    "zip_dtypes.pth",
    "legacy_dtypes.pth",
    "legacy_views.pth",
    "peer.safetensors",
    "dataparallel.pth.tar",
  ];

  for (const name of sources) {
    it(`${name} cut anywhere fails with a diagnostic, never a raw exception`, () => {
      const src = fixture(name);
      const size = fs.statSync(src).size;
      const cuts = new Set([0, 1, 8, 9, 30, 64, Math.floor(size / 2), size - 100, size - 23, size - 1]);
      for (let at = 3; at < size; at += 53) cuts.add(at);
      for (const cut of cuts) {
        const file = truncatedCopy(src, cut, dir);
        expect(() => convert(file, path.join(dir, "never.safetensors")), `cut at ${cut}`).toThrow(DiagnosticError);
        fs.rmSync(file);
      }
      expect(fs.existsSync(path.join(dir, "never.safetensors"))).toBe(false);
    });
  }

  it("a legacy file cut inside its storage data says so", () => {
    const src = fixture("legacy_dtypes.pth");
    expectRefused(truncatedCopy(src, fs.statSync(src).size - 3, dir), "NET6003", "storage");
  });

  it("a torch zip cut short has no trailer", () => {
    const src = fixture("zip_dtypes.pth");
    expectRefused(truncatedCopy(src, fs.statSync(src).size - 10, dir), "NET6004", "end-of-central-directory");
  });

  for (const name of ["zip_dtypes.pth", "legacy_dtypes.pth", "peer.safetensors"]) {
    it(`${name} with random bytes flipped either reads or fails with a diagnostic`, () => {
      const original = fs.readFileSync(fixture(name));
      let seed = 12345;
      const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
      for (let trial = 0; trial < 150; trial++) {
        const bytes = Buffer.from(original);
        for (let k = 0; k < 3; k++) bytes[next() % bytes.length] = next() % 256;
        const file = path.join(dir, `fuzz-${name}`);
        fs.writeFileSync(file, bytes);
        try {
          convert(file, path.join(dir, "fuzz.safetensors"));
        } catch (e) {
          if (!(e instanceof DiagnosticError)) throw new Error(`trial ${trial}: raw ${String(e)}`);
        }
      }
    });
  }
});

describe("atomic output", () => {
  it("a failure while writing leaves an existing output untouched and no temporary file", () => {
    const outDir = fs.mkdtempSync(path.join(dir, "out-"));
    const out = path.join(outDir, "w.safetensors");
    fs.writeFileSync(out, "previous");
    const failing = {
      name: "b",
      dtype: "f32" as const,
      shape: [1],
      read: () => {
        throw new DiagnosticError([]);
      },
    };
    const fine = {
      name: "a",
      dtype: "f32" as const,
      shape: [1],
      read: () => ({ dtype: "f32" as const, shape: [1], data: new Float32Array([1]) }),
    };
    expect(() => writeSafetensors(out, [fine, failing])).toThrow(DiagnosticError);
    expect(fs.readdirSync(outDir)).toEqual(["w.safetensors"]);
    expect(fs.readFileSync(out, "utf8")).toBe("previous");
  });

  it("an unwritable target is a diagnostic", () => {
    const target = path.join(dir, "no-such-folder", "w.safetensors");
    expectDiagnostic(() => writeSafetensors(target, new Map()), "NET8004", "no-such-folder");
  });
});
