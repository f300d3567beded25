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

const { cases } = JSON.parse(readFileSync(join(__dirname, "../fixtures/einops/cases.json"), "utf8")) as {
  cases: Case[];
};

/** The input record.py gives einops (its INPUT function). */
function input(shape: number[]): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: "f32", shape, data: Float32Array.from({ length: n }, (_, i) => (((i * 37) % 11) + 1) * 0.25) };
}

function source(c: Case): string {
  const sizes = Object.entries(c.sizes)
    .map(([k, v]) => `, ${k} = ${v}`)
    .join("");
  const reduction = c.reduction ? `, "${c.reduction}"` : "";
  return (
    `model M()(x: f32[${c.netc_shape.join(", ")}]) -> (y: tensor) {\n  return ${c.op}(x, ` +
    `"${c.pattern}"${reduction}${sizes})\n}\n`
  );
}

describe("einops patterns give einops' numbers", () => {
  it.each(cases.map((c) => [`${c.op} "${c.pattern}"${c.reduction ? ` ${c.reduction}` : ""}`, c] as const))(
    "%s",
    async (_title, c) => {
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
    },
  );
});

describe("einops patterns lower to the fewest layout ops", () => {
  const ops = (input: string, call: string) => {
    const r = compile(`model M()(x: f32[${input}]) -> (y: tensor) {\n  return ${call}\n}\n`, { file: "ops.net" });
    expect(r.diagnostics).toEqual([]);
    return r
      .graph!.nodes.filter((n) => n.op !== "input")
      .map((n) => (n.op === "transpose" ? `transpose[${(n.attrs as { perm: number[] }).perm}]` : n.op));
  };

  it.each([
    ["B, 3, 4", 'rearrange(x, "b c n -> b c n")', []],
    ["B, 3, 4, 5", 'rearrange(x, "b c h w -> b (c h w)")', ["reshape"]],
    ["3, 1, 4", 'rearrange(x, "a 1 b -> a b 1")', ["reshape"]],
    [
      "B, 2, 12, 5",
      'rearrange(x, "b n (t h w) c -> (b n) c t h w", t = 2, h = 3)',
      // One transpose, in its smallest form ([(b n), (t h w), c] -> [(b n), c, (t h w)]); reshapes copy nothing.
      ["reshape", "transpose[0,2,1]", "reshape"],
    ],
    ["B, 5, 2, 49", 'rearrange(x, "b c t (h w) -> (b t) c h w", h = 7)', ["transpose[0,2,1,3]", "reshape"]],
    ["B, 5, 2, 49", 'rearrange(x, "b c t n -> b (t n) c")', ["reshape", "transpose[0,2,1]"]],
    ["6, 4, 5", 'rearrange(x, "(b t) n d -> (b n) t d", t = 3)', ["reshape", "transpose[0,2,1,3]", "reshape"]],
    ["B, 12, 3", 'reduce(x, "b (t two n) d -> b t n d", "mean", t = 3, two = 2)', ["reshape", "reduce"]],
    ["B, 8, 49, 3", 'reduce(x, "b t (h w) c -> b h w", "mean", h = 7)', ["reduce", "reshape"]],
    ["B, 3", 'repeat(x, "b n -> b n r", r = 2)', ["reshape", "expand"]],
  ] as const)("%s: %s", (input, call, expected) => {
    expect(ops(input, call)).toEqual(expected);
  });
});
