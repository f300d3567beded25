// Checking a model's weights from checkpoint names and shapes (netc check --weights, the language server): the values
// of parameters without one, solved from the shapes of the weights they size, and the rename rule written into the
// model's source in the places a `weights { }` block can be.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type * as A from "../../src/dsl/1-parse/ast.js";
import { formatSource } from "../../src/dsl/format/index.js";
import { compileToGraph } from "../../src/driver.js";
import { openCheckpoint } from "../../src/weights/checkpoint.js";
import { checkWeights, withDimensionHints } from "../../src/weights/model-check.js";
import { writeSafetensors } from "../../src/weights/safetensors.js";
import { random } from "../helpers/ir.js";

const tmp = mkdtempSync(join(tmpdir(), "netc-model-check-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let count = 0;
/** A safetensors checkpoint with these tensors (f32, values irrelevant). */
function checkpoint(shapes: Record<string, number[]>) {
  const path = join(tmp, `c${count++}.safetensors`);
  writeSafetensors(path, new Map(Object.entries(shapes).map(([k, s], i) => [k, random("f32", s, i)])));
  return path;
}

/** `netc check --weights` on a source: the diagnostics, and the text after the first fix of the first that has one. */
function check(text: string, shapes: Record<string, number[]>, weights = [checkpoint(shapes)]) {
  const file = join(tmp, "m.net");
  const front = compileToGraph(text, { file, requireModel: false, symbolicParams: true });
  const model = front.program!.entry.items.find((i): i is A.ModelDecl => i.kind === "Model")!;
  const checkpoints = weights.map((w) => {
    const eq = w.indexOf("=");
    const path = eq > 0 ? w.slice(eq + 1) : w;
    return { path, ...(eq > 0 ? { prefix: w.slice(0, eq) } : {}), checkpoint: openCheckpoint(path) };
  });
  const checked = checkWeights({
    model,
    sources: front.sources,
    graph: front.graph,
    symbolicWeights: front.symbolicWeights,
    rules: front.weightRules,
    checkpoints,
  });
  for (const c of checkpoints) c.checkpoint.close();
  const diagnostics = [...withDimensionHints(front.diagnostics, model, front.sources, checked.dimensions)];
  diagnostics.push(...checked.diagnostics);
  const fix = diagnostics.find((d) => d.fixes?.length)?.fixes?.[0];
  let fixed: string | undefined;
  if (fix) {
    const [edit] = fix.edits;
    fixed = text.slice(0, edit.span.start) + edit.text + text.slice(edit.span.end);
    expect(formatSource(file, fixed).text, "a fix writes what netc fmt writes").toBe(fixed);
  }
  return { diagnostics, dimensions: checked.dimensions, fix, fixed };
}

/** A model whose body returns `result` (the layers must be called: an uncalled layer's weights are unused). */
const model = (params: string, body: string, result = "head(x)") =>
  `import "std/nn.net"\n\nmodel M(${params})(x: f32[B, 4]) -> f32[B, 4] {\n${body}  return ${result}\n}\n`;

describe("parameter values from checkpoint shapes", () => {
  it("solves a size that multiplies parameters once one of them is known", () => {
    const text =
      'import "std/nn.net"\n\nmodel M(heads: int, head_dim: int)(x: f32[B, 4], y: f32[B, heads * head_dim]) -> ' +
      "f32[B, 4] {\n  layer a = Linear(4, heads)\n  layer b = Linear(heads * head_dim, 4)\n" +
      "  return b(y) + sum(a(x), [1], keepdims = true)\n}\n";
    const { dimensions, diagnostics } = check(text, {
      "a.weight": [6, 4],
      "a.bias": [6],
      "b.weight": [4, 48],
      "b.bias": [4],
    });
    expect([...dimensions].map(([k, v]) => [k, v.value])).toEqual([
      ["heads", 6],
      ["head_dim", 8],
    ]);
    expect(diagnostics.map((d) => d.code)).toEqual(["NET2006", "NET2006"]);
    expect(diagnostics[1].hint).toContain("--set head_dim=8");
    expect(diagnostics[1].hint).toContain("the model's 'b.weight' [4, head_dim*heads]");
  });

  it("gives no value to a parameter the weights size inconsistently, or to a size that is not a whole multiple", () => {
    const text = model(
      "dim: int",
      "  layer a = Linear(4, dim)\n  layer b = Linear(4, 2 * dim)\n",
      "x + sum(a(x), [1], keepdims = true) + sum(b(x), [1], keepdims = true)",
    );
    const clash = check(text, { "a.weight": [8, 4], "a.bias": [8], "b.weight": [10, 4], "b.bias": [10] });
    expect(clash.dimensions.size).toBe(0);
    expect(clash.diagnostics.map((d) => [d.code, d.fixes])).toEqual([["NET2006", undefined]]);
    const single = model("dim: int", "  layer b = Linear(4, 2 * dim)\n", "x + sum(b(x), [1], keepdims = true)");
    const odd = check(single, { "b.weight": [9, 4], "b.bias": [9] });
    expect(odd.dimensions.size).toBe(0);
    const even = check(single, { "b.weight": [10, 4], "b.bias": [10] });
    expect(even.fixed).toContain("model M(dim: int = 5)");
  });
});

describe("the rename rule as a fix", () => {
  const body = "  layer head = Linear(4, 4)\n";

  it("rewrites a one-line block one rule a line", () => {
    const text = model("", `  weights { strip "module." }\n${body}`);
    const { fixed } = check(text, { "module.fc.weight": [4, 4], "module.fc.bias": [4] });
    expect(fixed).toContain('  weights {\n    strip "module."\n    rename "fc" -> "head"\n  }\n');
  });

  it("writes into the named set of a file given as name=file, after a leading comment", () => {
    const text = model(
      "",
      `  // the landmark net\n  weights lm {}\n  layer lm.head = Linear(4, 4)\n${body}`,
      "head(lm.head(x))",
    );
    const main = checkpoint({ "head.weight": [4, 4], "head.bias": [4] });
    const landmark = checkpoint({ "fc.weight": [4, 4], "fc.bias": [4] });
    const { fix, fixed } = check(text, {}, [main, `lm=${landmark}`]);
    expect(fix?.title).toBe('Add `rename "fc" -> "head"` to `weights lm { }`');
    expect(fixed).toContain('  // the landmark net\n  weights lm {\n    rename "fc" -> "head"\n  }\n');
  });

  it("makes the block as the model's first statement when there is none", () => {
    const text = model("", `  // a comment on the layer\n${body}`);
    const { fixed } = check(text, { "fc.weight": [4, 4], "fc.bias": [4] });
    expect(fixed).toContain(
      '-> f32[B, 4] {\n  weights {\n    rename "fc" -> "head"\n  }\n  // a comment on the layer\n',
    );
  });
});
