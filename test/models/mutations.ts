// The mutation checks the zoo model tests share: break one detail of a model's .net text at a time (a slip one
// could make writing it from the official code), and the official numbers must catch it. A mutation is caught by a
// test's own rule: the logits miss the official ones by more than a margin, or a recorded output misses, or (where
// a test allows it) the mutated model does not compile.
//
// Running every mutated model on its own costs a session per mutation over the whole checkpoint (M3DFEL's reduced
// cases hold 187 MB). runMutations instead compiles each mutated source as the test would and runs them all as one
// ONNX model: their weights stored once, their graphs side by side, so onnxruntime loads the checkpoint once and
// computes the layers no mutation touched once (its common-subexpression pass merges them). The model as written
// runs among them, and must still give the official logits: that checks the merging itself.
import { createHash } from "node:crypto";
import { expect, it } from "vitest";
import {
  type GraphProto,
  type ModelProto,
  decodeModel,
  encodeModel,
  type TensorProto,
} from "../../src/backends/onnx/proto.js";
import { runOnnx } from "../../src/backends/onnx/index.js";
import type { Diagnostic } from "../../src/diagnostics/diagnostics.js";
import type { CompileResult } from "../../src/index.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { maxAbsDiff } from "../helpers/tensors.js";

/** A slip written into the .net text: what it breaks, the text it replaces (found exactly once), the replacement. */
export type Mutation = readonly [what: string, from: string, to: string];

const occurrences = (source: string, text: string) => source.split(text).length - 1;

/** `source` with `mutation` applied; the test fails unless the text it replaces occurs exactly once. */
export function mutate(source: string, [, from, to]: Mutation): string {
  expect(occurrences(source, from), `"${from}" must occur once`).toBe(1);
  return source.replace(from, to);
}

/** One test per mutation, named by what it breaks: `caught` gets the mutated source and asserts that the slip shows. */
export function itCatchesEach(
  source: string,
  mutations: readonly Mutation[],
  caught: (mutated: string, mutation: Mutation) => Promise<void> | void,
  timeout = 60_000,
): void {
  it.each(mutations)("%s", async (...mutation) => caught(mutate(source, mutation), mutation), timeout);
}

/** What a mutated model gave: its logits, or the errors that kept it from compiling. */
export type Outcome = { logits: HostTensor } | { errors: Diagnostic[] };

/**
 * The logits of the model as written (`unmutated`) and of each mutation, by what it breaks. `compile` is the test's
 * own compile (the same options for every source); the models run together, as one, on `inputs`.
 */
export async function runMutations(opts: {
  source: string;
  mutations: readonly Mutation[];
  compile: (source: string) => CompileResult;
  inputs: ReadonlyMap<string, HostTensor>;
  output?: string;
}): Promise<{ unmutated: HostTensor; outcomes: Map<string, Outcome> }> {
  const output = opts.output ?? "logits";
  const outcomes = new Map<string, Outcome>();
  const merged = new MergedModels(new Set(opts.inputs.keys()));
  const unmutated = compiled(opts.compile(opts.source));
  if ("errors" in unmutated) throw new Error(`the model as written does not compile: ${unmutated.errors[0].message}`);
  merged.add("unmutated", unmutated.onnx, output);
  for (const mutation of opts.mutations) {
    // A text not found once is reported by that mutation's own test (mutate); it has no outcome here.
    if (occurrences(opts.source, mutation[1]) !== 1) continue;
    const r = compiled(opts.compile(opts.source.replace(mutation[1], mutation[2])));
    if ("errors" in r) outcomes.set(mutation[0], r);
    else merged.add(mutation[0], r.onnx, output);
  }
  const got = await runOnnx(encodeModel(merged.model()), opts.inputs, { threads: 2 });
  for (const [what, name] of merged.outputs) if (what !== "unmutated") outcomes.set(what, { logits: got.get(name)! });
  return { unmutated: got.get(merged.outputs.get("unmutated")!)!, outcomes };
}

function compiled(r: CompileResult): { onnx: Uint8Array } | { errors: Diagnostic[] } {
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  return errors.length ? { errors } : { onnx: r.onnx! };
}

/**
 * Asserts that a mutation was caught: its logits miss `official` by more than `margin`, or, where `compileErrors` is
 * "catch", it did not compile (with "fail", a mutated model that does not compile fails the test).
 */
export function expectCaught(
  outcome: Outcome | undefined,
  official: HostTensor,
  margin: number,
  compileErrors: "catch" | "fail",
): void {
  expect(outcome, "the mutation was not run").toBeDefined();
  if ("errors" in outcome!) {
    expect(compileErrors === "catch", `the mutated model does not compile: ${outcome.errors[0].message}`).toBe(true);
    return;
  }
  expect(maxAbsDiff(outcome!.logits, official), "the mutated model's logits").toBeGreaterThan(margin);
}

/**
 * ONNX models with the same inputs, side by side in one graph: each model's values renamed under its own prefix,
 * initializers (and Constant nodes) of the same contents stored once, under one name, so that the nodes no
 * mutation changed read the same values and onnxruntime can merge them.
 */
class MergedModels {
  private readonly graph: Required<Pick<GraphProto, "node" | "initializer" | "input" | "output">> = {
    node: [],
    initializer: [],
    input: [],
    output: [],
  };
  private first?: ModelProto;
  /** Stored tensors by contents, and the names taken. */
  private readonly stored = new Map<string, string>();
  private readonly taken = new Set<string>();
  /** The merged output of each model, by the model's name. */
  readonly outputs = new Map<string, string>();

  constructor(private readonly shared: ReadonlySet<string>) {}

  add(name: string, onnx: Uint8Array, output: string): void {
    const model = decodeModel(onnx);
    this.first ??= model;
    const g = model.graph!;
    const prefix = `m${this.outputs.size}/`;
    const renamed = new Map<string, string>();
    const rename = (value: string) =>
      value === "" || this.shared.has(value) ? value : (renamed.get(value) ?? `${prefix}${value}`);
    for (const t of g.initializer ?? []) renamed.set(t.name!, this.store(t, prefix));
    for (const node of g.node ?? []) {
      if (node.attribute?.some((a) => a.g || a.graphs?.length))
        throw new Error(`${node.opType} holds a subgraph, which MergedModels does not rename`);
      const value = node.opType === "Constant" && node.attribute?.length === 1 ? node.attribute[0].t : undefined;
      if (value) {
        renamed.set(node.output![0], this.store({ ...value, name: node.output![0] }, prefix));
        continue;
      }
      this.graph.node.push({
        ...node,
        name: `${prefix}${node.name || this.graph.node.length}`,
        input: node.input?.map(rename),
        output: node.output?.map(rename),
      });
    }
    if (!this.graph.input.length) this.graph.input.push(...(g.input ?? []).filter((v) => this.shared.has(v.name!)));
    const out = g.output!.find((o) => o.name === output);
    if (!out) throw new Error(`${name} has no output ${output}`);
    this.graph.output.push({ ...out, name: rename(output) });
    this.outputs.set(name, rename(output));
  }

  /** The name `t` is stored under: that of an earlier tensor of the same contents, or its own (prefixed if taken). */
  private store(t: TensorProto, prefix: string): string {
    const key = contentsKey(t);
    const known = this.stored.get(key);
    if (known) return known;
    const name = this.taken.has(t.name!) ? `${prefix}${t.name}` : t.name!;
    this.taken.add(name);
    this.stored.set(key, name);
    this.graph.initializer.push({ ...t, name });
    return name;
  }

  model(): ModelProto {
    return { ...this.first!, graph: { ...this.graph, name: "mutations" } };
  }
}

/** A hash of a tensor's type, shape and data (its name aside). */
function contentsKey(t: TensorProto): string {
  const { name: _, rawData, docString: __, ...rest } = t;
  const h = createHash("sha1").update(JSON.stringify(rest, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)));
  if (rawData) h.update(rawData as Uint8Array);
  return h.digest("hex");
}
