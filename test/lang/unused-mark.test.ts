// The `unused` modifier: `unused layer` / `unused param` declare weights only a checkpoint needs. They silence
// NET2017/NET2015 for what they mark; a mark the forward contradicts (NET2060) or that covers no weight (NET2061)
// is a warning of its own; `unused` stays an ordinary name elsewhere.
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compileToGraph } from "../../src/driver.js";
import { parseSource } from "../../src/dsl/1-parse/parse.js";

const BLOCKS = `import "std/nn.net"

block Twice(dim: int)(x: f32[B, dim]) -> f32[B, dim] {
  layer fc = Linear(dim, dim)
  unused param spare_bias: f32[dim]
  return fc(fc(x))
}

block Scale()(x: f32[B, D]) -> f32[B, D] {
  return 2.0 * x
}
`;

const model = (body: string, ret = "head(x)") => `${BLOCKS}
model M()(x: f32[B, 4]) -> f32[B, 4] {
  layer head = Twice(4)
${body}
  return ${ret}
}
`;

const codes = (src: string) =>
  compileToGraph(src, { file: "m.net" }).diagnostics.map((d) => [d.code, d.severity, d.span?.line, d.span?.col]);

describe("unused layer / unused param", () => {
  it("silences the warnings for an uncalled layer and an unread param, and the weights are still declared", () => {
    const r = compileToGraph(model("  unused layer spare = Twice(4)\n  unused param pos: f32[4]"), { file: "m.net" });
    expect(r.diagnostics).toEqual([]);
    const declared = r.graph!.params.map((p) => [p.path, p.unused]);
    expect(declared).toEqual(
      expect.arrayContaining([
        ["spare.fc.weight", true],
        ["spare.spare_bias", true],
        ["head.spare_bias", true],
        ["pos", true],
        ["head.fc.weight", false],
      ]),
    );
  });

  it("without the mark, the same model warns (NET2017, NET2015)", () => {
    const r = compileToGraph(model("  layer spare = Twice(4)\n  param pos: f32[4]"), { file: "m.net" });
    expect(r.diagnostics.map((d) => d.code)).toEqual(["NET2017", "NET2015"]);
    expect(r.diagnostics[1].message).toContain("pos");
    expect(r.diagnostics[1].message).not.toContain("spare_bias"); // marked inside the block
  });

  it("on a layer the forward calls is NET2060 at the mark, naming the weights it reads", () => {
    const r = compileToGraph(model("  unused layer other = Twice(4)", "other(head(x))"), { file: "m.net" });
    expect(r.diagnostics.map((d) => [d.code, d.severity, d.span?.line, d.span?.col])).toEqual([
      ["NET2060", "warning", 15, 3],
    ]);
    expect(r.diagnostics[0].message).toBe(
      "layer 'other' is marked `unused`, but the forward computation reads its 2 weights: other.fc.* (2)",
    );
    expect(r.graph).toBeDefined();
  });

  it("on a param the forward reads is NET2060, once for a block used twice", () => {
    const src = model("  unused param pos: f32[4]\n  layer second = Twice(4)", "second(head(x)) + pos")
      .replace("unused param spare_bias: f32[dim]", "unused param spare_bias: f32[dim]\n  unused param shift: f32[dim]")
      .replace("return fc(fc(x))", "return fc(fc(x)) + shift");
    const r = compileToGraph(src, { file: "m.net" });
    expect(r.diagnostics.map((d) => [d.code, d.span?.line])).toEqual([
      ["NET2060", 6],
      ["NET2060", 16],
    ]);
    expect(r.diagnostics[0].message).toBe(
      "param 'head.shift' is marked `unused`, but the forward computation reads its 2 weights: head.shift, " +
        "second.shift",
    );
    expect(r.diagnostics[1].message).toBe(
      "param 'pos' is marked `unused`, but the forward computation reads its weight 'pos'",
    );
  });

  it("a called layer whose result the forward discards may be marked: its weights are not read", () => {
    const src = model("  unused layer side = Twice(4)\n  let discarded = side(x)");
    expect(codes(src)).toEqual([]);
  });

  it("on a layer without weights is NET2061", () => {
    expect(codes(model("  unused layer scale = Scale()"))).toEqual([["NET2061", "warning", 15, 3]]);
    const r = compileToGraph(model("  unused layer scale = Scale()"), { file: "m.net" });
    expect(r.diagnostics[0].message).toBe("layer 'scale' is marked `unused` but declares no weights");
  });

  it("before any other statement is a syntax error that says what it marks", () => {
    const r = parseSource("m.net", model("  unused let y = x"));
    expect(r.diagnostics.map((d) => [d.code, d.span?.line, d.span?.col])).toEqual([["NET1003", 15, 3]]);
    expect(r.diagnostics[0].message).toBe(
      "unexpected 'let' after 'unused', which marks a layer or param declaration (`unused layer ...`, " +
        "`unused param ...`)",
    );
  });

  it("stays an ordinary name: a variable, a layer and a param may be called `unused`", () => {
    const src = model("  let unused = x\n  unused = unused + 1.0\n  layer unused2 = Twice(4)", "head(unused2(unused))");
    expect(codes(src)).toEqual([]);
    const named = model("  unused param unused: f32[4]");
    expect(codes(named)).toEqual([]);
  });
});

describe("the reference models", () => {
  // Their official modules declare submodules and parameters the forward never uses; `unused` says so, so that a
  // user checking them sees no warning (IFDD's time_project and position embeddings, S2D's last prompt norm and
  // landmark head).
  const ROOT = resolve(__dirname, "../..");
  const files = ["models", "models/variants", "examples"].flatMap((dir) =>
    readdirSync(join(ROOT, dir))
      .filter((f) => f.endsWith(".net"))
      .map((f) => `${dir}/${f}`),
  );

  it.each(files)(
    "%s checks without warnings",
    (file) => {
      const r = compileToGraph(readFileSync(join(ROOT, file), "utf8"), { file, requireModel: false });
      expect(r.diagnostics.filter((d) => d.severity !== "note").map((d) => `${d.code} ${d.message}`)).toEqual([]);
    },
    120_000,
  );
});
