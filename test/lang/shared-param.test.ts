// One parameter passed to several block instances (OUS's shared learnable queries): every instance reads the same
// weight, the weight is one graph parameter and one ONNX initializer, and a new value reaches every instance.
import { describe, expect, it } from "vitest";
import { runOnnx } from "../../src/backends/onnx/index.js";
import { compile, interpret } from "../../src/index.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { viewModel } from "../helpers/model.js";
import { expectClose, random } from "../helpers/ir.js";

const SOURCE = `
import "std/nn.net"

/// Reads the queries it is given; its own weights are a projection.
block Reader(dim: int)(queries: f32[Q, dim], x: f32[B, N, dim]) -> f32[B, Q, dim] {
  layer proj = Linear(dim, dim)
  return attention(expand(queries, [B, Q, dim]), proj(x), x)
}

model Shared(dim: int = 4, readers: int = 3)(x: f32[B, 5, dim]) -> (y: f32[B, 2, dim]) {
  param queries: f32[2, dim]
  let y = x[:, :2, :]
  for i in 0..readers {
    layer readers[i] = Reader(dim)
    y = y + readers[i](queries, x)
  }
  return y
}
`;

const FILE = "shared.net";

function weights(queries: HostTensor): Map<string, HostTensor> {
  const w = new Map<string, HostTensor>([["queries", queries]]);
  for (let i = 0; i < 3; i++) {
    w.set(`readers.${i}.proj.weight`, random("f32", [4, 4], 20 + i));
    w.set(`readers.${i}.proj.bias`, random("f32", [4], 30 + i));
  }
  return w;
}

describe("one parameter passed to several block instances", () => {
  const x = random("f32", [2, 5, 4], 1);
  const first = random("f32", [2, 4], 2);
  const second = random("f32", [2, 4], 3);

  it("is one graph parameter and one ONNX initializer, read by every instance", () => {
    const r = compile(SOURCE, { file: FILE, weights: weights(first) });
    expect(r.diagnostics).toEqual([]);
    const graph = r.graph!;
    expect(graph.params.filter((p) => p.path === "queries")).toHaveLength(1);
    const readers = graph.nodes.filter((n) => n.op === "param" && (n.attrs as { path: string }).path === "queries");
    expect(readers).toHaveLength(1);
    // The queries reach the attention of every instance.
    const reached = new Set<string>();
    const stack = [readers[0].outputs[0]];
    const seen = new Set(stack);
    while (stack.length > 0) {
      const v = stack.pop()!;
      for (const n of graph.nodes)
        if (n.inputs.includes(v)) {
          if (n.op === "attention") reached.add(n.scope);
          for (const o of n.outputs) if (!seen.has(o)) seen.add(o), stack.push(o);
        }
    }
    expect([...reached].sort()).toEqual(["readers.0", "readers.1", "readers.2"]);
    const model = viewModel(r.onnx!);
    expect(model.initializers.filter((t) => t.name === "queries")).toHaveLength(1);
  }, 30_000);

  it("runs in onnxruntime as the interpreter runs it, for two values of the one parameter", async () => {
    const outputs: HostTensor[] = [];
    for (const q of [first, second]) {
      const w = weights(q);
      const r = compile(SOURCE, { file: FILE, weights: w });
      const got = (await runOnnx(r.onnx!, new Map([["x", x]]))).get("y")!;
      expectClose(got, interpret(r.graph!, new Map([["x", x]]), w).outputs.get("y")!, 1e-5, "y");
      outputs.push(got);
    }
    const [a, b] = outputs.map((t) => t.data as Float32Array);
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(1e-3);
  }, 30_000);
});
