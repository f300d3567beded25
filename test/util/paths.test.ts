// Long lists of weight paths summarised for messages.
import { describe, expect, it } from "vitest";
import { groupPaths, summarisePaths } from "../../src/util/paths.js";

describe("summarising weight paths", () => {
  it("groups under the shortest prefix that tells them apart, indices as *", () => {
    const paths = [
      "landmark.conv_45.conv.weight",
      "landmark.conv_45.bn.bias",
      "landmark.output_layer.0.weight",
      "landmark.output_layer.1.weight",
    ];
    expect(groupPaths(paths).map((g) => [g.pattern, g.count])).toEqual([
      ["landmark.conv_45.*", 2],
      ["landmark.output_layer.*", 2],
    ]);
    expect(groupPaths(["blocks.0.attn.w", "blocks.1.attn.w", "head.w"]).map((g) => g.pattern)).toEqual([
      "blocks.*",
      "head.*",
    ]);
    expect(groupPaths(["blocks.0.w", "blocks.1.w"]).map((g) => g.pattern)).toEqual(["blocks.*.*"]);
  });

  it("names a group of one by its path, and says how many groups it leaves out", () => {
    expect(summarisePaths(["fc.weight", "fc.bias", "scale"])).toBe("fc.* (2), scale");
    const many = Array.from({ length: 8 }, (_, i) => `layer${i}.weight`);
    expect(summarisePaths(many, 3)).toBe("layer0.weight, layer1.weight, layer2.weight, and 5 more groups");
  });
});
