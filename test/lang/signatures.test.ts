// The signature tables (src/dsl/signatures) agree with what implements them: every builtin and construct has an
// implementation and the reverse, each default is a value its parameter accepts, the unary builtins' docs are their
// op-registry rows', and the static check of calls gives the elaborator's verdict on the same calls.
import { describe, expect, it } from "vitest";
import { BUILTINS } from "../../src/compiler/3-elaborate/builtins/index.js";
import { CONSTRUCTS } from "../../src/compiler/3-elaborate/constructs.js";
import type { Val } from "../../src/compiler/3-elaborate/values.js";
import { compileToGraph } from "../../src/driver.js";
import { UNARY } from "../../src/compiler/ir/elementwise-ops.js";
import { parseExpression } from "../../src/dsl/1-parse/parse.js";
import { BUILTIN_SIGNATURES, CONSTRUCT_SIGNATURES, SPLIT_INDEX_MODES } from "../../src/dsl/signatures/builtins.js";
import { acceptsKinds, literalKinds, type Signature } from "../../src/dsl/signatures/signature.js";
import { WEIGHTS_VERBS } from "../../src/dsl/signatures/weights.js";
import { mappingFromRules } from "../../src/weights/model-weights.js";

const span = { file: "t.net", start: 0, end: 0, line: 1, col: 1 };

describe("signature tables", () => {
  it("name exactly the implemented builtins and constructs", () => {
    expect(Object.keys(BUILTINS).sort()).toEqual(Object.keys(BUILTIN_SIGNATURES).sort());
    expect(Object.keys(CONSTRUCTS).sort()).toEqual(Object.keys(CONSTRUCT_SIGNATURES).sort());
  });

  it("give defaults of a kind their parameter accepts", () => {
    const tables: Record<string, Signature>[] = [
      BUILTIN_SIGNATURES,
      CONSTRUCT_SIGNATURES,
      SPLIT_INDEX_MODES,
      WEIGHTS_VERBS,
    ];
    const wrong: string[] = [];
    for (const table of tables)
      for (const [name, sig] of Object.entries(table))
        for (const p of sig.params) {
          if (p.default === undefined) continue;
          const parsed = parseExpression("default", p.default).expr!;
          const kinds =
            parsed.kind === "Name" ? ([p.default === "none" ? "none" : "dtype"] as const) : literalKinds(parsed);
          if (!kinds || !acceptsKinds(p, kinds)) wrong.push(`${name}.${p.name} = ${p.default}`);
        }
    expect(wrong).toEqual([]);
  });

  it("document the unary builtins as their op-registry rows do", () => {
    for (const [name, row] of Object.entries(UNARY))
      if (row.builtin && name !== "gelu")
        expect(BUILTIN_SIGNATURES[name as keyof typeof BUILTIN_SIGNATURES]?.doc, name).toBe(row.builtin);
  });

  it("has a mapping for every weights verb, plain and regex", () => {
    const args = (sig: Signature): Val[] =>
      sig.params.flatMap((p): Val[] =>
        p.optional ? [] : p.kinds.includes("int") ? [{ kind: "int", v: 0 }] : [{ kind: "string", v: "a" }],
      );
    for (const [verb, v] of Object.entries(WEIGHTS_VERBS)) {
      const given: Val[] = [
        ...args(v),
        ...Array<Val>(v.variadic === undefined ? 0 : v.variadic - 1).fill({ kind: "string", v: "b" }),
      ];
      for (const written of v.regex ? [verb, `${verb}_regex`] : [verb]) {
        const m = mappingFromRules([{ verb: written, args: given, span }]);
        expect(JSON.stringify(m), written).not.toBe(JSON.stringify({ stripPrefix: [], rename: [], transforms: [] }));
      }
    }
  });
});

describe("the static check of builtin calls", () => {
  // Each call is refused before elaboration; called through an alias, which the static rule cannot follow, the
  // elaborator refuses it with the same code.
  const calls = [
    "softmax(x, axs = 1)",
    "transpose(x, 0, 1, 2)",
    "reshape(x)",
    "softmax(x, axis = 1, axis = 0)",
    'softmax(x, "last")',
    "sum(x, [0], keepdims = 1.5)",
  ];
  const errorsOf = (body: string) =>
    compileToGraph(`model M()(x: f32[2, 8]) -> f32[2, 8] {\n${body}  return x\n}\n`, {
      file: "t.net",
    }).diagnostics.filter((d) => d.severity === "error");
  it.each(calls)("%s is reported before elaboration, as the elaborator would", (call) => {
    const direct = errorsOf(`  let y = ${call}\n`);
    expect(direct.map((d) => d.span?.line)).toEqual([2]);
    const name = call.slice(0, call.indexOf("("));
    const aliased = errorsOf(`  let f = ${name}\n  let y = f${call.slice(name.length)}\n`);
    expect(aliased.map((d) => d.code)).toEqual(direct.map((d) => d.code));
  });

  it("leaves a builtin's name alone where the file defines it", () => {
    const r = compileToGraph(
      "fn softmax(a: int, b: int, c: int) -> int {\n  return a\n}\nmodel M()(x: f32[2]) -> f32[2] {\n  let n = " +
        "softmax(1, 2, 3)\n  return x\n}\n",
      { file: "t.net" },
    );
    expect(r.diagnostics).toEqual([]);
  });
});
