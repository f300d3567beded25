// The mutation checks the zoo model tests share: break one detail of a model's .net text at a time (a slip one
// could make writing it from the official code), and the official numbers must catch it. A mutation is caught by a
// test's own rule: the logits miss the official ones by more than a margin, or a recorded output misses, or (where
// a test allows it) the mutated model does not compile.
import { expect, it } from "vitest";
import type { CompileResult } from "../../src/index.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { maxAbsDiff } from "../helpers/tensors.js";

/** A slip written into the .net text: what it breaks, the text it replaces (found exactly once), the replacement. */
export type Mutation = readonly [what: string, from: string, to: string];

/** `source` with `mutation` applied; the test fails unless the text it replaces occurs exactly once. */
export function mutate(source: string, [, from, to]: Mutation): string {
  expect(source.split(from).length - 1, `"${from}" must occur once`).toBe(1);
  return source.replace(from, to);
}

/** One test per mutation, named by what it breaks: `caught` gets the mutated source and asserts that the slip shows. */
export function itCatchesEach(
  source: string,
  mutations: readonly Mutation[],
  caught: (mutated: string, mutation: Mutation) => Promise<void>,
  timeout = 60_000,
): void {
  it.each(mutations)("%s", async (...mutation) => caught(mutate(source, mutation), mutation), timeout);
}

/**
 * Asserts that a mutated model `r` is caught: its logits (`logitsOf` runs its ONNX) miss `official` by more than
 * `margin`, or, where `compileErrors` is "catch", it does not compile (with "fail", that fails the test). Returns
 * the logits' distance from the official ones (undefined when it did not compile).
 */
export async function expectLogitsMissed(
  r: CompileResult,
  logitsOf: (onnx: Uint8Array) => Promise<HostTensor>,
  official: HostTensor,
  margin: number,
  compileErrors: "catch" | "fail",
): Promise<number | undefined> {
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (errors.length) {
    expect(compileErrors === "catch", `the mutated model does not compile: ${errors[0].message}`).toBe(true);
    return undefined;
  }
  const diff = maxAbsDiff(await logitsOf(r.onnx!), official);
  expect(diff, "the mutated model's logits").toBeGreaterThan(margin);
  return diff;
}
