// rearrange, repeat and reduce against einops itself: test/fixtures/einops/record.py ran einops 0.8.2 on each
// pattern and stored its outputs; here netc compiles the same pattern (symbolic dims kept symbolic where the case
// says so), and both the reference interpreter and onnxruntime must give einops' numbers. Layout changes are exact;
// reductions are within 1e-5.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runOnnx } from "../../src/backends/onnx/index.js";
import { compile, interpret } from "../../src/index.js";
import type { HostTensor } from "../../src/util/tensor.js";

interface Case {
  op: "rearrange" | "repeat" | "reduce";
  pattern: string;
  reduction: string | null;
  shape: number[];
  netc_shape: (number | string)[];
  sizes: Record<string, number | string>;
  out_shape: number[];
  expected: number[];
}

const { cases } = JSON.parse(readFileSync(join(__dirname, "../fixtures/einops/cases.json"), "utf8")) as { cases: Case[] };

/** The input record.py gives einops (its INPUT function). */
function input(shape: number[]): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: "f32", shape, data: Float32Array.from({ length: n }, (_, i) => (((i * 37) % 11) + 1) * 0.25) };
}

function source(c: Case): string {
  const sizes = Object.entries(c.sizes).map(([k, v]) => `, ${k} = ${v}`).join("");
  const reduction = c.reduction ? `, "${c.reduction}"` : "";
  return `model M()(x: f32[${c.netc_shape.join(", ")}]) -> (y: tensor) {\n  return ${c.op}(x, "${c.pattern}"${reduction}${sizes})\n}\n`;
}

describe("einops patterns give einops' numbers", () => {
  it.each(cases.map((c) => [`${c.op} "${c.pattern}"${c.reduction ? ` ${c.reduction}` : ""}`, c] as const))("%s", async (_title, c) => {
    const r = compile(source(c), { file: "einops.net" });
    expect(r.diagnostics).toEqual([]);
    const inputs = new Map([["x", input(c.shape)]]);
    const tolerance = c.op === "reduce" ? 1e-5 : 0;
    const check = (got: HostTensor | undefined) => {
      expect(got!.shape).toEqual(c.out_shape);
      const diff = Math.max(0, ...c.expected.map((v, i) => Math.abs((got!.data[i] as number) - v)));
      expect(diff).toBeLessThanOrEqual(tolerance);
    };
    check(interpret(r.graph!, inputs, new Map()).outputs.get("y"));
    check((await runOnnx(r.onnx!, inputs, { threads: 1 })).get("y"));
  });
});
