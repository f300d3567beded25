// The newline rule (docs/language.md): a `(` that starts a line begins a new statement, whatever construct the line
// before ends with. Each statement form and each way an expression can end is followed by a `(a, d) = ...` line.
import { describe, expect, it } from "vitest";
import type * as A from "../../src/dsl/1-parse/ast.js";
import { parseSource } from "../../src/dsl/1-parse/parse.js";
import { compileToGraph } from "../../src/driver.js";

/** [what, a line of code]: statement forms, then statements ending in each kind of expression. */
const CONSTRUCTS: [string, string][] = [
  ["param", "param w: f32[4]"],
  ["param with a default", "param pidx: i64[2] = [0, 1]"],
  ["param named", 'param v: f32[4] named "weight_" + str(1)'],
  ["layer", "layer fc = Linear(4, 4)"],
  ["indexed layer", "layer blocks[0].fn = Linear(4, 4)"],
  ["let", "let y = x"],
  ["let with a type", "let z: f32[B, 4] = x"],
  ["assignment", "x = x"],
  ["compound assignment", "x += x"],
  ["tuple assignment", "(a, d) = (a, d)"],
  ["if", "if true {\n    x = x\n  }"],
  ["if else", "if false {\n    x = x\n  } else {\n    x = x\n  }"],
  ["for", "for i in 0..2 {\n    x = x\n  }"],
  ["tap", "tap t = x"],
  ["indexed tap", "tap u[0] = x"],
  ["assert", "assert true"],
  ["assert with a message", 'assert true, "message"'],
  ["print", "print(x)"],
  ["weights", 'weights {\n    strip "module."\n  }'],
  ["a name", "let e1 = x"],
  ["an integer", "let e2 = 1"],
  ["a float", "let e3 = 1.5e3"],
  ["a string", 'let e4 = "s"'],
  ["a raw string", 'let e5 = r"\\d"'],
  ["a bool", "let e6 = false"],
  ["a call", "let e7 = relu(x)"],
  ["a subscript", "let e8 = x[:, 0]"],
  ["a member", "let e9 = x.shape"],
  ["a list", "let e10 = [1, 2]"],
  ["a list comprehension", "let e11 = [i * 2 for i in 0..3]"],
  ["a tuple", "let e12 = (x, x)"],
  ["parentheses", "let e13 = (x)"],
  ["unary minus", "let e14 = -x"],
  ["not", "let e15 = not true"],
  ["a binary operator", "let e16 = x * 2"],
  ["a power", "let e17 = x ** 2"],
  ["a comparison", "let e18 = 1 < 2"],
  ["and/or", "let e19 = true and false or true"],
  ["a range", "let e20 = 0..4"],
  ["if then else", "let e21 = if true then x else x"],
  ["split_index", "let (p1, q1) = split_index x along 1 by even_odd"],
  ["split_index with arguments", "let (p2, q2) = split_index x along 1 by soft(idx, idx)"],
  ["split_index in parentheses", "let (p3, q3) = (split_index x along 1 by even_odd)"],
  ["lift", "let (p4, q4) = lift (approx = p1, detail = q1) {\n    update approx += q1\n  }"],
  [
    "cross_attention",
    "let e22 = cross_attention(unsqueeze(x, 1), unsqueeze(x, 1), heads = 2, q = fc, kv = kv, out = fc)",
  ],
];

const PRELUDE = `import "std/nn.net"

block Uses()(x: f32[B, 4]) -> f32[B, 4] {
  layer kv = Linear(4, 8)
  let idx = tensor([0.0, 2.0])
  let (a, d) = (x, x)
`;

function bodyOf(text: string): A.Stmt[] {
  const { ast, diagnostics } = parseSource("newline.net", text);
  expect(diagnostics, diagnostics.map((d) => `${d.span?.line}: ${d.message}`).join("\n")).toEqual([]);
  return (ast.items.find((i) => i.kind === "Block") as A.BlockDecl).body;
}

describe("a line starting with ( begins a statement after", () => {
  it.each(CONSTRUCTS)("%s", (_, code) => {
    const text = `${PRELUDE}  ${code}\n  (a, d) = (d, a)\n  return a\n}\n`;
    const stmts = bodyOf(text);
    const next = stmts[stmts.length - 2];
    const construct = stmts[stmts.length - 3];
    expect(next.kind).toBe("Assign");
    expect((next as A.AssignStmt).target.kind).toBe("TuplePattern");
    expect(text.slice(construct.span.start, construct.span.end)).toBe(code.split(" // ")[0]);
  });

  it.each(CONSTRUCTS)("%s, then a [ line: not a subscript, so one error on the [ line", (_, code) => {
    const text = `${PRELUDE}  ${code}\n  [0]\n  return a\n}\n`;
    const bracketLine = text.split("\n").indexOf("  [0]") + 1;
    const { diagnostics } = parseSource("newline.net", text);
    expect(diagnostics.map((d) => [d.code, d.span?.line])).toEqual([["NET1003", bracketLine]]);
  });

  it("every construct at once is a valid block (so each line above means what it says)", () => {
    const lines = CONSTRUCTS.filter(([what]) => what !== "param" && what !== "weights").map(
      ([, code]) => `  ${code}\n  (a, d) = (d, a)\n`,
    );
    const prelude = PRELUDE.replace("layer kv", "layer fc = Linear(4, 4)\n  layer kv");
    const statements = lines.join("").replace("layer fc = Linear(4, 4)\n  (a, d) = (d, a)\n", "");
    const text = `${prelude}${statements}  return a\n}\n
model M()(x: f32[B, 4]) -> f32[B, 4] {
  layer uses = Uses()
  weights {
    strip "module."
  }
  return uses(x)
}
`;
    const r = compileToGraph(text, { file: "newline.net" });
    expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.span?.line}: ${d.message}`)).toEqual([]);
  });

  it("split_index followed by a ( line: the case that once swallowed the tuple and blamed the wrong line", () => {
    const stmts = bodyOf(
      `${PRELUDE}  let (p, q) = split_index x along 1 by even_odd\n  (a, d) = (p, q)\n  return a\n}\n`,
    );
    const split = (stmts[stmts.length - 3] as A.LetStmt).value as A.SplitIndexExpr;
    expect(split.kind).toBe("SplitIndex");
    expect(split.args).toEqual([]);
  });
});

describe("other line starts", () => {
  it("a [ line is not a subscript of the line before (and no statement starts with [)", () => {
    const { diagnostics } = parseSource("n.net", `${PRELUDE}  let y = x\n  [0]\n  return a\n}\n`);
    expect(diagnostics.map((d) => [d.code, d.span?.line])).toEqual([["NET1003", 8]]);
    expect(bodyOf(`${PRELUDE}  let y = x[0]\n  return a\n}\n`).at(-2)).toMatchObject({
      kind: "Let",
      value: { kind: "Index" },
    });
  });

  it("a - line continues the expression above (a binary minus)", () => {
    const let_ = bodyOf(`${PRELUDE}  let y = x\n    - a\n  return a\n}\n`).at(-2) as A.LetStmt;
    expect(let_.value).toMatchObject({ kind: "Binary", op: "-" });
  });
});
