// ONNX external data is untrusted: a model may name only regular files inside its own folder, and only bytes
// inside them; anything else is NET5006 before onnxruntime opens a file.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataLocation, DataType, encodeModel, type TensorProto, valueInfo } from "../../src/backends/onnx/proto.js";
import { runOnnx } from "../../src/backends/onnx/run.js";
import { DiagnosticError } from "../../src/diagnostics/diagnostics.js";
import { runNetc } from "../helpers/cli.js";

const W = Float32Array.from([1, 2, 3, 4]);

/** y = Identity(w), where w (f32[4]) is stored externally with these entries. */
function modelNaming(entries: Record<string, string>, where: "initializer" | "constant" = "initializer"): Uint8Array {
  const w: TensorProto = {
    name: "w",
    dataType: DataType.FLOAT,
    dims: [4],
    dataLocation: DataLocation.EXTERNAL,
    externalData: Object.entries(entries).map(([key, value]) => ({ key, value })),
  };
  const nodes =
    where === "initializer"
      ? [{ opType: "Identity", input: ["w"], output: ["y"] }]
      : [
          { opType: "Constant", output: ["c"], attribute: [{ name: "value", type: 4, t: w }] },
          { opType: "Identity", input: ["c"], output: ["y"] },
        ];
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "g",
      node: nodes,
      initializer: where === "initializer" ? [w] : [],
      output: [valueInfo("y", "f32", [4])],
    },
  });
}

const root = mkdtempSync(join(tmpdir(), "netc-onnx-external-"));
let n = 0;
/** A fresh folder holding w.data (the 16 bytes of W) and m.onnx naming `entries`. */
function place(entries: Record<string, string>, where: "initializer" | "constant" = "initializer"): string {
  const dir = join(root, `case${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, "w.data"), new Uint8Array(W.buffer));
  writeFileSync(join(dir, "m.onnx"), modelNaming(entries, where));
  return dir;
}

async function codesOf(model: string | Uint8Array): Promise<string[]> {
  try {
    await runOnnx(model, {});
  } catch (e) {
    if (e instanceof DiagnosticError) return e.diagnostics.map((d) => `${d.code} ${d.message}`);
    throw e;
  }
  return [];
}

describe("ONNX external data locations", () => {
  it("reads legitimate external data beside the model", async () => {
    const dir = place({ location: "w.data", offset: "0", length: "16" });
    const y = (await runOnnx(join(dir, "m.onnx"), {})).get("y")!;
    expect(Array.from(y.data as Float32Array)).toEqual([1, 2, 3, 4]);
    // A link inside the folder to a file inside the folder is fine too.
    const linked = place({ location: "sub/link.data" });
    mkdirSync(join(linked, "sub"));
    symlinkSync(join(linked, "w.data"), join(linked, "sub", "link.data"));
    expect(Array.from((await runOnnx(join(linked, "m.onnx"), {})).get("y")!.data as Float32Array)).toEqual([
      1, 2, 3, 4,
    ]);
  });

  const secret = join(root, "secret.data");
  writeFileSync(secret, new Uint8Array(64));
  const fifoDir = place({ location: "pipe" });
  execFileSync("mkfifo", [join(fifoDir, "pipe")]);
  const linkDir = place({ location: "out.data" });
  symlinkSync(secret, join(linkDir, "out.data"));
  const bad: [string, string, string][] = [
    ["an absolute path", place({ location: "/etc/passwd" }), 'location "/etc/passwd" is an absolute path'],
    [
      "a parent-folder path",
      place({ location: "../secret.data" }),
      'location "../secret.data" leads outside the model\'s folder',
    ],
    ["a link leading out of the folder", linkDir, 'location "out.data" leads outside the model\'s folder'],
    ["a FIFO", fifoDir, 'location "pipe" names a path that is a FIFO (named pipe), not a regular file'],
    [
      "a device through a link",
      (() => {
        const d = place({ location: "zero" });
        symlinkSync("/dev/zero", join(d, "zero"));
        return d;
      })(),
      'location "zero" leads outside the model\'s folder',
    ],
    [
      "a folder",
      (() => {
        const d = place({ location: "sub" });
        mkdirSync(join(d, "sub"));
        return d;
      })(),
      'location "sub" names a path that is a folder, not a regular file',
    ],
    ["a missing file", place({ location: "nope.data" }), 'location "nope.data" names no file in the model\'s folder'],
    [
      "bytes past the end",
      place({ location: "w.data", offset: "8", length: "16" }),
      "holds 16 bytes, but the tensor's bytes 8 to 24 lie past its end",
    ],
    [
      "a default length past the end",
      place({ location: "w.data", offset: "4" }),
      "the tensor's bytes 4 to 20 lie past its end",
    ],
    [
      "a negative offset",
      place({ location: "w.data", offset: "-8", length: "16" }),
      'has the offset "-8", not a whole number of bytes',
    ],
    ["no location", place({ offset: "0" }), "is stored externally but names no location"],
    ["onnxruntime's memory marker", place({ location: "*/_ORT_MEM_ADDR_/*", offset: "4096" }), "raw-memory marker"],
    [
      "a constant's tensor",
      place({ location: "/etc/passwd" }, "constant"),
      'location "/etc/passwd" is an absolute path',
    ],
  ];
  for (const [what, dir, message] of bad)
    it(`refuses ${what} (NET5006)`, async () => {
      const found = await codesOf(join(dir, "m.onnx"));
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/^NET5006 /);
      expect(found[0]).toContain(message);
    });

  it("refuses external data in a model given as bytes", async () => {
    const found = await codesOf(modelNaming({ location: "w.data" }));
    expect(found).toEqual([
      'NET5006 the tensor "w" keeps its data in an external file, and a model given as bytes has no folder to ' +
        "read it from",
    ]);
  });

  it("netc run reports it with exit 1", async () => {
    const r = await runNetc("run", join(place({ location: "../secret.data" }), "m.onnx"));
    expect(r.code).toBe(1);
    expect(r.err).toContain("error NET5006");
  });
});
