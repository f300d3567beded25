// Small helpers for building IR graphs and tensors in tests.
import { expect } from "vitest";
import type { Span } from "../../src/diagnostics/diagnostics.js";
import type { NodeOrigin } from "../../src/compiler/ir/builder.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { dimToString } from "../../src/compiler/ir/dim.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { runPasses } from "../../src/compiler/ir/passes/index.js";
import { verifyGraph } from "../../src/compiler/ir/verify.js";
import { fromNumbers, toNumbers } from "../../src/compiler/ir/interp/numeric.js";
import { allocData, type DType, type HostTensor, numel } from "../../src/util/tensor.js";

export function span(line: number, col = 1): Span {
  return { file: "test.net", start: line * 100 + col, end: line * 100 + col + 3, line, col };
}

/** A node origin with a span (the verifier requires one) and an optional scope. */
export function at(line: number, scope?: string): NodeOrigin {
  return { span: span(line), scope };
}

/** A deterministic xorshift stream, so test data does not change between runs. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** A tensor from values (f16 and bf16 values are rounded to their bit patterns). */
export function tensor(dtype: DType, shape: number[], values: ArrayLike<number | bigint>): HostTensor {
  if (dtype === "f16" || dtype === "bf16") return fromNumbers(dtype, shape, Array.from(values, Number));
  const data = allocData(dtype, numel(shape));
  const dst = data as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < data.length; i++) dst[i] = dtype === "i64" ? BigInt(values[i]) : Number(values[i]);
  return { dtype, shape, data };
}

/** Uniform values in [lo, hi) (integers for integer types, 0/1 for bool). */
export function random(dtype: DType, shape: number[], seed: number, lo = -2, hi = 2): HostTensor {
  const r = rng(seed);
  const n = numel(shape);
  const values = Array.from({ length: n }, () => lo + (hi - lo) * r());
  if (dtype === "bool")
    return tensor(
      dtype,
      shape,
      values.map((v) => (v > (lo + hi) / 2 ? 1 : 0)),
    );
  if (dtype === "i64" || dtype === "i32" || dtype === "i8" || dtype === "u8")
    return tensor(dtype, shape, values.map(Math.floor));
  return tensor(dtype, shape, values);
}

/** Floats agree within `tol` relative to max(1, |expected|); other types exactly. */
export function expectClose(actual: HostTensor, expected: HostTensor, tol = 1e-5, what = ""): void {
  expect(actual.dtype, what).toBe(expected.dtype);
  expect(actual.shape, what).toEqual(expected.shape);
  if (!["f32", "f64", "f16", "bf16"].includes(expected.dtype)) {
    expect(Array.from(actual.data as ArrayLike<number | bigint>), what).toEqual(
      Array.from(expected.data as ArrayLike<number | bigint>),
    );
    return;
  }
  const [a, e] = [toNumbers(actual), toNumbers(expected)];
  for (let i = 0; i < e.length; i++) {
    const ok = Number.isNaN(e[i])
      ? Number.isNaN(a[i])
      : a[i] === e[i] || Math.abs(a[i] - e[i]) <= tol * Math.max(1, Math.abs(e[i]));
    if (!ok) expect.fail(`${what} element ${i}: got ${a[i]}, expected ${e[i]} (tolerance ${tol})`);
  }
}

/**
 * Runs the whole pass pipeline on `g` (but the passes in `skip`), in place: the verifier must pass and every output
 * keep its value (the reference interpreter's, before and after). Returns `g` for the caller to count its nodes.
 */
export function optimisedKeepingValues(g: Graph, inputs: Record<string, HostTensor>, skip: string[] = []): Graph {
  const feeds = new Map(Object.entries(inputs));
  const before = interpret(g, feeds, new Map()).outputs;
  expect(runPasses(g, { verify: true, skip }).diagnostics).toEqual([]);
  expect(verifyGraph(g)).toEqual([]);
  const after = interpret(g, feeds, new Map()).outputs;
  for (const [name, t] of before) expectClose(after.get(name)!, t, 1e-5, name);
  return g;
}

/** Each matmul of a graph as `[lhs] @ [rhs]`, in graph order. */
export function products(g: Graph): string[] {
  return g.nodes.flatMap((n) =>
    n.op === "matmul" ? [n.inputs.map((v) => `[${v.shape.map(dimToString).join(", ")}]`).join(" @ ")] : [],
  );
}
