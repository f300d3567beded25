// src/util/output.ts: outputs never replace inputs, the working folder or folders netc did not write; every
// output appears whole or not at all.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DiagnosticError } from "../../src/diagnostics/diagnostics.js";
import { writeAll, writeBundleFolder, writeFileOutput, writeFileSet, writeFilesAtomic } from "../../src/util/output.js";

let dir: string;
let home: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "netc-output-"));
  home = process.cwd();
  process.chdir(dir);
});
afterEach(() => process.chdir(home));

const codeOf = (f: () => void): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    if (e instanceof DiagnosticError) return e.diagnostics.map((d) => d.code).join(",");
    throw e;
  }
};

const fillBundle = (d: string) => {
  mkdirSync(d);
  writeFileSync(join(d, "manifest.json"), JSON.stringify({ format: "netc-wgsl" }));
};

describe("bundle folders", () => {
  it("refuses the working folder, a folder above it and an empty path, and deletes nothing", () => {
    writeFileSync("keep.net", "source");
    for (const target of [".", "", "..", "./", join(dir, "sub", "..")])
      expect(
        codeOf(() => writeBundleFolder(target, [], "the bundle", fillBundle)),
        target,
      ).toBe("NET8009");
    expect(readFileSync("keep.net", "utf8")).toBe("source");
  });

  it("refuses a folder that is not a bundle, and one with files netc did not write", () => {
    mkdirSync("other");
    writeFileSync("other/keep.txt", "mine");
    expect(codeOf(() => writeBundleFolder("other", [], "the bundle", fillBundle))).toBe("NET8009");
    fillBundle("b");
    writeFileSync("b/notes.txt", "mine");
    expect(codeOf(() => writeBundleFolder("b", [], "the bundle", fillBundle))).toBe("NET8009");
    fillBundle("c");
    mkdirSync("c/kernels");
    writeFileSync("c/kernels/notes.txt", "mine");
    expect(codeOf(() => writeBundleFolder("c", [], "the bundle", fillBundle))).toBe("NET8009");
    expect(readFileSync("other/keep.txt", "utf8")).toBe("mine");
    expect(readFileSync("b/notes.txt", "utf8")).toBe("mine");
    expect(readFileSync("c/kernels/notes.txt", "utf8")).toBe("mine");
  });

  it("refuses a folder holding one of the inputs", () => {
    fillBundle("b");
    writeFileSync("b/model.js", "");
    expect(codeOf(() => writeBundleFolder("b", ["b/model.js"], "the bundle", fillBundle))).toBe("NET8008");
    expect(existsSync("b/model.js")).toBe(true);
  });

  it("replaces a bundle it wrote, and leaves the old one when writing the new one fails", () => {
    writeBundleFolder("b", [], "the bundle", (d) => (fillBundle(d), writeFileSync(join(d, "model.js"), "one")));
    writeBundleFolder("b", [], "the bundle", (d) => (fillBundle(d), writeFileSync(join(d, "model.js"), "two")));
    expect(readFileSync("b/model.js", "utf8")).toBe("two");
    expect(
      codeOf(() =>
        writeBundleFolder("b", [], "the bundle", (d) => {
          fillBundle(d);
          throw Object.assign(new Error("disk full"), { code: "ENOSPC" });
        }),
      ),
    ).toBe("NET8004");
    expect(readFileSync("b/model.js", "utf8")).toBe("two");
    expect(readdirSync(".")).toEqual(["b"]);
  });
});

describe("file outputs", () => {
  it("never writes over an input, a folder or a special file", () => {
    writeFileSync("a.net", "source");
    mkdirSync("d");
    expect(
      codeOf(() => writeFileOutput("a.net", ["a.net"], "the ONNX model", (fd) => writeAll(fd, new Uint8Array(4)))),
    ).toBe("NET8008");
    expect(
      codeOf(() =>
        writeFileOutput("./a.net", [join(dir, "a.net")], "the ONNX model", (fd) => writeAll(fd, new Uint8Array(4))),
      ),
    ).toBe("NET8008");
    expect(codeOf(() => writeFileOutput("d", [], "the ONNX model", (fd) => writeAll(fd, new Uint8Array(4))))).toBe(
      "NET8009",
    );
    expect(
      codeOf(() => writeFileOutput("/dev/null", [], "the ONNX model", (fd) => writeAll(fd, new Uint8Array(4)))),
    ).toBe("NET8009");
    expect(
      codeOf(() => writeFileOutput("a.net/child", [], "the ONNX model", (fd) => writeAll(fd, new Uint8Array(4)))),
    ).toBe("NET8004");
    expect(readFileSync("a.net", "utf8")).toBe("source");
  });

  it("a set of files appears whole or not at all", () => {
    writeFileSync("one.npy", "old");
    expect(
      codeOf(() =>
        writeFilesAtomic([
          { target: "one.npy", write: (fd) => writeAll(fd, new Uint8Array([1])) },
          {
            target: "two.npy",
            write: () => {
              throw Object.assign(new Error("no space"), { code: "ENOSPC" });
            },
          },
        ]),
      ),
    ).toBe("NET8004");
    expect(readFileSync("one.npy", "utf8")).toBe("old");
    expect(readdirSync(".").sort()).toEqual(["one.npy"]);
  });

  it("writes .npy sets into a new folder by renaming a complete one into place, and refuses files and inputs", () => {
    writeFileSet("out", [{ name: "y.npy", bytes: new Uint8Array([1]) }], [], "the outputs");
    expect(readdirSync("out")).toEqual(["y.npy"]);
    writeFileSync("f.txt", "mine");
    expect(codeOf(() => writeFileSet("f.txt", [{ name: "y.npy", bytes: new Uint8Array(1) }], [], "the outputs"))).toBe(
      "NET8009",
    );
    expect(
      codeOf(() => writeFileSet("out", [{ name: "y.npy", bytes: new Uint8Array(1) }], ["out/y.npy"], "the outputs")),
    ).toBe("NET8008");
    expect(codeOf(() => writeFileSet(".", [{ name: "y.npy", bytes: new Uint8Array(1) }], [], "the outputs"))).toBe(
      "NET8009",
    );
    expect(readFileSync("f.txt", "utf8")).toBe("mine");
  });
});
