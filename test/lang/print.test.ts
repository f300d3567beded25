// `print(...)` as a statement: NET3016 notes at elaboration, one per run of the statement, tensors by their type,
// kept in front of an error found later; and the expression form `print(x)`, which returns x.
import { describe, expect, it } from "vitest";
import { compileToGraph } from "../../src/driver.js";
import { formatSource } from "../../src/dsl/format/index.js";
import { runNetc } from "../helpers/cli.js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SOURCE = `import "std/nn.net"

block Blk(dim: int)(x: f32[B, dim]) -> f32[B, dim] {
  layer fc = Linear(dim, dim)
  print(x, dim, "in a block")
  return fc(x)
}

model M()(x: f32[B, 4]) -> f32[B, 4] {
  for i in 0..2 {
    layer blocks[i] = Blk(4)
    x = blocks[i](x)
  }
  print(x.shape, 2 * 3)
  let y = print(x * 2)
  return y
}
`;

const notes = (source: string) =>
  compileToGraph(source, { file: "print.net" })
    .diagnostics.filter((d) => d.code === "NET3016")
    .map((d) => `${d.span!.line}: ${d.message}`);

describe("print", () => {
  it("shows values at elaboration each time it runs, tensors by type, blocks with their layer path", () => {
    const r = compileToGraph(SOURCE, { file: "print.net" });
    expect(r.graph).toBeDefined();
    expect(r.diagnostics.filter((d) => d.code === "NET3016").every((d) => d.severity === "note")).toBe(true);
    expect(notes(SOURCE)).toEqual([
      "5: x = tensor f32[B, 4], dim = 4, in a block (in blocks.0)",
      "5: x = tensor f32[B, 4], dim = 4, in a block (in blocks.1)",
      "14: x.shape = [B, 4], 2 * 3 = 6",
      "15: tensor f32[B, 4]",
    ]);
  });

  it("adds nothing to the graph: the model compiles to the same nodes without it", () => {
    const without = SOURCE.replace(/^\s*print\(.*\n/gm, "").replace("print(x * 2)", "x * 2");
    const a = compileToGraph(SOURCE, { file: "print.net" }).graph!;
    const b = compileToGraph(without, { file: "print.net" }).graph!;
    expect(a.nodes.map((n) => n.op)).toEqual(b.nodes.map((n) => n.op));
  });

  it("keeps its notes in front of an error found later, which they help explain", () => {
    const failing = SOURCE.replace("return y", 'assert y.rank == 3, "expected tokens"\n  return y');
    const codes = compileToGraph(failing, { file: "print.net" }).diagnostics.map((d) => d.code);
    expect(codes).toEqual(["NET3016", "NET3016", "NET3016", "NET3016", "NET3008"]);
  });

  it("says nothing from a layer that is declared but never called (it runs on placeholder inputs)", () => {
    const uncalled = SOURCE.replace("  print(x.shape, 2 * 3)\n", "  layer spare = Blk(4)\n");
    expect(notes(uncalled)).toEqual([
      "5: x = tensor f32[B, 4], dim = 4, in a block (in blocks.0)",
      "5: x = tensor f32[B, 4], dim = 4, in a block (in blocks.1)",
      "15: tensor f32[B, 4]",
    ]);
  });

  it("refuses named arguments", () => {
    const r = compileToGraph(SOURCE.replace("print(x.shape, 2 * 3)", "print(shape = x.shape)"), { file: "print.net" });
    expect(r.diagnostics.map((d) => d.code)).toContain("NET2005");
  });

  it("keeps at most 100 notes, counting the rest", () => {
    const loop = SOURCE.replace("print(x.shape, 2 * 3)", "for k in 0..150 {\n    print(k)\n  }");
    const shown = compileToGraph(loop, { file: "print.net" }).diagnostics.filter((d) => d.code === "NET3016");
    expect(shown).toHaveLength(100);
    expect(shown.at(-1)!.related[0].message).toBe("53 more prints not shown");
  });

  it("is an ordinary name elsewhere, and survives fmt", () => {
    expect(notes(SOURCE.replace("let y = print(x * 2)", "let print = x * 2\n  let y = print"))).toHaveLength(3);
    expect(formatSource("print.net", SOURCE).text).toBe(SOURCE);
  });

  it("prints through netc check, with exit 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "netc-print-"));
    writeFileSync(join(dir, "print.net"), SOURCE);
    const r = await runNetc("check", join(dir, "print.net"));
    expect(r.code).toBe(0);
    expect(r.err).toContain("note NET3016: x.shape = [B, 4], 2 * 3 = 6");
  });
});
