// Writing models: external data in a side file, chunked writes, atomic replacement; plus the runner's error
// reporting and the checker helper itself.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { sym } from "../../src/compiler/ir/dim.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { emitOnnx } from "../../src/backends/onnx/emit.js";
import { moveToExternal } from "../../src/backends/onnx/external.js";
import { decodeModel, encodeModel, tensorProto } from "../../src/backends/onnx/proto.js";
import { runOnnx } from "../../src/backends/onnx/run.js";
import { writeOnnx } from "../../src/backends/onnx/write.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { rejectedCodes } from "../helpers/diagnostics.js";
import { viewModel } from "../helpers/model.js";
import { checkerTest, checkOnnxFiles, ModelBatch, onnxCheckerAvailable } from "../helpers/onnx-check.js";
import { at, expectClose, random, tensor } from "../helpers/ir.js";

const batch = new ModelBatch();

/** y = relu(x @ w1 + b) @ w2, with weights large enough to go external at a small threshold. */
function mlp(): { graph: Graph; weights: Map<string, HostTensor> } {
  const b = new GraphBuilder("Mlp");
  const x = b.input("x", "f32", [sym("B"), 16], at(1));
  const p = (path: string, shape: number[]) => b.param({ path, dtype: "f32", shape, unused: false, span: at(2).span });
  const h = b.op1(
    "relu",
    {},
    [b.op1("add", {}, [b.op1("matmul", {}, [x, p("fc1.weight", [16, 32])], at(3)), p("fc1.bias", [32])], at(4))],
    at(5),
  );
  b.output("y", b.op1("matmul", {}, [h, p("fc2.weight", [32, 8])], at(6)));
  const weights = new Map([
    ["fc1.weight", random("f32", [16, 32], 1)],
    ["fc1.bias", random("f32", [32], 2)],
    ["fc2.weight", random("f32", [32, 8], 3)],
  ]);
  return { graph: b.graph, weights };
}

const X = random("f32", [3, 16], 4);
const tempDir = () => mkdtempSync(join(tmpdir(), "netc-write-"));

describe("external data", () => {
  it("moves large initializers to the side file with aligned offsets", () => {
    const inits = [
      tensorProto("small", random("f32", [4], 1)),
      tensorProto("a", random("f32", [300], 2)),
      tensorProto("b", random("f32", [300], 3)),
    ];
    const ext = moveToExternal(inits, "w.data", 1024);
    expect(ext.chunks.map((c) => c.offset)).toEqual([0, 1216]);
    expect(ext.byteLength).toBe(2416);
    expect(inits[0].rawData?.byteLength).toBe(16);
    expect(inits[1].rawData).toBeUndefined();
    expect(inits[2].externalData).toEqual([
      { key: "location", value: "w.data" },
      { key: "offset", value: "1216" },
      { key: "length", value: "1200" },
    ]);
  });

  it("writes model and side file, in slices, and onnxruntime runs them", async () => {
    const { graph, weights } = mlp();
    const dir = tempDir();
    const path = join(dir, "mlp.onnx");
    expect(
      writeOnnx(path, graph, { weights, externalDataPath: "mlp.weights", externalThreshold: 256, writeSlice: 100 }),
    ).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(["mlp.onnx", "mlp.weights"]);
    const external = viewModel(readFileSync(path))
      .initializers.filter((t) => t.external)
      .map((t) => t.name);
    expect(external.sort()).toEqual(["fc1.weight", "fc2.weight"]);
    expect(statSync(join(dir, "mlp.weights")).size).toBe(16 * 32 * 4 + 32 * 8 * 4);
    batch.addFile(path);
    const expected = interpret(graph, new Map([["x", X]]), weights).outputs.get("y")!;
    expectClose((await runOnnx(path, new Map([["x", X]]))).get("y")!, expected);
  });

  it("refuses a side file outside the model's folder", () => {
    const dir = tempDir();
    const ds = writeOnnx(join(dir, "m.onnx"), mlp().graph, { externalDataPath: "../elsewhere.data" });
    expect(ds.map((d) => d.code)).toEqual(["NET8004"]);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("atomic writes", () => {
  it("replaces an existing model only when the new one is complete", () => {
    const dir = tempDir();
    const path = join(dir, "m.onnx");
    writeFileSync(path, "old");
    expect(writeOnnx(path, mlp().graph)).toEqual([]);
    expect(viewModel(readFileSync(path)).graphName).toBe("Mlp");
    expect(readdirSync(dir)).toEqual(["m.onnx"]);
  });

  it("leaves nothing behind when emission fails", () => {
    const dir = tempDir();
    expect(writeOnnx(join(dir, "m.onnx"), mlp().graph, { opset: 9 }).map((d) => d.code)).toEqual(["NET5002"]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("leaves nothing behind when a write fails", () => {
    const dir = tempDir();
    expect(writeOnnx(join(dir, "missing", "m.onnx"), mlp().graph).map((d) => d.code)).toEqual(["NET8004"]);
    // The side file's place is taken by a folder: it is not replaced (NET8009), and neither file appears.
    mkdirSync(join(dir, "w.data"));
    const ds = writeOnnx(join(dir, "m.onnx"), mlp().graph, { externalDataPath: "w.data", externalThreshold: 16 });
    expect(ds.map((d) => d.code)).toEqual(["NET8009"]);
    expect(readdirSync(dir)).toEqual(["w.data"]);
    expect(existsSync(join(dir, "m.onnx"))).toBe(false);
  });
});

describe("runOnnx", () => {
  const bytes = emitOnnx(mlp().graph).bytes!;

  it("reports a model onnxruntime cannot load, and a bad feed, as NET5004", async () => {
    expect(await rejectedCodes(runOnnx(Uint8Array.from([1, 2, 3]), new Map()))).toEqual(["NET5004"]);
    expect(await rejectedCodes(runOnnx(bytes, new Map()))).toEqual(["NET5004"]);
    expect(await rejectedCodes(runOnnx(bytes, new Map([["x", random("f64", [3, 16], 1)]])))).toEqual(["NET5004"]);
    expect(
      await rejectedCodes(runOnnx(bytes, new Map([["x", tensor("bf16", [1, 16], new Array(16).fill(0))]]))),
    ).toEqual(["NET5004"]);
  });

  it("fetches only the outputs asked for, converting i64 and bool", async () => {
    const b = new GraphBuilder("T");
    const x = b.input("x", "f32", [4], at(1));
    b.output("arg", b.op1("argmax", { axis: 0, keepdims: false }, [x], at(2)));
    b.output("pos", b.op1("gt", {}, [x, b.constant(tensor("f32", [], [0]), at(3))], at(4)));
    const model = emitOnnx(b.graph).bytes!;
    const got = await runOnnx(model, new Map([["x", tensor("f32", [4], [-1, 3, 2, -5])]]), {
      outputs: ["pos"],
      threads: 1,
    });
    expect([...got.keys()]).toEqual(["pos"]);
    expect(got.get("pos")).toEqual(tensor("bool", [4], [0, 1, 1, 0]));
    const all = await runOnnx(model, new Map([["x", tensor("f32", [4], [-1, 3, 2, -5])]]));
    expect(all.get("arg")).toEqual(tensor("i64", [], [1]));
  });
});

describe("checker helper", () => {
  it.skipIf(!onnxCheckerAvailable())("rejects a model with a wrong output type", () => {
    const model = decodeModel(emitOnnx(mlp().graph).bytes!);
    const output = model.graph?.output?.[0].type?.tensorType;
    if (!output) throw new Error("the model has no typed output");
    output.elemType = 7;
    const path = join(tempDir(), "broken.onnx");
    writeFileSync(path, encodeModel(model));
    const [outcome] = checkOnnxFiles([path]);
    expect(outcome.error).toMatch(/Error/);
  });
});

checkerTest(batch);
