// Every keyword is a name after a `.`: checkpoints use them as path segments (lucidrains-style transformers:
// `layers.0.0.fn.fn.to_qkv.weight`), so layer paths and member calls must spell them.
import { describe, expect, it } from "vitest";
import { compileToGraph } from "../../src/driver.js";
import { KEYWORDS } from "../../src/dsl/1-parse/lexer.js";
import { formatSource } from "../../src/dsl/format/index.js";

const keywords = KEYWORDS.map((k) => String(k.LABEL).slice(1, -1));

const modelWith = (segment: string) => `import "std/nn.net"

block Attn(dim: int)(x: f32[B, N, dim]) -> f32[B, N, dim] {
  layer to_qkv = Linear(dim, dim, has_bias = false)
  return to_qkv(x)
}

model M()(x: f32[B, 4, 8]) -> f32[B, 4, 8] {
  layer layers[0][0].${segment}.${segment} = Attn(8)
  return layers[0][0].${segment}.${segment}(x)
}
`;

describe("keywords as path segments after '.'", () => {
  it("the lexer's keyword list is the one docs/language.md gives", () => {
    expect(keywords.join(" ")).toBe(
      "import block fn model param named layer unused let return if then else for in true false tap assert " +
        "weights lift split_index along by and or not list",
    );
  });

  it.each(keywords)("%s", (keyword) => {
    const source = modelWith(keyword);
    const r = compileToGraph(source, { file: `${keyword}.net` });
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(r.graph!.params.map((p) => p.path)).toEqual([`layers.0.0.${keyword}.${keyword}.to_qkv.weight`]);
    expect(formatSource(`${keyword}.net`, source).text).toBe(source);
  });

  it("still refuses a keyword as the first segment, with one error", () => {
    const r = compileToGraph(modelWith("let").replace("layer layers[0][0]", "layer let[0]"), { file: "first.net" });
    expect(r.diagnostics.map((d) => d.code)).toEqual(["NET1003"]);
  });
});
