// `model` is a keyword only where a declaration starts: inside bodies it is a name, so PyTorch's nn.Sequential
// called `model` (MobileFaceNet's `conv_3.model.0...`) keeps its weight paths.
import { describe, expect, it } from "vitest";
import { compileToGraph, formatSource } from "../../src/index.js";

const SOURCE = `import "std/nn.net"

block Residual(n: int)(x: f32[B, 4]) -> f32[B, 4] {
  for i in 0..n {
    layer model[i] = Linear(4, 4)
    x = x + model[i](x)
  }
  return x
}

model M()(x: f32[B, 4]) -> (y: f32[B, 4]) {
  layer conv_3 = Residual(2)
  let model = conv_3(x)
  return model
}
`;

describe("the contextual keyword `model`", () => {
  it("names layers and values inside bodies, and still declares the model", () => {
    const r = compileToGraph(SOURCE, { file: "model-name.net" });
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(r.graph!.name).toBe("M");
    expect(r.graph!.params.map((p) => p.path)).toEqual(["conv_3.model.0.weight", "conv_3.model.0.bias", "conv_3.model.1.weight", "conv_3.model.1.bias"]);
  });

  it("survives formatting", () => {
    const out = formatSource("model-name.net", SOURCE).text!;
    expect(out).toContain("layer model[i] = Linear(4, 4)");
    expect(compileToGraph(out, { file: "model-name.net" }).graph!.params).toHaveLength(4);
  });

  it("is still a keyword at the top level: a second model is refused as such", () => {
    const r = compileToGraph(`${SOURCE}\nmodel N()(x: f32[B, 4]) -> (y: f32[B, 4]) {\n  return x\n}\n`, { file: "model-name.net" });
    expect(r.diagnostics.map((d) => d.code)).toContain("NET2011");
  });
});
