// Residual sums normalised as rows: layer_norm(a + b) over [B, N, C] becomes a norm over [B * N, C] rows, so that
// onnxruntime does not fuse the pair into its slower SkipLayerNormalization kernel. Values kept (the reference
// interpreter before and after the pipeline, and onnxruntime against the interpreter); onnxruntime's own optimised
// graph holds no SkipLayerNormalization with the pass and one without it.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import { decodeModel } from "../../src/backends/onnx/proto.js";
import { emitOnnx } from "../../src/backends/onnx/emit.js";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { sym } from "../../src/compiler/ir/dim.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { at, expectClose, optimisedKeepingValues, random } from "../helpers/ir.js";

const B = sym("B");
const PASS = "residual sums normalised as rows";
/** Rows and width of a sum at the pass's smallest size (64K elements per batch item). */
const [N, C] = [512, 128];

interface Options {
  /** The sum also feeds the next residual add (the usual transformer block: onnxruntime does not fuse it). */
  sumReadTwice?: boolean;
  /** The second summand is a bias [C], not a residual. */
  biasOnly?: boolean;
  /** The norm runs over the last two axes. */
  overTwoAxes?: boolean;
  /** Fewer rows than the pass's smallest size. */
  rows?: number;
  /** The norm's axis written from the end (-1). */
  fromTheEnd?: boolean;
}

/** x, y [B, N, C] -> layer_norm(x + y) (and, with sumReadTwice, the sum + the norm as a second result). */
function residualNorm(o: Options = {}): Graph {
  const b = new GraphBuilder("Residual");
  const rows = o.rows ?? N;
  const x = b.input("x", "f32", [B, rows, C], at(1));
  const y = o.biasOnly ? b.constant(random("f32", [C], 2), at(2)) : b.input("y", "f32", [B, rows, C], at(2));
  const sum = b.op1("add", {}, [x, y], at(3));
  const affineShape = o.overTwoAxes ? [rows, C] : [C];
  const gamma = b.constant(random("f32", affineShape, 3, 0.5, 1.5), at(4));
  const beta = b.constant(random("f32", affineShape, 4), at(4));
  const axis = o.overTwoAxes ? 1 : o.fromTheEnd ? -1 : 2;
  const normed = b.op1("layer_norm", { axis, eps: 1e-6 }, [sum, gamma, beta], at(5, "norm"));
  b.output("out", normed);
  if (o.sumReadTwice) b.output("next", b.op1("add", {}, [sum, normed], at(6)));
  return b.graph;
}

const feeds = { x: random("f32", [2, N, C], 10), y: random("f32", [2, N, C], 11) };
const norms = (g: Graph) => g.nodes.filter((n) => n.op === "layer_norm").map((n) => n.inputs[0].shape.length);

describe("residual sums normalised as rows", () => {
  it("a residual sum read by its norm alone is normalised as [B * N, C] rows", () => {
    const g = optimisedKeepingValues(residualNorm(), feeds);
    expect(norms(g)).toEqual([2]);
  });

  it("reads the norm's axis counted from the end (-1) as the last", () => {
    expect(norms(optimisedKeepingValues(residualNorm({ fromTheEnd: true }), feeds))).toEqual([2]);
  });

  it("the same graph without the pass keeps the 3-D norm", () => {
    expect(norms(optimisedKeepingValues(residualNorm(), feeds, [PASS]))).toEqual([3]);
  });

  it.each([
    ["the sum has another reader", { sumReadTwice: true }],
    ["the second summand is a bias", { biasOnly: true }],
    ["the norm runs over two axes", { overTwoAxes: true }],
  ] as [string, Options][])("stays when %s", (_, o) => {
    expect(norms(optimisedKeepingValues(residualNorm(o), o.biasOnly ? { x: feeds.x } : feeds))).toEqual([3]);
  });

  it("stays for a sum smaller than 64K elements per batch item (either kernel takes microseconds there)", () => {
    const small = { x: random("f32", [2, N - 1, C], 12), y: random("f32", [2, N - 1, C], 13) };
    expect(norms(optimisedKeepingValues(residualNorm({ rows: N - 1 }), small))).toEqual([3]);
  });
});

describe("residual sums normalised as rows, in onnxruntime", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "netc-residual-norm-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** onnxruntime's op types after its own optimisations, and its result, for the graph with or without the pass. */
  async function inOnnxruntime(skip: string[]) {
    const g = optimisedKeepingValues(residualNorm(), feeds, skip);
    const emitted = emitOnnx(g);
    if (!emitted.bytes) throw new Error(emitted.diagnostics.map((d) => d.message).join("\n"));
    const optimised = path.join(dir, `${skip.length}.onnx`);
    const session = await ort.InferenceSession.create(emitted.bytes, {
      // SkipLayerNormFusion is an "extended" optimisation; "all" would add layout ones made for this machine.
      graphOptimizationLevel: "extended",
      optimizedModelFilePath: optimised,
    });
    const tensor = (t: { data: unknown; shape: number[] }) =>
      new ort.Tensor("float32", t.data as Float32Array, t.shape);
    const out = (await session.run({ x: tensor(feeds.x), y: tensor(feeds.y) })).out;
    await session.release();
    const ops = (decodeModel(fs.readFileSync(optimised)).graph?.node ?? []).map((n) => n.opType);
    return { ops, out: { dtype: "f32" as const, shape: [...out.dims], data: out.data as Float32Array } };
  }

  it("is not fused into SkipLayerNormalization and gives the interpreter's values", async () => {
    const expected = interpret(residualNorm(), new Map(Object.entries(feeds)), new Map()).outputs.get("out")!;
    const rows = await inOnnxruntime([]);
    expect(rows.ops).not.toContain("SkipLayerNormalization");
    expectClose(rows.out, expected, 1e-5, "out");
    // The control: without the pass onnxruntime fuses the pair, so the test above can fail.
    expect((await inOnnxruntime([PASS])).ops).toContain("SkipLayerNormalization");
  });
});
