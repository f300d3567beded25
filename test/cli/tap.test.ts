// `--tap`: intermediates named on the command line become outputs without editing the file. The values netc run
// writes for examples/tiny.net are checked against the reference interpreter and against each other (a layer's
// input is the value its caller passed; a layer's result is the model output it returns).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeModel } from "../../src/backends/onnx/proto.js";
import { compile, interpret } from "../../src/index.js";
import { encodeNpy, readNpyFile } from "../../src/util/npy.js";
import { uniforms } from "../../src/util/random.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { bindParams } from "../../src/compiler/ir/bind-params.js";
import { runNetc } from "../helpers/cli.js";

const ROOT = resolve(__dirname, "../..");
const TINY = join(ROOT, "examples/tiny.net");
const TAPS = ["a", "classify/x", "classify", "classify.norm", "q"];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "netc-tap-"));
  const next = uniforms(5);
  writeFileSync(
    join(dir, "frames.npy"),
    encodeNpy({
      dtype: "f32",
      shape: [2, 8, 64],
      data: Float32Array.from({ length: 2 * 8 * 64 }, () => next() * 2 - 1),
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (path: string): HostTensor => {
  const r = readNpyFile(path);
  if (!r.ok) throw new Error(r.diagnostic.message);
  return r.tensor;
};

function maxAbsDiff(a: HostTensor, b: HostTensor): number {
  expect(a.shape).toEqual(b.shape);
  return Math.max(...Array.from(a.data as Float32Array, (v, i) => Math.abs(v - (b.data[i] as number))));
}

describe("--tap", () => {
  it("netc run writes the named intermediates, equal to the reference interpreter's", async () => {
    const out = join(dir, "run");
    const r = await runNetc(
      "run",
      TINY,
      "--input",
      `frames=${join(dir, "frames.npy")}`,
      "--tap",
      TAPS.slice(0, 3).join(","),
      "--tap",
      TAPS.slice(3).join(","),
      "-o",
      out,
    );
    expect(r.err).not.toContain("error");
    expect(r.code).toBe(0);

    const compiled = compile(readFileSync(TINY, "utf8"), { file: TINY, taps: TAPS });
    expect(compiled.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const graph = compiled.graph!;
    expect(graph.taps.map((t) => t.name)).toEqual(TAPS);
    const weights = bindParams(graph.params, undefined, 0).tensors; // netc run's random weights (seed 0)
    const reference = interpret(graph, new Map([["frames", read(join(dir, "frames.npy"))]]), weights);
    for (const name of TAPS)
      expect(
        maxAbsDiff(read(join(out, `${name.replace("/", ".")}.npy`)), reference.taps.get(name)!),
        name,
      ).toBeLessThan(1e-5);

    expect(maxAbsDiff(read(join(out, "classify.x.npy")), read(join(out, "a.npy")))).toBe(0);
    expect(maxAbsDiff(read(join(out, "classify.npy")), read(join(out, "logits.npy")))).toBe(0);
    expect(read(join(out, "q.npy")).shape).toEqual([2, 4, 64]);
  });

  it("netc compile adds only the named taps as outputs; with --debug-outputs the file's taps too", async () => {
    const source = join(dir, "tapped.net");
    writeFileSync(
      source,
      readFileSync(TINY, "utf8")
        .replace("  return classify(a)", "  tap approx = a\n  return classify(a)")
        .replace('import "std/nn.net"', `import "${join(ROOT, "stdlib/nn.net")}"`),
    );
    const outputs = async (...flags: string[]) => {
      const target = join(dir, "tapped.onnx");
      const r = await runNetc("compile", source, "-o", target, ...flags);
      expect(r.code, r.err).toBe(0);
      return decodeModel(readFileSync(target)).graph!.output!.map((o) => o.name);
    };
    expect(await outputs("--tap", "classify.norm")).toEqual(["logits", "classify.norm"]);
    expect(await outputs("--tap", "classify.norm", "--debug-outputs")).toEqual(["logits", "approx", "classify.norm"]);
    expect(await outputs("--tap", "approx")).toEqual(["logits", "approx"]);
    expect(await outputs()).toEqual(["logits"]);
  });

  it("an unknown name is NET8020 at its place in the option, with the closest name", async () => {
    const r = await runNetc("compile", TINY, "-o", join(dir, "never.onnx"), "--tap", "classify/x,norm,classify/y");
    expect(r.code).toBe(1);
    expect(r.err).toContain("--tap:1:12: error NET8020: --tap norm: the model has no tensor of that name");
    expect(r.err).toContain("did you mean 'classify.norm'?");
    expect(r.err).toContain("--tap:1:17: error NET8020: --tap classify/y");
    expect(r.err).toContain("did you mean 'classify/x'?");
    expect(r.err).not.toContain("--tap classify/x:");
  });

  it("is refused for models that are already compiled", async () => {
    const target = join(dir, "plain.onnx");
    expect((await runNetc("compile", TINY, "-o", target)).code).toBe(0);
    const r = await runNetc("run", target, "--input", `frames=${join(dir, "frames.npy")}`, "--tap", "a");
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("--tap applies to .net models");
  });
});
