// Where onnxruntime-web cannot be imported, a fallback fails with NET7041 and says what to install, instead of a
// bare module-resolution error. (Its own file: the mock makes the package unimportable for the whole file.)
import { describe, expect, it, vi } from "vitest";
import { importOrt } from "../../src/runtime/fallback.js";

vi.mock("onnxruntime-web/wasm", () => {
  throw new Error('Cannot find package "onnxruntime-web"');
});

describe("the ONNX fallback without onnxruntime-web", () => {
  it("fails with NET7041, naming the package", async () => {
    const failed = importOrt();
    await expect(failed).rejects.toMatchObject({ code: "NET7041" });
    await expect(failed).rejects.toThrow(/^the ONNX fallback needs onnxruntime-web, which could not be imported: /);
  });
});
