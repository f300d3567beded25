// A scratch op added through the op registry only (no backend edited): every backend either lowers it, with the
// reference interpreter's numbers, or refuses it with a diagnostic at the `.net` line that uses it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emitOnnx } from "../../src/backends/onnx/emit.js";
import { runOnnx } from "../../src/backends/onnx/run.js";
import { compileWgsl } from "../../src/backends/wgsl/index.js";
import { registerBuiltin, unaryBuiltin } from "../../src/compiler/3-elaborate/builtins/index.js";
import { signature } from "../../src/dsl/signatures/signature.js";
import {
  BINARY,
  constant,
  type DecomposedUnaryRow,
  evaluateDecomposition,
  op,
  registerElementwiseOp,
  UNARY,
  type UnaryRow,
} from "../../src/compiler/ir/elementwise-ops.js";
import { CORE_OPS, NO_MACS, type OpSpec, registerOp, type StructuralOp } from "../../src/compiler/ir/ops/index.js";
import { fail, isFloat, normAxis } from "../../src/compiler/ir/infer.js";
import type { Node, OpAttrs, OpName } from "../../src/compiler/ir/ir.js";
import { expectInt, expectTensor } from "../../src/compiler/3-elaborate/context.js";
import type { BuiltinImpl } from "../../src/compiler/3-elaborate/builtins/index.js";
import type { NodeEmitter } from "../../src/backends/onnx/context.js";
import { registerOnnxLowering } from "../../src/backends/onnx/lower.js";
import { registerWgslLowering } from "../../src/backends/wgsl/ops.js";
import { around } from "../../src/backends/wgsl/codegen/expr.js";
import { u } from "../../src/backends/wgsl/codegen/indexing.js";
import type { KernelWriter } from "../../src/backends/wgsl/codegen/writer.js";
import { compileToGraph, graphStats, interpret } from "../../src/index.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { loadGraph, maxAbsDiff, TOLERANCE, tryGpu } from "../wgsl/helpers.js";

const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const SCRATCH: Record<string, UnaryRow> = {
  // Every backend has a lowering: ONNX Softplus, and a WGSL expression of WGSL builtins.
  softplus: {
    domain: "float",
    f64: softplus,
    expensive: true,
    onnx: { op: "Softplus" },
    wgsl: ([x]) => `(max(${x}, 0.0f) + log(1.0f + exp(-abs(${x}))))`,
    builtin: "log(1 + e^x)",
  },
  // ONNX (opset 17) has no op for it; WGSL does.
  expm1: {
    domain: "float",
    f64: Math.expm1,
    expensive: true,
    onnx: "none",
    wgsl: ([x]) => `(exp(${x}) - 1.0f)`,
    builtin: "e^x - 1",
  },
  // WGSL has no lowering; ONNX has Softsign.
  softsign: {
    domain: "float",
    f64: (x) => x / (1 + Math.abs(x)),
    expensive: false,
    onnx: { op: "Softsign" },
    wgsl: "none",
    builtin: "x / (1 + |x|)",
  },
};

// Declared by a decomposition into primitive ops only: no semantics, cost or lowering of its own.
const softSign = (x: number) => x / (1 + Math.abs(x));
const DECOMPOSED: Record<string, DecomposedUnaryRow> = {
  soft_sign: {
    domain: "float",
    decompose: ([x]) => op("div", [x, op("add", [constant(1, "one"), op("abs", [x])])]),
    builtin: "x / (1 + |x|)",
  },
};

const rows = [
  ...Object.entries(SCRATCH).map(([name, row]) => ({ name, row: { kind: "unary", row } as const })),
  ...Object.entries(DECOMPOSED).map(([name, row]) => ({ name, row: { kind: "decomposed", row } as const })),
];
const undo = rows.map(({ name, row }) => {
  const unregister = registerElementwiseOp(name, row);
  const unregisterBuiltin = registerBuiltin(name, signature(row.row.builtin!, "x: tensor|number"), unaryBuiltin(name));
  return () => {
    unregisterBuiltin();
    unregister();
  };
});
afterAll(() => undo.forEach((f) => f()));

/** One model per scratch op, the op on line 2, so a diagnostic's line says which `.net` line it points at. */
const source = (op: string) => `model Scratch()(x: f32[2, 8]) -> (y: f32[2, 8]) {
  let y = ${op}(x) * 2.0
  return y
}
`;

const x: HostTensor = { dtype: "f32", shape: [2, 8], data: Float32Array.from({ length: 16 }, (_, i) => (i - 8) * 0.9) };
const inputs = new Map([["x", x]]);

function graphOf(op: string) {
  const front = compileToGraph(source(op), { file: "scratch.net" });
  expect(front.diagnostics).toEqual([]);
  return front.graph!;
}

describe("a scratch elementwise op registered from a test", () => {
  it("is type-checked and interpreted by its row (the reference semantics)", () => {
    for (const [op, row] of Object.entries(SCRATCH)) {
      const graph = graphOf(op);
      expect(graph.nodes.map((n) => n.op as string)).toContain(op);
      const y = interpret(graph, inputs, new Map()).outputs.get("y")!;
      const want = Array.from(x.data as Float32Array, (v) => Math.fround(Math.fround(row.f64(v, {})) * 2));
      expect(Array.from(y.data as Float32Array)).toEqual(want);
    }
    const bad = compileToGraph(source("softplus").replace("f32[2, 8]) ->", "i32[2, 8]) ->").replace("* 2.0", ""), {
      file: "scratch.net",
    });
    expect(bad.diagnostics.map((d) => [d.message, d.span?.line])).toEqual([["softplus is not defined for i32", 2]]);
  });

  it("folds at compile time on numbers, as a builtin, by the row's semantics", () => {
    const front = compileToGraph(source("softplus").replace("softplus(x) * 2.0", "x * softplus(0.5)"), {
      file: "scratch.net",
    });
    expect(front.graph!.nodes.some((n) => (n.op as string) === "softplus")).toBe(false);
    const y = interpret(front.graph!, inputs, new Map()).outputs.get("y")!;
    expect(Array.from(y.data as Float32Array)).toEqual(
      Array.from(x.data as Float32Array, (v) => Math.fround(v * Math.fround(softplus(0.5)))),
    );
  });

  it("lowers to ONNX where the row names an ONNX op, with the interpreter's numbers", async () => {
    for (const op of ["softplus", "softsign"]) {
      const graph = graphOf(op);
      const { bytes, diagnostics } = emitOnnx(graph);
      expect(diagnostics).toEqual([]);
      const got = (await runOnnx(bytes!, inputs)).get("y")!;
      expect(maxAbsDiff(got, interpret(graph, inputs, new Map()).outputs.get("y")!)).toBeLessThanOrEqual(1e-6);
    }
  });

  it("is refused by the ONNX backend with NET5001 at its line where the row has no ONNX lowering", () => {
    const r = emitOnnx(graphOf("expm1"));
    expect(r.diagnostics.map((d) => [d.code, d.message, d.span?.file, d.span?.line])).toEqual([
      ["NET5001", "cannot lower expm1 to ONNX: expm1 has no ONNX lowering", "scratch.net", 2],
    ]);
  });

  it("becomes the row's WGSL expression (never a call of an undefined function), or NET7003 at its line", () => {
    for (const op of ["softplus", "expm1"]) {
      const r = compileWgsl(graphOf(op));
      expect(r.diagnostics).toEqual([]);
      const code = [...r.program!.shaders.values()].join("\n");
      expect(code).not.toContain(`${op}(`);
      expect(code).toContain(op === "softplus" ? "log(1.0f + exp(-abs(" : "exp(");
    }
    const refused = compileWgsl(graphOf("softsign"));
    expect(refused.program).toBeUndefined();
    expect(refused.diagnostics.map((d) => [d.code, d.message, d.span?.line])).toEqual([
      ["NET7003", "the WGSL backend has no kernel for softsign", 2],
    ]);
  });

  it(
    "registered with only a decomposition, is interpreted by it and lowered by every backend (ONNX, " + "WGSL)",
    async () => {
      const graph = graphOf("soft_sign");
      const want = interpret(graph, inputs, new Map()).outputs.get("y")!;
      expect(Array.from(want.data as Float32Array)).toEqual(
        Array.from(x.data as Float32Array, (v) => Math.fround(Math.fround(softSign(v)) * 2)),
      );
      const { bytes, diagnostics } = emitOnnx(graph);
      expect(diagnostics).toEqual([]);
      expect(maxAbsDiff((await runOnnx(bytes!, inputs)).get("y")!, want)).toBeLessThanOrEqual(1e-6);
      const r = compileWgsl(graph);
      expect(r.diagnostics).toEqual([]);
      const code = [...r.program!.shaders.values()].join("\n");
      expect(code).not.toContain("soft_sign(");
      expect(code).toMatch(/\/ \(1\.0f \+ abs\(/);
    },
  );

  it("a decomposition agrees with the reference semantics of every op that declares one", () => {
    const points = Array.from({ length: 41 }, (_, i) => (i - 20) * 0.37);
    const operand = (index: number) => ({ kind: "operand", index }) as const;
    for (const [name, row] of Object.entries(UNARY)) {
      if (!row.decompose) continue;
      for (const attrs of name === "gelu" ? [{ approximate: "none" }, { approximate: "tanh" }] : [{}]) {
        const expr = row.decompose([operand(0)], attrs as never);
        for (const v of points) {
          expect(evaluateDecomposition(expr, [v]), `${name} ${JSON.stringify(attrs)} at ${v}`).toBeCloseTo(
            row.f64(v, attrs as never),
            12,
          );
        }
      }
    }
    for (const [name, row] of Object.entries(BINARY)) {
      if (!row.decompose) continue;
      const expr = row.decompose([operand(0), operand(1)], {});
      for (const a of points) {
        for (const b of [-0.25, 0, 0.5]) {
          expect(evaluateDecomposition(expr, [a, b]), `${name} at ${a}, ${b}`).toBeCloseTo(row.f64("f32")(a, b), 12);
        }
      }
    }
    const declared = [...Object.values(UNARY), ...Object.values(BINARY)].filter((row) => row.decompose);
    expect(declared.length).toBeGreaterThanOrEqual(3);
  });

  it("decomposes only into primitive ops: a decomposition using a composite op does not compile", () => {
    // @ts-expect-error gelu is not primitive (it has attributes and no ONNX op before opset 20)
    const composite = op("gelu", [constant(1, "one")]);
    expect(composite.kind).toBe("op");
  });

  it("needs every lowering declared: a row without its WGSL lowering does not compile", () => {
    // @ts-expect-error a row must say how WGSL computes the op (an expression) or that it cannot ("none")
    const incomplete: UnaryRow = { domain: "float", f64: Math.exp, expensive: true, onnx: { op: "Exp" } };
    expect(incomplete.domain).toBe("float");
  });
});

// A non-elementwise scratch op, registered in the compiler layer only (operands, type rule, reference semantics,
// cost); each backend refuses it with a diagnostic at its `.net` line until a lowering is registered for it there.
interface CumsumAttrs {
  axis: number;
}
const cumsumSpec: OpSpec<CumsumAttrs> = {
  doc: "running sum along an axis",
  operands: ["x"],
  infer: ({ axis }, [x]) => {
    normAxis(axis, x.shape.length);
    if (!isFloat(x.dtype)) fail(`cumsum needs a float tensor, got ${x.dtype}`);
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  evaluate: ({ axis }, [x]) => {
    const shape = [...x.shape];
    const ax = normAxis(axis, shape.length);
    const inner = shape.slice(ax + 1).reduce((a, b) => a * b, 1);
    const n = shape[ax];
    const data = Float32Array.from(x.data as Float32Array);
    for (let i = 0; i < data.length; i++) if (Math.floor(i / inner) % n > 0) data[i] += data[i - inner];
    return [{ dtype: x.dtype, shape, data }];
  },
  // One addition per element.
  macs: (_, __, [out], size) => size(out),
};
const cumsumBuiltin: BuiltinImpl = (ctx, a) => {
  const x = a.get("x")!;
  const axis = a.get("axis")!;
  const attrs: CumsumAttrs = { axis: expectInt(axis.value, axis.span, "axis") };
  // The scratch op is not in OpName (nothing can be written for it by hand): only a test can smuggle it in.
  const node = ctx.emit.op1("cumsum" as OpName, attrs as never, [expectTensor(x.value, x.span, "x")], ctx.origin);
  return { kind: "tensor", v: node };
};

const cumsumSource = (axis: number) => `model Scratch()(x: f32[2, 8]) -> (y: f32[2, 8]) {
  let y = cumsum(x, axis = ${axis}) * 2.0
  return y
}
`;
const cumsumGraph = (axis = 1) => {
  const front = compileToGraph(cumsumSource(axis), { file: "scratch.net" });
  expect(front.diagnostics).toEqual([]);
  return front.graph!;
};
/** The attributes of a cumsum node (registered ops are outside OpName, so their nodes are untyped). */
const cumsumAxis = (node: Node) => normAxis((node.attrs as unknown as CumsumAttrs).axis, node.inputs[0].shape.length);

/** ONNX CumSum, with the axis as a scalar input. */
const cumsumOnnx = (e: NodeEmitter) =>
  e.emit("CumSum", [e.inputs[0], e.scalar("i64", cumsumAxis(e.node), "axis")], [e.out()]);
/** Inlined into its readers: the element at i sums its axis' elements up to its own position. */
const cumsumWgsl = {
  inline: "gather",
  body: (node: Node, w: KernelWriter) => {
    const [x] = node.inputs;
    const [, n, inner] = around(x.shape as number[], cumsumAxis(node));
    return [
      `  let o = i / ${u(n * inner)};`,
      `  let c = (i / ${u(inner)}) % ${u(n)};`,
      `  let t = i % ${u(inner)};`,
      "  var s = 0.0f;",
      `  for (var j = 0u; j <= c; j = j + 1u) { s = s + ${w.read(x, `(o * ${u(n)} + j) * ${u(inner)} + t`)}; }`,
      "  return s;",
    ].join("\n");
  },
} as const;

const unregisterCumsum = [
  registerOp("cumsum", cumsumSpec),
  registerBuiltin("cumsum", signature("running sum along an axis", "x: tensor", "axis: int"), cumsumBuiltin),
];
afterAll(() => unregisterCumsum.forEach((f) => f()));

describe("a scratch non-elementwise op registered from a test", () => {
  it("is type-checked by its row's rule, at the `.net` line that uses it", () => {
    const bad = compileToGraph(cumsumSource(5), { file: "scratch.net" });
    expect(bad.diagnostics.map((d) => [d.message, d.span?.line])).toEqual([
      ["axis 5 is out of range for a tensor of rank 2", 2],
    ]);
  });

  it("is interpreted by its row's semantics and costed by its row", () => {
    for (const axis of [0, 1, -1]) {
      const graph = cumsumGraph(axis);
      expect(graph.nodes.map((n) => n.op as string)).toContain("cumsum");
      const y = interpret(graph, inputs, new Map()).outputs.get("y")!;
      const data = x.data as Float32Array;
      const want = Array.from(data, (_, i) => {
        const [r, c] = [Math.floor(i / 8), i % 8];
        const along =
          axis === 0 ? [0, 1].filter((k) => k <= r).map((k) => data[k * 8 + c]) : Array.from(data.slice(r * 8, i + 1));
        return Math.fround(along.reduce((s, v) => Math.fround(s + v), 0) * 2);
      });
      expect(Array.from(y.data as Float32Array)).toEqual(want);
      expect(graphStats(graph).macs).toBe(16);
    }
  });

  it("is refused by every backend with a diagnostic at its line while no backend has a lowering", () => {
    const graph = cumsumGraph();
    expect(emitOnnx(graph).diagnostics.map((d) => [d.code, d.message, d.span?.line])).toEqual([
      ["NET5001", "cannot lower cumsum to ONNX: the ONNX backend has no lowering for cumsum", 2],
    ]);
    const wgsl = compileWgsl(graph);
    expect(wgsl.program).toBeUndefined();
    expect(wgsl.diagnostics.map((d) => [d.code, d.message, d.span?.line])).toEqual([
      ["NET7003", "the WGSL backend has no kernel for cumsum", 2],
    ]);
  });

  it("is lowered by a backend once that backend registers a lowering, with the interpreter's numbers", async () => {
    const undoBackends = [registerOnnxLowering("cumsum", cumsumOnnx), registerWgslLowering("cumsum", cumsumWgsl)];
    try {
      for (const axis of [0, 1]) {
        const graph = cumsumGraph(axis);
        const want = interpret(graph, inputs, new Map()).outputs.get("y")!;
        const { bytes, diagnostics } = emitOnnx(graph);
        expect(diagnostics).toEqual([]);
        expect(maxAbsDiff((await runOnnx(bytes!, inputs)).get("y")!, want)).toBeLessThanOrEqual(1e-5);
        const r = compileWgsl(graph);
        expect(r.diagnostics).toEqual([]);
        expect([...r.program!.shaders.values()].join("\n")).toContain("for (var j = 0u; j <= c;");
      }
    } finally {
      undoBackends.forEach((f) => f());
    }
  });

  it("needs a row with every part: a spec without reference semantics does not compile", () => {
    // @ts-expect-error a row must say how the op computes (its reference semantics) or that it is a source
    const incomplete: OpSpec<CumsumAttrs> = { doc: "", operands: ["x"], infer: cumsumSpec.infer, macs: NO_MACS };
    expect(incomplete.doc).toBe("");
  });

  it("needs a row per core op: a registry without one does not compile", () => {
    const { matmul: _, ...withoutMatmul } = CORE_OPS;
    // @ts-expect-error matmul has no row
    const partial: { readonly [K in StructuralOp]: OpSpec<OpAttrs[K]> } = withoutMatmul;
    expect(Object.keys(partial)).not.toContain("matmul");
  });
});

const { gpu, reason } = await tryGpu();
afterAll(() => gpu?.release());

describe.skipIf(!gpu)(`a scratch op on WebGPU${reason ? ` (skipped: ${reason})` : ""}`, () => {
  it.each(["softplus", "expm1", "soft_sign"])(
    "%s computes the interpreter's numbers",
    async (op) => {
      const graph = graphOf(op);
      const { model } = await loadGraph(gpu!, graph);
      const got = await model.run({ x });
      model.destroy();
      expect(maxAbsDiff(got.y, interpret(graph, inputs, new Map()).outputs.get("y")!)).toBeLessThanOrEqual(TOLERANCE);
    },
    120_000,
  );
});

describe.skipIf(!gpu)(`a scratch non-elementwise op on WebGPU${reason ? ` (skipped: ${reason})` : ""}`, () => {
  let undo = () => {};
  beforeAll(() => {
    undo = registerWgslLowering("cumsum", cumsumWgsl);
  });
  afterAll(() => undo());

  it.each([0, 1])(
    "cumsum along axis %i computes the interpreter's numbers with its registered lowering",
    async (axis) => {
      const graph = cumsumGraph(axis);
      const { model } = await loadGraph(gpu!, graph);
      const got = await model.run({ x });
      model.destroy();
      expect(maxAbsDiff(got.y, interpret(graph, inputs, new Map()).outputs.get("y")!)).toBeLessThanOrEqual(TOLERANCE);
    },
    120_000,
  );
});
