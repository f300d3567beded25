// netc as an installed package: the optional runtimes (a missing one is NET8007), `--device` for onnxruntime's CUDA
// execution provider (this machine has none: NET5005 and the `auto` fallback), reference models by name, and a CLI
// that imports a command's modules only when the command runs.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { compile, run } from "../../src/api.js";
import { listReferenceModels, resolveModelArgument } from "../../src/models.js";
import { encodeNpy } from "../../src/util/npy.js";
import { setOptionalPackageLoader } from "../../src/util/optional.js";
import { runNetc } from "../helpers/cli.js";
import { rejectedCodes } from "../helpers/diagnostics.js";

const ROOT = resolve(__dirname, "../..");
const TINY = "model T(n: int = 4)(x: f32[B, n]) -> (y: f32[B, n]) {\n  return relu(x)\n}\n";
const X = { dtype: "f32" as const, shape: [1, 4], data: new Float32Array([-1, 2, -3, 4]) };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "netc-package-"));
  writeFileSync(join(dir, "t.net"), TINY);
  writeFileSync(join(dir, "x.npy"), encodeNpy(X));
});
afterEach(() => setOptionalPackageLoader());

/** Pretends `missing` is not installed, the way Node's ESM loader reports it. */
function without(missing: string): void {
  setOptionalPackageLoader(async (name) => {
    if (name !== missing) return import(name);
    throw Object.assign(new Error(`Cannot find package '${name}' imported from ${ROOT}/src/util/optional.ts`), {
      code: "ERR_MODULE_NOT_FOUND",
    });
  });
}

/** The CUDA provider library onnxruntime-node's install script would have downloaded (the repository skips it). */
const cudaInstalled = existsSync(
  join(
    dirname(createRequire(import.meta.url).resolve("onnxruntime-node")),
    "..",
    "bin",
    "napi-v6",
    process.platform,
    process.arch,
    "libonnxruntime_providers_cuda.so",
  ),
);

describe("optional runtimes", () => {
  it("names onnxruntime-node and how to install it when an ONNX run needs it", async () => {
    without("onnxruntime-node");
    const r = await runNetc("run", join(dir, "t.net"), "--set", "B=1", "--input", `x=${join(dir, "x.npy")}`);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      "error NET8007: running an ONNX model needs the onnxruntime-node package, which is not installed",
    );
    expect(r.err).toContain("hint: install it: npm install onnxruntime-node");
    expect(await rejectedCodes(run(compile(TINY).onnx!, { x: X }))).toEqual(["NET8007"]);
  });

  it("names webgpu when a bundle run needs it", async () => {
    const bundleDir = join(dir, "t-wgsl");
    expect(
      (await runNetc("compile", join(dir, "t.net"), "--target", "wgsl", "--set", "B=1", "-o", bundleDir)).code,
    ).toBe(0);
    without("webgpu");
    const r = await runNetc("run", bundleDir, "--input", `x=${join(dir, "x.npy")}`);
    expect(r.code).toBe(1);
    expect(r.err).toContain("needs the webgpu package, which is not installed");
    expect(r.err).toContain("npm install webgpu");
    const device = await runNetc("run", bundleDir, "--device", "cuda");
    expect(device.code).toBe(2);
    expect(device.err).toContain("a WGSL bundle runs on the WebGPU adapter");
  });

  it("tells an installed package that fails to load from a missing one", async () => {
    setOptionalPackageLoader(async () => {
      throw new Error("libonnxruntime.so.1: cannot open shared object file");
    });
    const r = await runNetc("run", join(dir, "t.net"), "--set", "B=1", "--input", `x=${join(dir, "x.npy")}`);
    expect(r.code).toBe(1);
    expect(r.err).toContain("is installed but cannot be loaded: libonnxruntime.so.1: cannot open shared object file");
  });
});

describe.skipIf(cudaInstalled)("--device without CUDA", () => {
  it("cuda is NET5005, auto falls back to the CPU with one note, cpu is the default", async () => {
    const args = ["run", join(dir, "t.net"), "--set", "B=1", "--input", `x=${join(dir, "x.npy")}`];
    const cuda = await runNetc(...args, "--device", "cuda");
    expect(cuda.code).toBe(1);
    expect(cuda.err).toMatch(/error NET5005: --device cuda: .*CUDA execution provider/);
    const auto = await runNetc(...args, "--device", "auto");
    expect(auto.code).toBe(0);
    expect(auto.err.split("\n").filter((l) => l.startsWith("note:"))).toEqual([
      expect.stringMatching(/^note: --device auto: .*; running on the CPU$/),
    ]);
    expect(auto.out).toContain("y: f32[1, 4] 0.0000 2.0000 0.0000 4.0000");
    const cpu = await runNetc(...args);
    expect(cpu.err).not.toContain("note:");
    expect((await runNetc(...args, "--device", "tpu")).code).toBe(2);
  });

  it("the library's run: device cuda rejects, auto reports the fallback and runs", async () => {
    const model = compile(TINY).onnx!;
    expect(await rejectedCodes(run(model, { x: X }, { device: "cuda" }))).toEqual(["NET5005"]);
    const notes: string[] = [];
    const out = await run(model, { x: X }, { device: "auto", onFallback: (n) => notes.push(n) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([0, 2, 0, 4]);
    expect(notes).toHaveLength(1);
  });
});

describe("reference models by name", () => {
  it("lists every model file with its parameters, inputs and weight sets", async () => {
    const models = listReferenceModels();
    expect(models.map((m) => m.name)).toEqual(["dfer_clip", "ifdd", "m3dfel", "mae_dfer", "ous", "s2d", "ifdd_topk"]);
    const ifdd = models.find((m) => m.name === "ifdd")!;
    expect(ifdd).toMatchObject({
      model: "IFDD",
      parameters: [{ name: "num_classes", type: "int", default: "7" }],
      inputs: ["video: f32[B, 3, 16, 224, 224]"],
      weightSets: [],
    });
    expect(models.find((m) => m.name === "s2d")!.weightSets).toEqual(["default", "landmark", "pretrained"]);
    const r = await runNetc("models");
    expect(r.code).toBe(0);
    expect(r.out).toContain("ifdd (IFDD): IFDD: Implicit Facial Dynamics Disentanglement");
    expect(r.out).toContain("  parameters: num_classes: int = 7");
    expect(r.out).toContain("landmark (--weights landmark=<file>)");
    const json = JSON.parse((await runNetc("models", "--json")).out) as { name: string; path?: string }[];
    expect(json.map((m) => m.name)).toContain("ous");
    expect(json.every((m) => m.path === undefined)).toBe(true); // no machine paths
  });

  it("a bare name is the reference model, relative to the working folder; files and paths win", async () => {
    expect(resolveModelArgument("ifdd")).toBe("models/ifdd.net");
    expect(resolveModelArgument("ifdd_topk")).toBe("models/variants/ifdd_topk.net");
    expect(resolveModelArgument("examples/tiny.net")).toBe("examples/tiny.net");
    expect(resolveModelArgument("./ifdd")).toBe("./ifdd");
    expect(resolveModelArgument("no_such_model")).toBe("no_such_model");
    const check = await runNetc("check", "ifdd_topk");
    expect(check.code).toBe(0);
    expect(check.out + check.err).toContain("models/variants/ifdd_topk.net");
  });
});

describe("start-up", () => {
  it("the CLI entry imports no command module, backend or runtime until a command runs", () => {
    const main = readFileSync(join(ROOT, "src/cli/main.ts"), "utf8");
    const staticImports = [...main.matchAll(/^import (?!type ).*from "([^"]+)";$/gm)].map((m) => m[1]);
    expect(staticImports.sort()).toEqual([
      "../diagnostics/diagnostics.js",
      "../util/version.js",
      "./io.js",
      "commander",
    ]);
    for (const m of ["compile", "check", "fmt", "run", "inspect", "graph", "models", "weights"])
      expect(main).toContain(`import("./commands/${m}.js")`);
  });
});

describe("the library API's files", () => {
  it("compileFile reports a missing source as NET8001 and writes nothing", async () => {
    const { compileFile } = await import("../../src/api.js");
    const r = compileFile(join(dir, "missing.net"), join(dir, "missing.onnx"));
    expect(r.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ["NET8001", `cannot read ${join(dir, "missing.net")}: no such file`],
    ]);
    expect(existsSync(join(dir, "missing.onnx"))).toBe(false);
  });

  it("compileFile refuses a FIFO or a binary file as its source with the CLI's diagnostics", async () => {
    const { compileFile } = await import("../../src/api.js");
    const fifo = join(dir, "pipe.net");
    execFileSync("mkfifo", [fifo]);
    const binary = join(dir, "binary.net");
    writeFileSync(binary, Uint8Array.of(0x80, 0, 0xff));
    expect(compileFile(fifo, join(dir, "pipe.onnx")).diagnostics.map((d) => [d.code, d.message])).toEqual([
      ["NET8010", `cannot read ${fifo}: it is a FIFO (named pipe), not a regular file`],
    ]);
    expect(compileFile(binary, join(dir, "binary.onnx")).diagnostics.map((d) => d.message)).toEqual([
      `cannot read ${binary}: it is not UTF-8 text (a binary file?)`,
    ]);
    expect(existsSync(join(dir, "pipe.onnx")) || existsSync(join(dir, "binary.onnx"))).toBe(false);
  });

  it("compileFile never writes over its source or a file it imports (NET8008)", async () => {
    const { compileFile } = await import("../../src/api.js");
    const lib = join(dir, "lib.net");
    const libText = "fn twice(x: f32[*S]) -> f32[*S] {\n  return x * 2.0\n}\n";
    writeFileSync(lib, libText);
    const source = join(dir, "self.net");
    const text = 'import "lib.net"\n\nmodel M()(x: f32[1, 4]) -> f32[1, 4] {\n  return twice(x)\n}\n';
    writeFileSync(source, text);
    for (const output of [source, lib]) {
      const r = compileFile(source, output);
      expect(r.diagnostics.map((d) => d.code)).toEqual(["NET8008"]);
    }
    expect(readFileSync(source, "utf8")).toBe(text);
    expect(readFileSync(lib, "utf8")).toBe(libText);
  });
});
