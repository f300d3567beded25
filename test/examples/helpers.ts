// The examples' tests share one reduced IFDD (the WGSL tests' MiniIfdd: IFDD's blocks at 4 frames of 56x56, here
// with DFEW's 7 classes and their labels declared in the model), compiled to ONNX and to a WGSL bundle with the same
// weights, and onnxruntime's scores on it.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { emitOnnx } from "../../src/backends/onnx/emit.js";
import { runOnnx } from "../../src/backends/onnx/run.js";
import { emitWgslBundle } from "../../src/backends/wgsl/index.js";
import { compileToGraph } from "../../src/driver.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { type HostTensor, numel } from "../../src/util/tensor.js";
import { random } from "../helpers/ir.js";

export const DFEW_CLASSES = ["happy", "sad", "neutral", "angry", "surprise", "disgust", "fear"];
export const CLIP_SHAPE = [1, 3, 4, 56, 56];
export const MINI = "test/examples/fixtures/mini_ifdd_dfew.net";
const SEED = 11;

export interface ReducedModel {
  graph: Graph;
  weights: Map<string, HostTensor>;
  dir: string;
}

export function tempDir(stem: string): string {
  return mkdtempSync(join(tmpdir(), `netc-examples-${stem}-`));
}

export function reducedIfdd(): ReducedModel {
  const r = compileToGraph(readFileSync(MINI, "utf8"), { file: MINI, overrides: { B: "1" }, target: "wgsl" });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return { graph: r.graph!, weights: scaledWeights(r.graph!), dir: tempDir("model") };
}

/**
 * Weights that keep activations near unit scale (LayerNorm gains 1, other tensors uniform with variance
 * 1/fan-in), so the scores depend on the clip: netc's default draws (normal(0, 0.02) everywhere, LayerNorm gains
 * included) shrink every feature to nearly the same constant.
 */
function scaledWeights(graph: Graph): Map<string, HostTensor> {
  const weights = new Map<string, HostTensor>();
  graph.params.forEach((p, i) => {
    if (p.init || p.dtype !== "f32") return;
    const fanIn = p.shape.length > 1 ? numel(p.shape.slice(1)) : 1;
    const bound =
      p.path === "head.weight" ? 4 * Math.sqrt(3 / fanIn) : p.path.endsWith("bias") ? 0.1 : Math.sqrt(3 / fanIn);
    const isGain = /norm[^.]*(\.\d+)?\.weight$/.test(p.path);
    weights.set(
      p.path,
      isGain
        ? { dtype: "f32", shape: p.shape, data: new Float32Array(numel(p.shape)).fill(1) }
        : random("f32", p.shape, 100 + i, -bound, bound),
    );
  });
  return weights;
}

/** Writes the model as `<dir>/ifdd.onnx` and returns its path. */
export function writeOnnxModel(m: ReducedModel): string {
  const { bytes, diagnostics } = emitOnnx(m.graph, { weights: m.weights, seed: SEED });
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const path = join(m.dir, "ifdd.onnx");
  writeFileSync(path, bytes!);
  return path;
}

/** Writes the model as the WGSL bundle `<dir>/ifdd-wgsl` (with its ONNX fallback) and returns its path. */
export function writeBundle(m: ReducedModel): string {
  const path = join(m.dir, "ifdd-wgsl");
  const fallbackOnnx = emitOnnx(m.graph, { weights: m.weights, seed: SEED }).bytes;
  const { diagnostics } = emitWgslBundle(m.graph, { outDir: path, weights: m.weights, seed: SEED, fallbackOnnx });
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return path;
}

/** onnxruntime's softmax scores for `clip`, by label (a reference computed apart from the examples' code). */
export async function referenceScores(m: ReducedModel, clip: Float32Array): Promise<Map<string, number>> {
  const { bytes } = emitOnnx(m.graph, { weights: m.weights, seed: SEED });
  const logits = (await runOnnx(bytes!, new Map([["video", { dtype: "f32", shape: CLIP_SHAPE, data: clip }]]))).get(
    "logits",
  )!.data as Float32Array;
  const exps = Array.from(logits, (v) => Math.exp(v));
  const sum = exps.reduce((a, b) => a + b, 0);
  const scores = new Map(DFEW_CLASSES.map((label, i) => [label, exps[i] / sum]));
  // Scores close together would let a mix-up of labels pass unnoticed.
  expect(Math.max(...scores.values()) - Math.min(...scores.values())).toBeGreaterThan(0.1);
  return scores;
}

/** Each label's score against the reference, within `tolerance`, and the rows sorted best first. */
export function expectScores(
  rows: readonly { label: string; score: number }[],
  want: ReadonlyMap<string, number>,
  tolerance: number,
): void {
  expect(rows.map((r) => r.label).sort()).toEqual([...want.keys()].sort());
  for (const { label, score } of rows) expect(Math.abs(score - want.get(label)!), label).toBeLessThanOrEqual(tolerance);
  for (let i = 1; i < rows.length; i++) expect(rows[i - 1].score).toBeGreaterThanOrEqual(rows[i].score);
}
