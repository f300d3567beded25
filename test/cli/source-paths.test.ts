// Source paths in diagnostics, ONNX doc strings and WGSL bundles are relative to the working folder, or `std/...`
// for the standard library: the same model compiled from two clones of a tree gives the same bytes.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { stdlibDir } from "../../src/util/source-paths.js";
import { runNetc } from "../helpers/cli.js";

const ROOT = resolve(__dirname, "../..");

const LIB = `import "std/nn.net"

block Head(dim: int, classes: int)(x: f32[B, dim]) -> f32[B, classes] {
  layer norm = LayerNorm(dim)
  layer fc = Linear(dim, classes)
  return relu(fc(norm(x)))
}
`;

const MODEL = `import "std/nn.net"
import "../lib/head.net"

model Clone()(x: f32[B, 8]) -> (y: f32[B, 3]) {
  layer proj = Linear(8, 8)
  layer bn = BatchNorm(8)
  layer head = Head(8, 3)
  return head(gelu(bn(proj(x))))
}
`;

const made: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh copy of the little tree (models/, lib/) in its own temporary folder. */
function tree(): string {
  const dir = mkdtempSync(join(tmpdir(), "netc-clone-"));
  made.push(dir);
  mkdirSync(join(dir, "models"));
  mkdirSync(join(dir, "lib"));
  writeFileSync(join(dir, "models/clone.net"), MODEL);
  writeFileSync(join(dir, "lib/head.net"), LIB);
  return dir;
}

/** netc run as if from `cwd` (absolute paths, so that only the working folder differs). */
async function netcIn(cwd: string, ...args: string[]) {
  vi.spyOn(process, "cwd").mockReturnValue(cwd);
  try {
    return await runNetc(...args);
  } finally {
    vi.restoreAllMocks();
  }
}

const machinePaths = (dir: string) => [dir, ROOT, stdlibDir(), tmpdir()];

describe("source paths", () => {
  it("are the same in the ONNX compiled from two clones in different folders, and none is absolute", async () => {
    const onnx: Buffer[] = [];
    for (const dir of [tree(), tree()]) {
      const r = await netcIn(dir, "compile", join(dir, "models/clone.net"), "-o", join(dir, "clone.onnx"));
      expect(r.code, r.err).toBe(0);
      const bytes = readFileSync(join(dir, "clone.onnx"));
      const text = bytes.toString("latin1");
      for (const p of machinePaths(dir)) expect(text).not.toContain(p);
      expect(text).toContain("models/clone.net:");
      expect(text).toContain("lib/head.net:");
      expect(text).toContain("std/nn.net:");
      onnx.push(bytes);
    }
    expect(onnx[0].equals(onnx[1])).toBe(true);
  });

  it("are the same in the WGSL bundles (manifest, module) compiled from two clones", async () => {
    const files: string[][] = [];
    for (const dir of [tree(), tree()]) {
      const r = await netcIn(
        dir,
        "compile",
        join(dir, "models/clone.net"),
        "--target",
        "wgsl",
        "--set",
        "B=1",
        "-o",
        join(dir, "bundle"),
      );
      expect(r.code, r.err).toBe(0);
      const texts = ["manifest.json", "model.js"].map((f) => readFileSync(join(dir, "bundle", f), "utf8"));
      for (const text of texts) for (const p of machinePaths(dir)) expect(text).not.toContain(p);
      expect(texts[0]).toContain('"file": "std/nn.net"');
      expect(texts[1]).toContain("from models/clone.net");
      files.push(texts);
    }
    expect(files[0]).toEqual(files[1]);
  });

  it("in diagnostics name imported files relative to the working folder and the standard library as std/", async () => {
    const dir = tree();
    const missing = await netcIn(
      dir,
      "compile",
      join(dir, "models/clone.net"),
      "--weights",
      join(ROOT, "test/diagnostics/commands/files/tiny.pth"),
      "-o",
      join(dir, "x.onnx"),
    );
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("std/nn.net:15:3: note");
    // (The checkpoint is named as given on the command line, here absolute.)
    for (const p of [dir, stdlibDir()]) expect(missing.err).not.toContain(p);

    writeFileSync(
      join(dir, "lib/head.net"),
      LIB.replace("return relu(fc(norm(x)))", "return fc(norm(x)) + 1.0 * missing_name"),
    );
    const r = await netcIn(dir, "check", join(dir, "models/clone.net"));
    expect(r.code).toBe(1);
    expect(r.err).toContain("lib/head.net:6:");
    for (const p of machinePaths(dir)) expect(r.err).not.toContain(p);
  });

  it("do not let a folder of the user's called std/ pass for the standard library", async () => {
    const dir = tree();
    mkdirSync(join(dir, "std"));
    writeFileSync(join(dir, "std/clone.net"), MODEL);
    const r = await netcIn(dir, "compile", join(dir, "std/clone.net"), "-o", join(dir, "clone.onnx"));
    expect(r.code, r.err).toBe(0);
    const onnx = readFileSync(join(dir, "clone.onnx")).toString("latin1");
    expect(onnx).toContain("./std/clone.net:");
    expect(onnx).not.toMatch(/[^/]std\/clone\.net/);
  });

  it("outside the working folder are relative to it too", async () => {
    const dir = tree();
    const elsewhere = mkdtempSync(join(tmpdir(), "netc-cwd-"));
    made.push(elsewhere);
    cpSync(join(dir, "models"), join(elsewhere, "models"), { recursive: true });
    const r = await netcIn(join(dir, "lib"), "compile", join(dir, "models/clone.net"), "-o", join(dir, "clone.onnx"));
    expect(r.code, r.err).toBe(0);
    const text = readFileSync(join(dir, "clone.onnx")).toString("latin1");
    expect(text).toContain("../models/clone.net:");
    for (const p of machinePaths(dir)) expect(text).not.toContain(p);
  });
});
