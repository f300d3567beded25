// Standard-library blocks against the PyTorch modules they stand for, from a state dict torch wrote
// (test/fixtures/s2d/bn_prelu.*, made by tools/make_s2d_fixtures.py): BatchNorm in eval mode and PReLU.
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { runOnnx } from "../../src/backends/onnx/index.js";
import { compile, compileToGraph, interpret } from "../../src/index.js";
import { readNpyFile } from "../../src/util/npy.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { importWeights, openCheckpoint } from "../../src/weights/index.js";
import { renderReport } from "../../src/weights/report.js";
import { expectClose } from "../helpers/ir.js";

const FIXTURES = resolve(__dirname, "../fixtures/s2d");

const SOURCE = `import "std/nn.net"

model M()(x: f32[B, 3, 5, 4]) -> (y: f32[B, 3, 5, 4], z: f32[B, 3]) {
  layer bn2d = BatchNorm(3)
  layer act2d = PReLU(3)
  layer bn1d = BatchNorm(3)
  layer act1d = PReLU()
  let y = act2d(bn2d(x))
  return (y, act1d(bn1d(mean(y, [2, 3]))))
}
`;

function npy(name: string): HostTensor {
  const r = readNpyFile(join(FIXTURES, name));
  if (!r.ok) throw new Error(r.diagnostic.message);
  return r.tensor;
}

describe("BatchNorm (eval) and PReLU against torch.nn", () => {
  const r = compile(SOURCE, { file: "stdlib-test.net", weights: [join(FIXTURES, "bn_prelu.pth")] });

  it("maps torch's state dict strictly, num_batches_tracked included (declared, never read)", () => {
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const report = r.weightReport!;
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(report.applied).toHaveLength(12);
    expect(report.applied.filter((a) => a.unused).map((a) => a.path)).toEqual([
      "bn2d.num_batches_tracked",
      "bn1d.num_batches_tracked",
    ]);
  });

  it(
    "says nothing about num_batches_tracked (a buffer the standard library declares and never reads) but one " +
      "report line",
    () => {
      const codes = r.diagnostics.map((d) => d.code);
      expect(codes).not.toContain("NET2015");
      expect(codes).not.toContain("NET6025");
      expect(r.diagnostics.map((d) => d.message).join("\n")).not.toContain("num_batches_tracked");
      expect(compileToGraph(SOURCE, { file: "stdlib-test.net" }).diagnostics).toEqual([]);
      const text = renderReport(r.weightReport!, { verbosity: "verbose" });
      expect(text.split("\n").filter((l) => l.includes("num_batches_tracked"))).toEqual([
        "  2 standard-library buffers the forward never reads (num_batches_tracked): 2 loaded, 0 not in the checkpoint",
      ]);
    },
  );

  it("still warns about a weight the user's own block declares and never reads", () => {
    const own = SOURCE.replace(
      "model M()",
      "block Scaled(c: int)(x: f32[N, c]) -> f32[N, c] {\n  param scale: f32[c]\n  return x\n}\n\nmodel M()",
    )
      .replace(
        "  let y = act2d(bn2d(x))",
        "  layer s = Scaled(3)\n  let y = act2d(bn2d(x))\n  let w = s(mean(y, [2, 3]))",
      )
      .replace("(y, act1d(bn1d(mean(y, [2, 3]))))", "(y, act1d(bn1d(w)))");
    const diagnostics = compileToGraph(own, { file: "own.net" }).diagnostics;
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([
      ["NET2015", "1 weight is declared but never used by the forward computation: s.scale"],
    ]);
  });

  it("gives torch's outputs through onnxruntime and the reference interpreter", async () => {
    const x = npy("bn_prelu_x.npy");
    const got = await runOnnx(r.onnx!, new Map([["x", x]]));
    expectClose(got.get("y")!, npy("bn_prelu_y.npy"), 1e-5, "y");
    expectClose(got.get("z")!, npy("bn_prelu_z.npy"), 1e-5, "z");
    const ckpt = openCheckpoint(join(FIXTURES, "bn_prelu.pth"));
    const declared = r.graph!.params.map((p) => ({ path: p.path, dtype: p.dtype, shape: p.shape }));
    const { weights } = importWeights(declared, [{ checkpoint: ckpt }]);
    ckpt.close();
    const ref = interpret(r.graph!, new Map([["x", x]]), weights).outputs;
    expectClose(ref.get("y")!, npy("bn_prelu_y.npy"), 1e-6, "interpreted y");
    expectClose(ref.get("z")!, npy("bn_prelu_z.npy"), 1e-6, "interpreted z");
  });

  it("starts from PyTorch's initial statistics without a checkpoint (a random running_var could be negative)", () => {
    const bare = compile(SOURCE, { file: "stdlib-test.net" });
    const init = (path: string) =>
      Array.from(bare.graph!.params.find((p) => p.path === path)!.init!.data as Float32Array);
    expect(init("bn2d.running_var")).toEqual([1, 1, 1]);
    expect(init("bn2d.running_mean")).toEqual([0, 0, 0]);
    expect(init("bn1d.weight")).toEqual([1, 1, 1]);
  });

  it("PReLU takes one slope or one per channel", () => {
    const bad = compile(SOURCE.replace("PReLU(3)", "PReLU(4)"), { file: "stdlib-test.net" });
    expect(bad.diagnostics.map((d) => [d.code, d.message])).toContainEqual([
      "NET3008",
      "PReLU needs one slope, or one per channel",
    ]);
  });
});
