// `model` and `fn` are keywords only where a declaration starts: inside bodies they are names, so PyTorch's
// nn.Sequential called `model` (MobileFaceNet's `conv_3.model.0...`) and lucidrains-style wrappers' `fn`
// (`layers.0.0.fn.fn.to_qkv`, declared from inside a PreNorm block as `fn.fn.to_qkv`) keep their weight paths.
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
    expect(r.graph!.params.map((p) => p.path)).toEqual([
      "conv_3.model.0.weight",
      "conv_3.model.0.bias",
      "conv_3.model.1.weight",
      "conv_3.model.1.bias",
    ]);
  });

  it("survives formatting", () => {
    const out = formatSource("model-name.net", SOURCE).text!;
    expect(out).toContain("layer model[i] = Linear(4, 4)");
    expect(compileToGraph(out, { file: "model-name.net" }).graph!.params).toHaveLength(4);
  });

  it("is still a keyword at the top level: a second model is refused as such", () => {
    const r = compileToGraph(`${SOURCE}\nmodel N()(x: f32[B, 4]) -> (y: f32[B, 4]) {\n  return x\n}\n`, {
      file: "model-name.net",
    });
    expect(r.diagnostics.map((d) => d.code)).toContain("NET2011");
  });
});

const FN_SOURCE = `import "std/nn.net"

fn double(x: f32[B, D]) -> f32[B, D] {
  return 2.0 * x
}

block PreNorm(dim: int)(x: f32[B, dim]) -> f32[B, dim] {
  layer norm = LayerNorm(dim)
  layer fn.fn.to_qkv = Linear(dim, dim)
  let doubled = double(norm(x))
  return fn.fn.to_qkv(doubled)
}

model M(dim: int = 8)(x: f32[B, dim]) -> (y: f32[B, dim]) {
  layer layers[0][0] = PreNorm(dim)
  return layers[0][0](x)
}
`;

describe("the contextual keyword `fn`", () => {
  it("starts a layer path inside bodies, and still declares functions", () => {
    const r = compileToGraph(FN_SOURCE, { file: "fn-name.net", overrides: { B: "2" } });
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(r.graph!.params.map((p) => p.path)).toEqual([
      "layers.0.0.norm.weight",
      "layers.0.0.norm.bias",
      "layers.0.0.fn.fn.to_qkv.weight",
      "layers.0.0.fn.fn.to_qkv.bias",
    ]);
  });

  it("survives formatting", () => {
    const out = formatSource("fn-name.net", FN_SOURCE).text!;
    expect(out).toContain("layer fn.fn.to_qkv = Linear(dim, dim)");
    expect(out).toContain("fn double(x: f32[B, D])");
    expect(compileToGraph(out, { file: "fn-name.net", overrides: { B: "2" } }).graph!.params).toHaveLength(4);
  });
});
