import { describe, expect, it } from "vitest";
import { inspectCheckpoint, openCheckpoint } from "../../src/weights/index.js";
import { fixture } from "./helpers.js";

function inspect(name: string, maxTensorsPerDict?: number): string {
  const ckpt = openCheckpoint(fixture(name));
  try {
    return inspectCheckpoint(ckpt, { maxTensorsPerDict });
  } finally {
    ckpt.close();
  }
}

describe("weights inspect", () => {
  it("shows the container tree, non-tensor leaves and the state dict it would pick", () => {
    const lines = inspect("dataparallel.pth.tar", 2).split("\n");
    expect(lines[0]).toMatch(/dataparallel\.pth\.tar: torch zip checkpoint, [\d.]+ kB, 24 tensors, 285 elements$/);
    expect(lines[1]).toBe("state dict: 'state_dict' (11 tensors, 140 elements)");
    expect(lines).toContain("epoch: 7");
    expect(lines).toContain('arch: "tinynet"');
    expect(lines).toContain("best_acc1  f32 []");
    expect(lines).toContain("state_dict: dict, 11 tensors, 140 elements");
    expect(lines).toContain("  module.conv.weight  f32 [3, 2, 3, 3]");
    expect(lines).toContain("  ... 9 more tensors");
    expect(lines).toContain("      betas: [0.9, 0.999]");
    expect(lines).toContain("      params: [0, 1, 2, 3, 4, 5, 6, 7]");
  });

  it("summarises other values and says when the state dict is ambiguous", () => {
    const text = inspect("nested.pth");
    expect(text).toContain(
      "state dict: several dicts of tensors could be the state dict: 'model' (11 tensors), 'ema' (11 tensors)",
    );
    expect(text).toContain("  big: 1180591620717411303424");
    expect(text).toContain("  blob: <bytes[2]>");
    expect(text).toContain("  ids: <set of 2>");
    expect(text).toContain("runs: list[1], 1 tensor, 2 elements");
    expect(text).toContain("      deep  f32 [2]");
  });

  it("marks strided views and lists safetensors metadata", () => {
    expect(inspect("zip_views.pth")).toContain("transposed    f32 [6, 4]  (strides [1, 6])");
    const text = inspect("peer.safetensors");
    expect(text).toContain("safetensors file");
    expect(text).toContain('metadata format: "pt"');
    expect(text).toContain("a.bias    bf16 [2]");
  });
});
