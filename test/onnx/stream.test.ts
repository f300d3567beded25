// Streaming a model to disk: the protobuf encoder writing a window at a time gives the bytes of the in-memory
// encoder, lazy weights are made one at a time as the encoder reaches them, and a weight that fails mid-way leaves
// no output behind.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { sym } from "../../src/compiler/ir/dim.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { randomParam } from "../../src/compiler/ir/bind-params.js";
import { buildOnnxModel, emitOnnx } from "../../src/backends/onnx/emit.js";
import { bytesOfChunk } from "../../src/backends/onnx/external.js";
import { decodeModel, encodeModel, type ModelProto } from "../../src/backends/onnx/proto.js";
import {
  encodeMessage,
  encodeMessageTo,
  type LazyBytes,
  ProtobufError,
  type Schema,
} from "../../src/backends/onnx/wire.js";
import { writeOnnx } from "../../src/backends/onnx/write.js";
import { makeDiagnostic } from "../../src/diagnostics/codes.js";
import { DiagnosticError } from "../../src/diagnostics/diagnostics.js";
import { WeightCodes } from "../../src/diagnostics/weight-codes.js";
import { type LazyTensor, lazyTensor } from "../../src/util/lazy-tensor.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { at, random } from "../helpers/ir.js";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "netc-stream-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Two layers with weights over the encoder's 1 MiB window (so tensors cross it), and a small bias. */
function mlp(width = 768): Graph {
  const b = new GraphBuilder("Mlp");
  const x = b.input("x", "f32", [sym("B"), width], at(1));
  const p = (path: string, shape: number[]) => b.param({ path, dtype: "f32", shape, unused: false, span: at(2).span });
  const w1 = b.op1("transpose", { perm: [1, 0] }, [p("fc1.weight", [width, width])], at(3));
  const h = b.op1(
    "relu",
    {},
    [b.op1("add", {}, [b.op1("matmul", {}, [x, w1], at(4)), p("fc1.bias", [width])], at(5))],
    at(6),
  );
  b.output("y", b.op1("matmul", {}, [h, p("fc2.weight", [width, width])], at(7)));
  return b.graph;
}

/** The old way: every initializer's bytes made first, then the whole model encoded in one buffer. */
function encodedWhole(model: ModelProto): Uint8Array {
  for (const t of model.graph!.initializer!)
    if (t.rawData && !(t.rawData instanceof Uint8Array)) t.rawData = t.rawData.bytes();
  return encodeModel(model);
}

describe("the streaming protobuf encoder", () => {
  const entry: Schema = [
    { no: 1, key: "key", kind: "string" },
    { no: 2, key: "value", kind: "bytes" },
    { no: 3, key: "n", kind: "int64", repeated: true },
  ];
  const list: Schema = [
    { no: 1, key: "name", kind: "string" },
    { no: 2, key: "entries", kind: "message", repeated: true, message: () => entry },
  ];

  it("writes the bytes encodeMessage writes, in windows, making lazy bytes only when it reaches them", () => {
    const big = random("u8", [3 << 20], 1, 0, 255).data as Uint8Array;
    const made: number[] = [];
    const streamed: Uint8Array[] = [];
    const lazy = (i: number, bytes: Uint8Array): LazyBytes => ({
      byteLength: bytes.byteLength,
      bytes: () => {
        made.push(i);
        // Everything before this field has gone to the sink already: nothing waits for the lazy bytes.
        expect(streamed.reduce((n, c) => n + c.byteLength, 0)).toBeGreaterThan(0);
        return bytes;
      },
    });
    const message = (value: (i: number, b: Uint8Array) => Uint8Array | LazyBytes) => ({
      name: "ünïcødé ✓ 𝄞".repeat(100_000), // a string longer than the window
      entries: [
        { key: "a", value: value(0, big.subarray(0, 100)), n: [1, -1, 2 ** 40] },
        { key: "b", value: value(1, big), n: [] },
        { key: "c", value: value(2, big.subarray(7, (1 << 20) - 3)), n: [2n ** 62n] },
      ],
    });
    const whole = encodeMessage(
      message((_, b) => b),
      list,
    );
    encodeMessageTo(message(lazy), list, (chunk) => streamed.push(chunk.slice()));
    expect(made).toEqual([0, 1, 2]);
    expect(streamed.length).toBeGreaterThan(3);
    expect(Buffer.concat(streamed).equals(Buffer.from(whole))).toBe(true);
  });

  it("refuses lazy bytes that come out longer or shorter than announced", () => {
    const wrong = { key: "k", value: { byteLength: 4, bytes: () => new Uint8Array(5) } };
    expect(() => encodeMessageTo(wrong, entry, () => {})).toThrow(ProtobufError);
    expect(() => encodeMessage(wrong, entry)).toThrow(ProtobufError);
  });
});

describe("writeOnnx streams the weights", () => {
  it("writes the bytes of the whole-model encoding, with random weights and transposed (deploy) weights", () => {
    for (const kernelLayoutWeights of [false, true]) {
      const graph = mlp();
      const path = join(tempDir(), "m.onnx");
      expect(writeOnnx(path, graph, { kernelLayoutWeights, seed: 3 })).toEqual([]);
      const whole = encodedWhole(buildOnnxModel(graph, { kernelLayoutWeights, seed: 3 }).model!);
      expect(Buffer.from(readFileSync(path)).equals(Buffer.from(whole))).toBe(true);
      expect(Buffer.from(emitOnnx(graph, { kernelLayoutWeights, seed: 3 }).bytes!).equals(Buffer.from(whole))).toBe(
        true,
      );
    }
  });

  it("reads each lazy weight once, in the order it is written, and only while writing", () => {
    const graph = mlp(64);
    const reads: string[] = [];
    const weights = new Map<string, LazyTensor>(
      graph.params.map((p) => [
        p.path,
        lazyTensor(p.dtype, p.shape, () => {
          reads.push(p.path);
          return randomParam(p, 9);
        }),
      ]),
    );
    expect(buildOnnxModel(graph, { weights }).model).toBeDefined();
    expect(reads, "building the model reads no weight").toEqual([]);
    const path = join(tempDir(), "m.onnx");
    expect(writeOnnx(path, graph, { weights })).toEqual([]);
    const order = decodeModel(readFileSync(path)).graph!.initializer!.map((t) => t.name);
    expect(reads).toEqual(order.filter((n) => weights.has(n!)));
    // The same bytes as with the weights in memory.
    const held = new Map<string, HostTensor>(graph.params.map((p) => [p.path, randomParam(p, 9)]));
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(emitOnnx(graph, { weights: held }).bytes!))).toBe(true);
  });

  it("writes external data identical to the in-memory emission, and reports progress up to both files' size", () => {
    const graph = mlp();
    const dir = tempDir();
    const path = join(dir, "m.onnx");
    const progress: [number, number][] = [];
    expect(
      writeOnnx(path, graph, { externalDataPath: "m.onnx.data", onProgress: (d, t) => progress.push([d, t]) }),
    ).toEqual([]);
    const emitted = emitOnnx(graph, { externalDataPath: "m.onnx.data" });
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(emitted.bytes!))).toBe(true);
    const side = readFileSync(join(dir, "m.onnx.data"));
    expect(side.byteLength).toBe(emitted.external!.byteLength);
    for (const c of emitted.external!.chunks) {
      const bytes = bytesOfChunk(c);
      expect(side.subarray(c.offset, c.offset + bytes.byteLength).equals(Buffer.from(bytes))).toBe(true);
    }
    // Every byte written: the model and the side file's tensors (the alignment gaps between them are not written).
    const tensorBytes = emitted.external!.chunks.reduce((n, c) => n + c.bytes.byteLength, 0);
    expect(tensorBytes).toBeLessThan(side.byteLength);
    const total = statSync(path).size + tensorBytes;
    expect(progress.at(-1)).toEqual([total, total]);
    expect(progress.every(([d], i) => i === 0 || d > progress[i - 1][0])).toBe(true);
  });
});

describe("a weight that fails while the model is written", () => {
  const failing = (graph: Graph, failAt: string) =>
    new Map<string, LazyTensor>(
      graph.params.map((p) => [
        p.path,
        lazyTensor(p.dtype, p.shape, () => {
          if (p.path !== failAt) return randomParam(p, 1);
          throw new DiagnosticError([
            makeDiagnostic(WeightCodes.ChangedWhileRead, `ckpt.safetensors changed while netc was reading it`),
          ]);
        }),
      ]),
    );

  it("is a diagnostic, and leaves neither half a model nor a temporary file (nor touches the old model)", () => {
    for (const externalDataPath of [undefined, "m.onnx.data"]) {
      const graph = mlp();
      const dir = tempDir();
      const path = join(dir, "m.onnx");
      writeFileSync(path, "old");
      // fc2.weight is the last initializer: fc1's weights were already written when it fails.
      const ds = writeOnnx(path, graph, { weights: failing(graph, "fc2.weight"), externalDataPath });
      expect(ds.map((d) => d.code)).toEqual(["NET6050"]);
      expect(readdirSync(dir)).toEqual(["m.onnx"]);
      expect(readFileSync(path, "utf8")).toBe("old");
    }
  });

  it("is a diagnostic from the in-memory emission too", () => {
    const graph = mlp(8);
    expect(emitOnnx(graph, { weights: failing(graph, "fc1.bias") }).diagnostics.map((d) => d.code)).toEqual([
      "NET6050",
    ]);
  });
});
