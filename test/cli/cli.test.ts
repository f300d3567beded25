// The `netc` command line, run in-process: exit codes, diagnostics on stderr, files written whole or not at all.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { decodeModel } from "../../src/backends/onnx/proto.js";
import { encodeNpy, readNpyFile } from "../../src/util/npy.js";
import { runNetc } from "../helpers/cli.js";

const ROOT = resolve(__dirname, "../..");
const WEIGHT_FIXTURES = join(ROOT, "test/fixtures/weights");

const TINY = `import "std/nn.net"

model Tiny(hidden: int = 6)(x: f32[B, 4]) -> (y: f32[B, 3]) {
  layer fc[0] = Linear(4, hidden)
  layer fc[1] = Linear(hidden, 3)
  let h = gelu(fc[0](x))
  tap hidden_out = h
  return fc[1](h)
}
`;

let dir: string;
let out: string;
let err: string;

async function netc(...args: string[]): Promise<number> {
  const r = await runNetc(...args);
  [out, err] = [r.out, r.err];
  return r.code;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "netc-cli-"));
  writeFileSync(join(dir, "tiny.net"), TINY);
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe("netc", () => {
  it("compiles a model to ONNX with random weights labelled as such", async () => {
    const target = join(dir, "tiny.onnx");
    expect(await netc("compile", join(dir, "tiny.net"), "-o", target, "--seed", "3")).toBe(0);
    const model = decodeModel(readFileSync(target));
    const meta = Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key, p.value]));
    expect(meta["netc.weights"]).toMatch(/random\(seed=3\)/);
    const weights = model.graph!.initializer!.map((t) => t.name!).filter((n) => n.startsWith("fc."));
    expect(weights.sort()).toEqual(["fc.0.bias", "fc.0.weight", "fc.1.bias", "fc.1.weight"]);
  });

  it("runs a compiled model on .npy inputs and writes .npy outputs, taps included", async () => {
    const target = join(dir, "tiny.onnx");
    expect(await netc("compile", join(dir, "tiny.net"), "-o", target, "--debug-outputs")).toBe(0);
    writeFileSync(
      join(dir, "x.npy"),
      encodeNpy({ dtype: "f32", shape: [2, 4], data: new Float32Array([1, 2, 3, 4, -1, -2, -3, -4]) }),
    );
    expect(await netc("run", target, "--input", `x=${join(dir, "x.npy")}`, "-o", join(dir, "out"))).toBe(0);
    const y = readNpyFile(join(dir, "out", "y.npy"));
    expect(y.ok && y.tensor.shape).toEqual([2, 3]);
    expect(existsSync(join(dir, "out", "hidden_out.npy"))).toBe(true);
    expect(out).toContain("y: f32[2, 3]");
  });

  it("--deploy stores the Linear weights transposed, names them in the metadata, and computes the same", async () => {
    writeFileSync(
      join(dir, "x.npy"),
      encodeNpy({ dtype: "f32", shape: [2, 4], data: new Float32Array([1, 2, 3, 4, -1, -2, -3, -4]) }),
    );
    const ys: Float32Array[] = [];
    for (const flags of [[], ["--deploy"]]) {
      const target = join(dir, `tiny${flags.length}.onnx`);
      expect(await netc("compile", join(dir, "tiny.net"), "-o", target, ...flags)).toBe(0);
      expect(
        await netc("run", target, "--input", `x=${join(dir, "x.npy")}`, "-o", join(dir, `out${flags.length}`)),
      ).toBe(0);
      const y = readNpyFile(join(dir, `out${flags.length}`, "y.npy"));
      ys.push(y.ok ? (y.tensor.data as Float32Array) : new Float32Array());
    }
    const model = decodeModel(readFileSync(join(dir, "tiny1.onnx")));
    expect(model.graph!.node!.filter((n) => n.opType === "Transpose")).toEqual([]);
    const layouts = JSON.parse(model.metadataProps!.find((p) => p.key === "netc.weight_layouts")!.value!);
    expect(layouts).toEqual([
      { name: "fc.0.weight.T", checkpoint: "fc.0.weight", perm: [1, 0] },
      { name: "fc.1.weight.T", checkpoint: "fc.1.weight", perm: [1, 0] },
    ]);
    expect(Array.from(ys[1])).toEqual(Array.from(ys[0]));
    expect(ys[0].length).toBe(6);
  });

  it("--onnxruntime-ops writes attention as com.microsoft MultiHeadAttention and computes the same", async () => {
    const source = `import "std/nn.net"

model Attend()(x: f32[B, 5, 8]) -> (y: f32[B, 5, 8]) {
  layer attn = SelfAttention(8, 2)
  return attn(x)
}
`;
    writeFileSync(join(dir, "attend.net"), source);
    const x = new Float32Array(2 * 5 * 8).map((_, i) => Math.sin(i));
    writeFileSync(join(dir, "x.npy"), encodeNpy({ dtype: "f32", shape: [2, 5, 8], data: x }));
    const ys: Float32Array[] = [];
    for (const flags of [[], ["--onnxruntime-ops"]]) {
      const target = join(dir, `attend${flags.length}.onnx`);
      expect(await netc("compile", join(dir, "attend.net"), "-o", target, ...flags)).toBe(0);
      const model = decodeModel(readFileSync(target));
      const contrib = model.graph!.node!.filter((n) => n.domain === "com.microsoft").map((n) => n.opType);
      expect(contrib).toEqual(flags.length ? ["MultiHeadAttention"] : []);
      expect(model.opsetImport!.map((o) => o.domain)).toEqual(flags.length ? ["", "com.microsoft"] : [""]);
      const outDir = join(dir, `out${flags.length}`);
      expect(await netc("run", target, "--input", `x=${join(dir, "x.npy")}`, "-o", outDir)).toBe(0);
      const y = readNpyFile(join(outDir, "y.npy"));
      ys.push(y.ok ? (y.tensor.data as Float32Array) : new Float32Array());
    }
    expect(ys[0].length).toBe(80);
    expect(Math.max(...ys[0].map((v, i) => Math.abs(v - ys[1][i])))).toBeLessThan(1e-5);
  });

  it("runs a .net directly with --set", async () => {
    writeFileSync(join(dir, "x.npy"), encodeNpy({ dtype: "f32", shape: [1, 4], data: new Float32Array([1, 2, 3, 4]) }));
    expect(await netc("run", join(dir, "tiny.net"), "--set", "hidden=9", "--input", `x=${join(dir, "x.npy")}`)).toBe(0);
    expect(out).toContain("y: f32[1, 3]");
  });

  it("reports diagnostics with file:line:col and exits 1, writing nothing", async () => {
    writeFileSync(join(dir, "bad.net"), TINY.replace("Linear(hidden, 3)", "Linear(hidden + 1, 3)"));
    const target = join(dir, "bad.onnx");
    expect(await netc("compile", join(dir, "bad.net"), "-o", target)).toBe(1);
    expect(err).toMatch(/bad\.net:\d+:\d+: error NET3002/);
    expect(err).toContain("^");
    expect(existsSync(target)).toBe(false);
  });

  it("check --format json gives machine-readable diagnostics", async () => {
    writeFileSync(join(dir, "bad.net"), "model M()(x: f32[2]) -> f32[2] {\n  return y\n}\n");
    expect(await netc("check", join(dir, "bad.net"), "--format", "json")).toBe(1);
    const parsed = JSON.parse(out) as { diagnostics: { code: string; location: { line: number; column: number } }[] };
    expect(parsed.diagnostics[0]).toMatchObject({ code: "NET2001", location: { line: 2, column: 10 } });
  });

  it("usage errors exit 2", async () => {
    expect(await netc("compile", join(dir, "tiny.net"))).toBe(2);
    expect(await netc("frobnicate")).toBe(2);
    expect(await netc("compile", join(dir, "tiny.net"), "-o", join(dir, "t.onnx"), "--set", "novalue")).toBe(2);
  });

  it("a missing input file is a diagnostic, not a crash", async () => {
    expect(await netc("check", join(dir, "nope.net"))).toBe(1);
    expect(err).toContain("NET8001");
  });

  it("an unwritable output is a diagnostic and leaves no temporary file", async () => {
    expect(await netc("compile", join(dir, "tiny.net"), "-o", join(dir, "missing-folder", "t.onnx"))).toBe(1);
    expect(err).toContain("NET8004");
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("a malicious checkpoint is refused with the global named, and no output appears", async () => {
    const target = join(dir, "t.onnx");
    expect(
      await netc("compile", join(dir, "tiny.net"), "-o", target, "--weights", join(WEIGHT_FIXTURES, "evil_system.pth")),
    ).toBe(1);
    expect(err).toMatch(/NET6007.*system/s);
    expect(existsSync(target)).toBe(false);
  });

  it("a checkpoint that does not fit the model reports every mismatch strictly", async () => {
    const target = join(dir, "t.onnx");
    expect(
      await netc(
        "compile",
        join(dir, "tiny.net"),
        "-o",
        target,
        "--weights",
        join(WEIGHT_FIXTURES, "dataparallel.pth.tar"),
      ),
    ).toBe(1);
    expect(err).toContain("NET6020"); // missing weights
    expect(err).toContain("NET6021"); // unexpected tensors
    expect(existsSync(target)).toBe(false);
  });

  it("weights inspect prints the container tree", async () => {
    expect(await netc("weights", "inspect", join(WEIGHT_FIXTURES, "nested.pth"))).toBe(0);
    expect(out.length).toBeGreaterThan(0);
    expect(await netc("weights", "inspect", join(WEIGHT_FIXTURES, "not_a_checkpoint.txt"))).toBe(1);
    expect(err).toContain("NET6002");
  });

  it("inspect reports parameters, MACs and node counts", async () => {
    expect(await netc("inspect", join(dir, "tiny.net"))).toBe(0);
    expect(out).toContain("parameters: 51");
    expect(out).toContain("MACs: 0.00 M");
    expect(out).toMatch(/ONNX nodes \(opset 17\): \d+/);
    expect(await netc("inspect", join(dir, "tiny.net"), "--json")).toBe(0);
    expect(JSON.parse(out).ir.parameters).toBe(51);
  });

  it.each([
    [
      "a line fmt changes",
      "model M()(x: f32[B, 4]) -> f32[B, 4] {\n  let y = x\n  let z   =  y+x\n  return z\n}\n",
      3,
      'from this line on, fmt writes "  let z = y + x"',
    ],
    [
      "no final newline",
      "model M()(x: f32[B, 4]) -> f32[B, 4] {\n  return x\n}",
      3,
      "the file does not end with a newline",
    ],
    [
      "trailing blank lines",
      "model M()(x: f32[B, 4]) -> f32[B, 4] {\n  return x\n}\n\n\n",
      5,
      "fmt ends the file before this line",
    ],
  ])("fmt --check points at the first line that differs: %s", async (_, text, line, what) => {
    writeFileSync(join(dir, "m.net"), text);
    expect(await netc("fmt", "--check", join(dir, "m.net"))).toBe(1);
    expect(err).toContain(`m.net:${line}:1: error NET8006: ${join(dir, "m.net")} is not formatted: ${what}`);
    expect(readFileSync(join(dir, "m.net"), "utf8")).toBe(text); // --check writes nothing
  });

  it.each([
    ["--seed", "abc"],
    ["--seed", "1.5"],
    ["--opset", "abc"],
  ])("a malformed number (%s %s) is a usage error, not NaN", async (flag, value) => {
    expect(await netc("compile", join(dir, "tiny.net"), flag, value, "-o", join(dir, "x.onnx"))).toBe(2);
    expect(err).toContain(`expected a whole number of at least 0, got '${value}'`);
    expect(existsSync(join(dir, "x.onnx"))).toBe(false);
  });

  it("inspect sizes up a model far too big to hold in memory without materialising its weights", async () => {
    writeFileSync(
      join(dir, "huge.net"),
      "model M()(x: f32[B, 100000]) -> f32[B, 100000] {\n  param w: f32[100000, 100000]\n  return x @ w\n}\n",
    );
    expect(await netc("inspect", join(dir, "huge.net"))).toBe(0);
    expect(out).toContain("parameters: 10,000,000,000");
    expect(out).toContain("ONNX nodes (opset 17): 1: MatMul 1");
  });
});
