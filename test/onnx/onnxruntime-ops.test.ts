// EmitOnnxOptions.onnxruntimeOps: attention lowered to onnxruntime's com.microsoft MultiHeadAttention where the
// contrib op can take it, and to the standard ONNX form where it cannot. Each case is interpreted, emitted with the
// option, run in onnxruntime-node and compared with the interpreter; the graph is checked for which form it got.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { type Dim, dimSymbols, sym } from "../../src/compiler/ir/dim.js";
import type { Value } from "../../src/compiler/ir/ir.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { emitOnnx } from "../../src/backends/onnx/emit.js";
import { decodeModel } from "../../src/backends/onnx/proto.js";
import { runOnnx } from "../../src/backends/onnx/run.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { checkerTest, ModelBatch } from "../helpers/onnx-check.js";
import { at, expectClose, random } from "../helpers/ir.js";

const B = sym("B");
const T = sym("T");
const f32 = (shape: number[], seed: number) => random("f32", shape, seed, -2, 2);

interface AttentionCase {
  name: string;
  decl: Record<string, Dim[]>;
  inputs: Record<string, HostTensor>;
  scale?: number;
  /** Whether the attention should become MultiHeadAttention (else the standard MatMul/Softmax form). */
  contribOp: boolean;
  /** Reshape nodes the MultiHeadAttention form needs around it. */
  reshapes?: number;
}

const CASES: AttentionCase[] = [
  {
    name: "[B,2,T,8] heads, value width 6, symbolic batch and length",
    decl: { q: [B, 2, T, 8], k: [B, 2, 5, 8], v: [B, 2, 5, 6] },
    inputs: { q: f32([2, 2, 3, 8], 1), k: f32([2, 2, 5, 8], 2), v: f32([2, 2, 5, 6], 3) },
    contribOp: true,
    reshapes: 4,
  },
  {
    name: "[B,2,T,8] with a full [B,2,T,5] bias",
    decl: { q: [B, 2, T, 8], k: [B, 2, 5, 8], v: [B, 2, 5, 6], bias: [B, 2, T, 5] },
    inputs: { q: f32([2, 2, 3, 8], 4), k: f32([2, 2, 5, 8], 5), v: f32([2, 2, 5, 6], 6), bias: f32([2, 2, 3, 5], 7) },
    contribOp: true,
    reshapes: 5,
  },
  {
    name: "[2,4,3,8] with a [3,5] bias shared by every batch row and head",
    decl: { q: [2, 4, 3, 8], k: [2, 4, 5, 8], v: [2, 4, 5, 8], bias: [3, 5] },
    inputs: { q: f32([2, 4, 3, 8], 8), k: f32([2, 4, 5, 8], 9), v: f32([2, 4, 5, 8], 10), bias: f32([3, 5], 11) },
    contribOp: true,
    reshapes: 5,
  },
  {
    name: "[2,3,4] rows need no reshape",
    decl: { q: [2, 3, 4], k: [2, 5, 4], v: [2, 5, 6] },
    inputs: { q: f32([2, 3, 4], 12), k: f32([2, 5, 4], 13), v: f32([2, 5, 6], 14) },
    contribOp: true,
    reshapes: 0,
  },
  {
    name: "rank 2 [3,4] becomes one batch row",
    decl: { q: [3, 4], k: [5, 4], v: [5, 6] },
    inputs: { q: f32([3, 4], 15), k: f32([5, 4], 16), v: f32([5, 6], 17) },
    scale: 0.7,
    contribOp: true,
    reshapes: 4,
  },
  {
    name: "a per-head [2,T,5] bias (broadcast along the batch) keeps the standard form",
    decl: { q: [B, 2, T, 8], k: [B, 2, 5, 8], v: [B, 2, 5, 6], bias: [2, T, 5] },
    inputs: { q: f32([2, 2, 3, 8], 18), k: f32([2, 2, 5, 8], 19), v: f32([2, 2, 5, 6], 20), bias: f32([2, 3, 5], 21) },
    contribOp: false,
  },
  {
    name: "a bias broadcast along the queries keeps the standard form",
    decl: { q: [2, 2, 3, 8], k: [2, 2, 5, 8], v: [2, 2, 5, 6], bias: [1, 5] },
    inputs: { q: f32([2, 2, 3, 8], 22), k: f32([2, 2, 5, 8], 23), v: f32([2, 2, 5, 6], 24), bias: f32([1, 5], 25) },
    contribOp: false,
  },
  {
    name: "keys broadcast along the batch keep the standard form",
    decl: { q: [2, 3, 4], k: [1, 5, 4], v: [2, 5, 4] },
    inputs: { q: f32([2, 3, 4], 26), k: f32([1, 5, 4], 27), v: f32([2, 5, 4], 28) },
    contribOp: false,
  },
  {
    name: "scale 0 (the contrib op's 'default') keeps the standard form",
    decl: { q: [2, 3, 4], k: [2, 5, 4], v: [2, 5, 4] },
    inputs: { q: f32([2, 3, 4], 29), k: f32([2, 5, 4], 30), v: f32([2, 5, 4], 31) },
    scale: 0,
    contribOp: false,
  },
];

const batch = new ModelBatch();
/** What the contrib form may have beside the op: reshapes, and the i64 arithmetic of symbolic target shapes. */
const SHAPE_OPS = new Set(["Reshape", "Shape", "Concat", "Mul"]);

function attentionGraph(c: AttentionCase) {
  const b = new GraphBuilder("attention");
  const x: Record<string, Value> = {};
  for (const [name, shape] of Object.entries(c.decl)) x[name] = b.input(name, "f32", shape, at(1));
  const operands = [x.q, x.k, x.v, ...(x.bias ? [x.bias] : [])];
  b.output("y", b.op1("attention", { scale: c.scale ?? 8 ** -0.5 }, operands, at(3, "attn")));
  b.graph.symbols = [...new Set(Object.values(c.decl).flatMap((shape) => shape.flatMap(dimSymbols)))];
  return b.graph;
}

describe("attention as onnxruntime's MultiHeadAttention", () => {
  for (const c of CASES)
    it(c.name, async () => {
      const graph = attentionGraph(c);
      const inputs = new Map(Object.entries(c.inputs));
      const expected = interpret(graph, inputs, new Map()).outputs.get("y")!;
      const { bytes, diagnostics } = emitOnnx(graph, { onnxruntimeOps: true });
      expect(diagnostics).toEqual([]);
      batch.add(c.name, bytes!);
      const model = decodeModel(bytes!);
      const ops = (model.graph?.node ?? []).map((n) => `${n.domain ? `${n.domain}.` : ""}${n.opType}`);
      const domains = (model.opsetImport ?? []).map((o) => `${o.domain}:${o.version}`);
      if (c.contribOp) {
        expect(ops.filter((op) => !SHAPE_OPS.has(op))).toEqual(["com.microsoft.MultiHeadAttention"]);
        expect(ops.filter((op) => op === "Reshape").length).toBe(c.reshapes);
        expect(domains).toEqual([":17", "com.microsoft:1"]);
      } else {
        expect(ops).toContain("Softmax");
        expect(ops.some((op) => op.startsWith("com.microsoft"))).toBe(false);
        expect(domains).toEqual([":17"]);
      }
      expectClose((await runOnnx(bytes!, inputs)).get("y")!, expected, 1e-5, c.name);
    });

  it("is off by default: the same graph without the option uses standard ops only", () => {
    const { bytes } = emitOnnx(attentionGraph(CASES[0]));
    const model = decodeModel(bytes!);
    expect(model.graph?.node?.some((n) => n.domain)).toBe(false);
    expect(model.opsetImport).toEqual([{ domain: "", version: 17 }]);
  });
  checkerTest(batch);
});
