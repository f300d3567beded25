// `param w: ... named <string>`: a weight whose path segment is computed at compile time (string `+` and `str`),
// so a loop can declare one weight per pass; and the diagnostics for names that are not one segment or that clash.
import { describe, expect, it } from "vitest";
import { compileToGraph } from "../../src/driver.js";
import { parseSource } from "../../src/dsl/1-parse/parse.js";

function compiled(source: string) {
  const r = compileToGraph(source, { file: "named.net" });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  return {
    graph: r.graph,
    errors: errors.map((d) => ({
      code: d.code,
      message: d.message,
      line: d.span?.line,
      related: d.related.map((n) => [n.message, n.span?.line]),
    })),
  };
}

/** A model around one block body (x: f32[B, 4] in and out) instantiated as `s`, under the given config. */
function block(body: string, config = "", args = ""): string {
  return (
    `block S(${config})(x: f32[B, 4]) -> f32[B, 4] {\n${body}\n}\nmodel M()(x: f32[2, 4]) -> f32[2, 4] {\n ` +
    ` layer s = S(${args})\n  return s(x)\n}\n`
  );
}

const paths = (source: string) => {
  const r = compiled(source);
  expect(r.errors).toEqual([]);
  return r.graph!.params.map((p) => `${p.path} [${p.shape.join(", ")}]`);
};

describe("computed weight names", () => {
  it("a loop declares one weight per pass; the local name is the body's, the computed one the path's", () => {
    const source = block(
      `  for i in 0..n {
    param w: f32[4, 4] named "weight_l" + str(i)
    param b: f32[4] named "bias_l" + str(i) + (if i % 2 == 1 then "_reverse" else "")
    x = x @ w + b
  }
  return x`,
      "n: int",
      "3",
    );
    expect(paths(source)).toEqual([
      "s.weight_l0 [4, 4]",
      "s.bias_l0 [4]",
      "s.weight_l1 [4, 4]",
      "s.bias_l1_reverse [4]",
      "s.weight_l2 [4, 4]",
      "s.bias_l2 [4]",
    ]);
  });

  it("takes a string literal, a string parameter and nested loops", () => {
    const source = block(
      `  param g: f32[4] named "gain"
  for i in 0..2 {
    for j in [3, 5] {
      param w: f32[4] named prefix + str(i) + "_" + str(j)
      x = x * w
    }
  }
  return x * g`,
      'prefix: string = "w"',
    );
    expect(paths(source)).toEqual(["s.gain [4]", "s.w0_3 [4]", "s.w0_5 [4]", "s.w1_3 [4]", "s.w1_5 [4]"]);
  });

  it("calling one layer twice reads the same computed weights (they are shared, not duplicates)", () => {
    const source =
      `block S()(x: f32[B, 4]) -> f32[B, 4] {\n  for i in 0..2 {\n    param w: f32[4] named "w" + ` +
      `str(i)\n    x = x * w\n  }\n  return x\n}\nmodel M()(x: f32[2, 4]) -> f32[2, 4] {\n  layer s = S()\n  ` +
      `return s(s(x))\n}\n`;
    expect(paths(source)).toEqual(["s.w0 [4]", "s.w1 [4]"]);
  });

  it("keeps `named` an ordinary name, also as the statement after a param", () => {
    const source = block(
      `  let named = 1\n  param named: f32[4] named "w" + str(named)\n  named = named + x\n  return named`,
    );
    expect(paths(source)).toEqual(["s.w1 [4]"]);
    const ast = parseSource("p.net", source).ast.items[0];
    expect(ast.kind === "Block" && ast.body.map((s) => s.kind)).toEqual(["Let", "Param", "Assign", "Return"]);
  });

  it("str and string + compute at compile time", () => {
    const ok = compiled(
      block(`  assert "l" + str(12) + "_reverse" == "l12_reverse"\n  assert str("a") == "a"\n  return x`),
    );
    expect(ok.errors).toEqual([]);
  });
});

describe("computed weight names: diagnostics", () => {
  it("a name that is empty or has a '.' is NET3015 at the name", () => {
    for (const name of ['""', '"a" + "." + str(1)']) {
      const r = compiled(block(`  param w: f32[4] named ${name}\n  return x * w`));
      expect(r.errors.map((e) => [e.code, e.line])).toEqual([["NET3015", 2]]);
    }
  });

  it("a name that is not a string, or + of a string and an int, is NET3001", () => {
    expect(compiled(block(`  param w: f32[4] named 3\n  return x * w`)).errors.map((e) => [e.code, e.message])).toEqual(
      [["NET3001", "a weight name must be a string, got int"]],
    );
    expect(
      compiled(block(`  param w: f32[4] named "w" + 3\n  return x * w`)).errors.map((e) => [e.code, e.message]),
    ).toEqual([["NET3001", "+ joins two strings, not string and int"]]);
    expect(compiled(block(`  param w: f32[4] named "w" + str(1.5)\n  return x * w`)).errors.map((e) => e.code)).toEqual(
      ["NET3001"],
    );
  });

  it("str of a symbolic dimension is NET3009: a name must be known", () => {
    const symbolic = block(`  param w: f32[4] named "w" + str(B)\n  return x * w`).replace(
      "x: f32[2, 4]",
      "x: f32[B, 4]",
    );
    expect(compiled(symbolic).errors.map((e) => e.code)).toEqual(["NET3009"]);
  });

  it("two passes computing one name are NET2002 at elaboration, with a note at the first", () => {
    const r = compiled(
      block(`  for i in 0..3 {\n    param w: f32[4] named "w" + str(i % 2)\n    x = x * w\n  }\n  return x`),
    );
    expect(r.errors).toEqual([
      {
        code: "NET2002",
        message: "weight 's.w0' is declared twice",
        line: 3,
        related: [["first declared here, by an earlier pass of the loop", 3]],
      },
    ]);
  });

  it("a computed name equal to a fixed one is NET2002 at elaboration", () => {
    const r = compiled(
      block(
        `  param w1: f32[4]\n  for i in 0..2 {\n    param w: f32[4] named "w" + str(i)\n    x = x * w\n  }\n  ` +
          "return x * w1",
      ),
    );
    expect(r.errors).toEqual([
      { code: "NET2002", message: "weight 's.w1' is declared twice", line: 4, related: [["first declared here", 2]] },
    ]);
  });

  it("a fixed name in a loop that runs twice is NET2002; one pass or exclusive branches are fine", () => {
    expect(
      compiled(block(`  for i in 0..2 {\n    param w: f32[4]\n    x = x * w\n  }\n  return x`)).errors.map(
        (e) => e.code,
      ),
    ).toEqual(["NET2002"]);
    expect(compiled(block(`  for i in 0..1 {\n    param w: f32[4]\n    x = x * w\n  }\n  return x`)).errors).toEqual(
      [],
    );
    expect(
      compiled(
        block(
          `  if x.shape[0] == 2 {\n    param w: f32[4]\n    x = x * w\n  } else {\n    param w: f32[4]\n    x = ` +
            `x + w\n  }\n  return x`,
        ),
      ).errors,
    ).toEqual([]);
  });

  it("names written out twice in one statement list are NET2002 before elaboration", () => {
    const r = compiled(
      block(`  param w: f32[4]\n  param v: f32[4] named "w"\n  param w: f32[4] named "u"\n  return x * w * v`),
    );
    // Only the weight names clash: a local name may be declared again (the later one shadows).
    expect(r.errors).toEqual([
      { code: "NET2002", message: "weight 'w' is declared twice", line: 3, related: [["first declared here", 2]] },
    ]);
  });

  it("names computed from a loop variable are not judged before elaboration", () => {
    // The same text in a loop: only the elaborator knows whether the passes differ.
    expect(
      compiled(
        block(
          `  for i in 0..2 {\n    param a: f32[4] named "a" + str(i)\n    param b: f32[4] named "b" + str(i)\n  ` +
            `  x = x * a * b\n  }\n  return x`,
        ),
      ).errors,
    ).toEqual([]);
  });
});
