// What the WGSL backend refuses, and how: every refusal is a NET7xxx diagnostic at the offending node.
import { describe, expect, it } from "vitest";
import { compileWgsl } from "../../src/backends/wgsl/index.js";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { sym } from "../../src/compiler/ir/dim.js";
import { at } from "../helpers/ir.js";

const codes = (r: ReturnType<typeof compileWgsl>) => r.diagnostics.map((d) => d.code);

describe("WGSL diagnostics", () => {
  it("refuses a symbolic dimension, naming the symbol and how to bind it", () => {
    const b = new GraphBuilder("sym");
    const x = b.input("x", "f32", [sym("B"), 4], at(1));
    b.output("y", b.op1("exp", {}, [x], at(2)));
    const r = compileWgsl(b.graph);
    expect(codes(r)).toEqual(["NET7001"]);
    expect(r.diagnostics[0].message).toContain("dimension B of the input x");
    expect(r.diagnostics[0].hint).toContain("--set B=...");
    expect(r.diagnostics[0].span?.line).toBe(1);
  });

  it("refuses f64, which WGSL cannot compute in, at the op's line", () => {
    const b = new GraphBuilder("f64");
    const x = b.input("x", "f32", [4], at(1));
    b.output("y", b.op1("cast", { to: "f64" }, [x], at(7)));
    const r = compileWgsl(b.graph);
    expect(codes(r)).toEqual(["NET7002"]);
    expect(r.diagnostics[0].message).toContain("cast");
    expect(r.diagnostics[0].span?.line).toBe(7);
  });

  it("refuses a kernel that needs more storage bindings than the adapter allows", () => {
    const b = new GraphBuilder("wide");
    const xs = Array.from({ length: 9 }, (_, i) => b.input(`x${i}`, "f32", [2], at(1)));
    b.output("y", b.op1("concat", { axis: 0 }, xs, at(4)));
    const r = compileWgsl(b.graph);
    expect(codes(r)).toEqual(["NET7004"]);
    expect(r.diagnostics[0].message).toContain("10 storage buffers");
    expect(r.diagnostics[0].span?.line).toBe(4);
  });

  it("refuses a model whose buffers exceed the memory budget", () => {
    const b = new GraphBuilder("big");
    const x = b.input("x", "f32", [1024], at(1));
    b.output("y", b.op1("exp", {}, [x], at(2)));
    expect(codes(compileWgsl(b.graph, { maxTotalBytes: 4096 }))).toEqual(["NET7005"]);
    expect(codes(compileWgsl(b.graph, { maxTotalBytes: 8192 }))).toEqual([]);
  });

  it("splits values above the per-binding limit into chunks and records the limits it needs", () => {
    const b = new GraphBuilder("chunks");
    const x = b.input("x", "f32", [3, 40], at(1));
    const w = b.param({ path: "w", dtype: "f32", shape: [40, 30], unused: false, span: at(2).span });
    b.output("y", b.op1("matmul", {}, [x, w], at(3)));
    const { program } = compileWgsl(b.graph, { limits: { maxStorageBufferBindingSize: 1024 } });
    const m = program!.manifest;
    const weight = m.buffers.filter((buf) => buf.weight?.startsWith("w#"));
    expect(weight.map((buf) => buf.size)).toEqual([1024, 1024, 1024, 1024, 704]);
    expect(m.kernels[0].bindings).toHaveLength(7);
    expect(m.requiredLimits.maxStorageBuffersPerShaderStage).toBe(8);
  });

  it("reuses activation buffers once their last reader has run", () => {
    const b = new GraphBuilder("chain");
    let v = b.input("x", "f32", [16, 16], at(1));
    for (let i = 0; i < 6; i++) v = b.op1("softmax", { axis: -1 }, [v], at(2 + i));
    b.output("y", v);
    const m = compileWgsl(b.graph).program!.manifest;
    expect(m.kernels).toHaveLength(6);
    // Input and six results in flight at most two at a time.
    expect(m.buffers).toHaveLength(2);
  });

  it("records the .net location, scope and fused ops of every kernel", () => {
    const b = new GraphBuilder("origin");
    const x = b.input("x", "f32", [4, 8], at(1));
    const w = b.param({ path: "fc.weight", dtype: "f32", shape: [8, 8], unused: false, span: at(2).span });
    const y = b.op1("matmul", {}, [x, w], at(5, "fc"));
    b.output("y", b.op1("tanh", {}, [b.op1("add", {}, [y, x], at(6, "fc"))], at(7, "fc")));
    const [k] = compileWgsl(b.graph).program!.manifest.kernels;
    expect(k).toMatchObject({ ops: ["matmul", "add", "tanh"], scope: "fc", source: { file: "test.net", line: 5 } });
  });

  it("stores floats as f16 under precision f16, computing in f32, and warns where f16 can overflow", () => {
    const b = new GraphBuilder("half");
    const x = b.input("x", "f32", [4, 8], at(1));
    const w = b.param({ path: "w", dtype: "f32", shape: [8, 8], unused: false, span: at(2).span });
    const y = b.op1("exp", {}, [b.op1("matmul", {}, [x, w], at(3))], at(4));
    b.output("y", b.op1("softmax", { axis: -1 }, [y], at(5)));
    const big = new Float32Array(64).fill(0.5);
    big[3] = 1e5;
    const { program, diagnostics } = compileWgsl(b.graph, {
      precision: "f16",
      weights: new Map([["w", { dtype: "f32", shape: [8, 8], data: big }]]),
    });
    expect(diagnostics.map((d) => [d.code, d.severity, d.span?.line])).toEqual([
      ["NET7008", "warning", 2],
      ["NET7008", "warning", 4],
    ]);
    const m = program!.manifest;
    expect(m.requiredFeatures).toEqual(["shader-f16"]);
    expect(m.outputs[0].storage).toBe("f16");
    expect(program!.weights.get("w")?.dtype).toBe("f16");
    const code = program!.shaders.get(m.kernels[0].shader)!;
    expect(code).toMatch(/^enable f16;/);
    expect(code).toContain("var acc = 0.0f;");
    expect(codes(compileWgsl(b.graph, { precision: "f8" as "f16" }))).toEqual(["NET7009"]);
  });
});
