// `netc compile --target wgsl` and `netc run <bundle-dir> [--profile]`, in-process, against the ONNX path.
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { profileText } from "../../src/cli/commands/run.js";
import { runNetc } from "../helpers/cli.js";
import { encodeNpy, readNpyFile } from "../../src/util/npy.js";
import { random } from "../helpers/ir.js";
import { maxAbsDiff, TOLERANCE, tryGpu } from "./helpers.js";

const TINY = `import "std/nn.net"

model Tiny()(x: f32[B, 4]) -> (y: f32[B, 3]) {
  layer fc[0] = Linear(4, 8)
  layer fc[1] = Linear(8, 3)
  return fc[1](gelu(fc[0](x)))
}
`;

const netc = runNetc;

const npyAt = (path: string) => {
  const r = readNpyFile(path);
  if (!r.ok) throw new Error(r.diagnostic.message);
  return r.tensor;
};

const { gpu, reason } = await tryGpu();

describe.skipIf(!gpu)(`netc with WGSL bundles${reason ? ` (skipped: ${reason})` : ""}`, () => {
  afterAll(() => gpu?.release());
  const dir = mkdtempSync(join(tmpdir(), "netc-wgsl-cli-"));
  writeFileSync(join(dir, "tiny.net"), TINY);
  writeFileSync(join(dir, "x.npy"), encodeNpy(random("f32", [2, 4], 5)));

  it("compiles a bundle whose run agrees with the ONNX model's, and --profile lists its kernels", async () => {
    const net = join(dir, "tiny.net");
    expect((await netc("compile", net, "--target", "wgsl", "--set", "B=2", "-o", join(dir, "bundle"))).code).toBe(0);
    const files = readdirSync(join(dir, "bundle")).sort();
    expect(files.map((f) => f.replace(/-[0-9a-f]{16}\./, "-<hash>."))).toEqual([
      "manifest.json",
      "model-<hash>.onnx",
      "model.d.ts",
      "model.js",
      "shaders-<hash>.wgsl",
      "weights-<hash>.bin",
    ]);
    // Each content file is named by the start of its SHA-256.
    for (const f of files.filter((f) => /-[0-9a-f]{16}\./.test(f)))
      expect(
        createHash("sha256")
          .update(readFileSync(join(dir, "bundle", f)))
          .digest("hex")
          .slice(0, 16),
      ).toBe(f.split("-")[1].split(".")[0]);
    expect((await netc("compile", net, "--set", "B=2", "-o", join(dir, "tiny.onnx"))).code).toBe(0);
    // The bundle's ONNX fallback is the model `netc compile` writes as ONNX, byte for byte.
    const onnx = files.find((f) => f.endsWith(".onnx"))!;
    expect(readFileSync(join(dir, "bundle", onnx)).equals(readFileSync(join(dir, "tiny.onnx")))).toBe(true);

    const run = await netc(
      "run",
      join(dir, "bundle"),
      "--input",
      `x=${join(dir, "x.npy")}`,
      "-o",
      join(dir, "wgsl-out"),
      "--profile",
    );
    expect(run.code, run.err).toBe(0);
    const kernels = JSON.parse(readFileSync(join(dir, "bundle", "manifest.json"), "utf8")).kernels.length;
    expect(run.out).toContain(`in ${kernels} kernels; the slowest:`);
    // No shares when the whole run took less than SwiftShader's timer resolution (profileText's test below).
    const timed = Number(/^GPU time ([\d.]+) ms/m.exec(run.out)?.[1]) > 0;
    expect(run.out).toMatch(
      timed ? /^ +[\d.]+ ms +[\d.]+% +k\d+_matmul +matmul\+add/m : /^ +[\d.]+ ms +- +k\d+_matmul/m,
    );
    expect(run.out).toContain("by anchor op:");
    // Both Linear layers are matmul kernels: the class summary counts them together, with all of the time.
    const share = timed ? "100\\.0%" : "-";
    const classes = new RegExp(`^by kernel class:\\n +[\\d.]+ ms +${share} +matmul \\(2\\)\\nby anchor op:`, "m");
    expect(run.out).toMatch(classes);

    expect(
      (await netc("run", join(dir, "tiny.onnx"), "--input", `x=${join(dir, "x.npy")}`, "-o", join(dir, "onnx-out")))
        .code,
    ).toBe(0);
    expect(
      maxAbsDiff(npyAt(join(dir, "wgsl-out", "y.npy")), npyAt(join(dir, "onnx-out", "y.npy"))),
    ).toBeLessThanOrEqual(TOLERANCE);
  });

  it("shows progress while compiling and running, only when stderr is a terminal", async () => {
    const net = join(dir, "tiny.net");
    const compileArgs = ["compile", net, "--target", "wgsl", "--set", "B=2", "-o", join(dir, "progress-bundle")];
    const runArgs = ["run", join(dir, "progress-bundle"), "--input", `x=${join(dir, "x.npy")}`];
    // In a pipe (as here): nothing but the messages.
    const piped = [await netc(...compileArgs), await netc(...runArgs)];
    for (const r of piped) {
      expect(r.code, r.err).toBe(0);
      expect(r.err).not.toMatch(/[\r\x1b]/);
    }
    // On a terminal, with a clock on which everything takes a second: the steps, then the line cleared.
    vi.stubEnv("CI", "");
    const wasTTY = Object.getOwnPropertyDescriptor(process.stderr, "isTTY");
    Object.defineProperty(process.stderr, "isTTY", { value: true, configurable: true });
    const realNow = Date.now.bind(Date);
    let slow = 0;
    vi.spyOn(Date, "now").mockImplementation(() => realNow() + (slow += 1000));
    try {
      const compiled = await netc(...compileArgs);
      expect(compiled.code, compiled.err).toBe(0);
      expect(compiled.err).toMatch(/\r\x1b\[Kgenerating WGSL kernels\.\.\. [\d.]+ s/);
      expect(compiled.err).toMatch(/\r\x1b\[Kwrote /);
      const ran = await netc(...runArgs);
      expect(ran.code, ran.err).toBe(0);
      expect(ran.err).toMatch(/\r\x1b\[Kcompiling kernels \[#+ *\] 100% [\d.]+ s/);
      expect(ran.err).toMatch(/\r\x1b\[Krunning the model\.\.\. [\d.]+ s/);
      expect(ran.err).toMatch(/\r\x1b\[Kran in /);
    } finally {
      vi.restoreAllMocks();
      vi.unstubAllEnvs();
      if (wasTTY) Object.defineProperty(process.stderr, "isTTY", wasTTY);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
  });

  it("a tampered shard or a wrong input is a NET7051/NET7010 diagnostic, not a crash", async () => {
    const broken = join(dir, "broken");
    expect((await netc("compile", join(dir, "tiny.net"), "--target", "wgsl", "--set", "B=2", "-o", broken)).code).toBe(
      0,
    );
    writeFileSync(join(dir, "x3.npy"), encodeNpy(random("f32", [3, 4], 6)));
    const wrongShape = await netc("run", broken, "--input", `x=${join(dir, "x3.npy")}`);
    expect(wrongShape.code).toBe(1);
    expect(wrongShape.err).toContain("error NET7010: the input x is f32[3,4], the model expects f32[2,4]");
    const shard = readdirSync(broken).find((f) => f.startsWith("weights-"))!;
    const bytes = readFileSync(join(broken, shard));
    bytes[0] ^= 1;
    writeFileSync(join(broken, shard), bytes);
    const r = await netc("run", broken, "--input", `x=${join(dir, "x.npy")}`);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`: the bundle file ${shard} has the SHA-256`);
    expect(r.err).toContain("(a partial, stale or tampered file)");
  });

  it("--profile's table shares the time out by kernel and class, and shows no shares for a run of 0 ms", () => {
    const kernel = (name: string, op: string, ms: number) => ({ kernel: name, ops: [op], scope: "m", ms });
    const timed = profileText([kernel("k0_matmul", "matmul", 3), kernel("k1_conv", "conv", 1)]);
    expect(timed).toMatch(/^ +3\.000 ms +75\.0% +k0_matmul/m);
    expect(timed).toMatch(/^by kernel class:\n +3\.000 ms +75\.0% +matmul \(1\)\n +1\.000 ms +25\.0% +conv \(1\)/m);
    const instant = profileText([kernel("k0_matmul", "matmul", 0), kernel("k1_matmul", "matmul", 0)]);
    expect(instant).toMatch(/^GPU time 0\.00 ms in 2 kernels/);
    expect(instant).toMatch(/^by kernel class:\n +0\.000 ms +- +matmul \(2\)$/m);
    expect(instant).not.toMatch(/NaN|%/);
  });

  it("--profile on an ONNX model is a usage error", async () => {
    expect((await netc("compile", join(dir, "tiny.net"), "-o", join(dir, "p.onnx"))).code).toBe(0);
    const r = await netc("run", join(dir, "p.onnx"), "--input", `x=${join(dir, "x.npy")}`, "--profile");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--profile times the kernels of a WGSL bundle");
  });
});
