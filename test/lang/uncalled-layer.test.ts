// A layer declared but never called: one warning at its `layer` line (NET2017), not an error from its body.
import { describe, expect, it } from "vitest";
import { compileToGraph } from "../../src/driver.js";

const PAIRS = `import "std/nn.net"

block Pairs(dim: int)(x: f32[B, T, dim]) -> f32[B, T / 2, dim] {
  assert T % 2 == 0, "T must be even"
  layer fc = Linear(dim, dim)
  tap pairs = x
  return fc(reshape(x, [B, T / 2, 2, dim])[:, :, 0])
}

block Plain(dim: int)(x: f32[B, dim]) -> f32[B, dim] {
  layer inner = Linear(dim, dim)
  return inner(x)
}
`;

const model = (body: string) => `${PAIRS}
model M()(x: f32[B, 8, 4]) -> f32[B, 4, 4] {
  layer used = Pairs(4)
${body}
  return used(x)
}
`;

describe("a layer declared but never called", () => {
  it(
    "is a warning at its line; its weights are still declared (expected from a checkpoint), and not warned " +
      "about again",
    () => {
      const r = compileToGraph(model("  layer spare = Plain(4)"), { file: "m.net" });
      expect(r.diagnostics.map((d) => [d.code, d.severity, d.span?.line])).toEqual([["NET2017", "warning", 17]]);
      expect(r.diagnostics[0].message).toBe(
        "layer 'spare' is declared but never called; its weights are still expected from a checkpoint, and " +
          "reported as unused",
      );
      const spare = r.graph!.params.filter((p) => p.path.startsWith("spare."));
      expect(spare.map((p) => [p.path, p.unused])).toEqual([
        ["spare.inner.weight", true],
        ["spare.inner.bias", true],
      ]);
    },
  );

  it("whose body cannot run on placeholder inputs declares nothing, and says why in a note instead of failing", () => {
    const r = compileToGraph(model("  layer spare = Pairs(4)"), { file: "m.net" });
    expect(r.diagnostics.map((d) => [d.code, d.severity, d.span?.line])).toEqual([["NET2017", "warning", 17]]);
    const [d] = r.diagnostics;
    expect(d.message).toBe(
      "layer 'spare' is declared but never called, and its body cannot run without real inputs, so it declares " +
        "no weights",
    );
    expect(d.related.map((n) => [n.message, n.span?.line])).toEqual([
      ["on placeholder inputs: NET3008 T must be even", 4],
    ]);
    expect(d.hint).toContain('drop_regex "spare[.].*"');
    // What the failed run had started (the weights of Pairs' fc, its tap) is gone.
    expect(r.graph!.params.map((p) => p.path)).toEqual(["used.fc.weight", "used.fc.bias"]);
    expect(r.graph!.taps.map((t) => t.name)).toEqual(["used/pairs"]);
  });

  it("is reported once, not once more for each layer inside it", () => {
    const r = compileToGraph(model("  layer spare = Plain(4)\n  layer other = Plain(4)"), { file: "m.net" });
    expect(r.diagnostics.map((d) => d.message.split(" is ")[0])).toEqual(["layer 'spare'", "layer 'other'"]);
  });
});
