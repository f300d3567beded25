// A model's `preprocess { }` declaration travels into what netc writes: ONNX metadata, the WGSL bundle manifest;
// netc fmt keeps it; records read back from artifacts are checked like the source.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { emitOnnx } from "../../src/backends/onnx/index.js";
import { decodeModel } from "../../src/backends/onnx/proto.js";
import { compileWgsl } from "../../src/backends/wgsl/compile.js";
import { compileToGraph } from "../../src/driver.js";
import { formatSource } from "../../src/dsl/format/index.js";
import { PREPROCESS_METADATA_KEY, preprocessFromJson } from "../../src/dsl/preprocess-spec.js";

const FILE = "examples/tiny-video.net";
const text = readFileSync(FILE, "utf8");

describe("preprocess declarations in artifacts", () => {
  const { graph, diagnostics } = compileToGraph(text, { file: FILE, overrides: { B: "2" } });

  it("are in the ONNX metadata as JSON, every field filled", () => {
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const model = decodeModel(emitOnnx(graph!).bytes!);
    const record = JSON.parse(model.metadataProps!.find((p) => p.key === PREPROCESS_METADATA_KEY)!.value!) as Record<
      string,
      unknown
    >;
    expect(record).toMatchObject({
      frames: 8,
      resize: [32, 32],
      mean: [0.5, 0.5, 0.5],
      std: [0.25, 0.25, 0.25],
      layout: "BCTHW",
      merge: "mean-logits",
    });
    expect((record.labels as string[]).length).toBe(7);
    expect(preprocessFromJson(record).spec).toEqual(record);
  });

  it("are in the WGSL bundle manifest", () => {
    const wgslGraph = compileToGraph(text, { file: FILE, overrides: { B: "2" }, target: "wgsl" }).graph!;
    const compiled = compileWgsl(wgslGraph, {});
    expect(compiled.program!.manifest.preprocess).toEqual(graph!.preprocess);
  });

  it("survive netc fmt unchanged", () => {
    expect(formatSource(FILE, text).text).toBe(text);
  });

  it("read back from an artifact are checked field by field", () => {
    expect(preprocessFromJson({ frames: 0 }).problem).toContain("'frames' expects");
    expect(preprocessFromJson({ frames: 8, colour: "red" }).problem).toBe("unknown field 'colour'");
    expect(preprocessFromJson([1, 2]).problem).toBe("not a JSON object");
  });
});
