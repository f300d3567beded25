// Reuse of layer calls between edits (src/compiler/3-elaborate/layer-memo.ts): an analysis that replays the previous
// elaboration's calls gives exactly what a cold analysis of the same text gives (diagnostics, weights, taps, every
// observed value, hovers), after a seeded sequence of random edits to models/ifdd.net; an edit to a block, to a
// file it imports, to the standard library or to a model parameter's default re-elaborates what depends on it,
// and an edit elsewhere replays (counted by the memo's statistics, not timed).
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { LayerCallMemo } from "../../src/compiler/3-elaborate/layer-memo.js";
import { type Analysis, analyse } from "../../src/lsp/analysis.js";
import { hoverAt } from "../../src/lsp/features.js";
import { ParseCache } from "../../src/lsp/reuse.js";

const ROOT = resolve(__dirname, "../..");
const IFDD = join(ROOT, "models/ifdd.net");

/** What an editor can see of an analysis, in comparable form. */
function visible(a: Analysis, hoverOffsets: number[]) {
  const values: Record<string, unknown> = {};
  for (const [file, inFile] of a.values)
    for (const [key, v] of inFile) values[`${file}:${key}`] = [v.count, [...v.shown], v.layer?.path];
  return {
    diagnostics: a.diagnostics,
    params: a.graph?.params.map(({ init, ...p }) => ({ ...p, init: init?.shape })),
    taps: a.graph?.taps.map((t) => [t.name, t.value.dtype, t.value.shape, t.span]),
    nodes: a.graph?.nodes.map((n) => [n.id, n.op, n.scope, n.span, n.inputs.map((v) => v.id)]),
    values,
    hovers: hoverOffsets.map((o) => hoverAt(a, a.file, o)?.markdown),
  };
}

/** A small seeded generator (mulberry32). */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One random edit: indentation or a blank line (moves what follows), a number changed, a comment, or the original. */
function randomEdit(text: string, original: string, next: () => number): string {
  const lines = text.split("\n");
  const line = Math.floor(next() * lines.length);
  const kind = Math.floor(next() * 5);
  if (kind === 0) lines[line] = ` ${lines[line]}`;
  else if (kind === 1) lines.splice(line, 0, "");
  else if (kind === 2) {
    const numbers = [...text.matchAll(/(?<=[([, =*])\d+(?=[)\], ])/g)];
    const m = numbers[Math.floor(next() * numbers.length)];
    const n = Math.max(1, Number(m[0]) + (next() < 0.5 ? 1 : -1));
    return text.slice(0, m.index) + String(n) + text.slice(m.index + m[0].length);
  } else if (kind === 3) lines.push(`// note ${line}`);
  else return original;
  return lines.join("\n");
}

describe("layer calls reused between edits", () => {
  it("gives what a cold analysis gives after random edits to models/ifdd.net", { timeout: 240_000 }, () => {
    const original = readFileSync(IFDD, "utf8");
    const parses = new ParseCache();
    const memo = new LayerCallMemo();
    analyse(IFDD, original, new Map(), parses, memo);
    expect(memo.stats.stored).toBeGreaterThan(50);
    const next = random(19);
    let text = original;
    let replayed = 0;
    for (let step = 0; step < 8; step++) {
      text = randomEdit(next() < 0.3 ? original : text, original, next);
      const incremental = analyse(IFDD, text, new Map(), parses, memo);
      replayed += memo.stats.hits;
      const cold = analyse(IFDD, text, new Map(), new ParseCache());
      const hovers = Array.from({ length: 40 }, () => Math.floor(next() * text.length));
      for (const word of ["let feature", "let x", "return "]) hovers.push(text.indexOf(word) + word.length);
      expect(visible(incremental, hovers), `step ${step}`).toEqual(visible(cold, hovers));
    }
    expect(replayed).toBeGreaterThan(0);
  });

  // A library imported from an open document, a model over it; the texts stand for the editor's buffers.
  const dir = resolve(ROOT, "test/lsp/memo-fixture");
  const lib = [
    "block Proj(d: int, k: int)(x: f32[B, d]) -> f32[B, k] {",
    "  layer fc = Linear(d, k)",
    "  return fc(x)",
    "}",
  ];
  const main = [
    'import "std/nn.net"',
    'import "lib.net"',
    "",
    "block Body(d: int)(x: f32[B, d]) -> f32[B, d] {",
    "  layer a = Linear(d, d)",
    "  let h = a(x)",
    "  return h",
    "}",
    "",
    "block Top(d: int)(x: f32[B, d]) -> f32[B, 4] {",
    "  layer p = Proj(d, 4)",
    "  let y = p(x)",
    "  return y",
    "}",
    "",
    "model M(width: int = 8)(x: f32[B, width]) -> (out: f32[B, 4]) {",
    "  layer body = Body(width)",
    "  layer top = Top(width)",
    "  return top(body(x))",
    "}",
    "",
  ].join("\n");
  const mainPath = join(dir, "main.net");
  const libPath = join(dir, "lib.net");
  const stdPath = join(ROOT, "stdlib/nn.net");
  const hoverOf = (a: Analysis, text: string, word: string) => hoverAt(a, a.file, text.indexOf(word) + 4)?.markdown;

  /** An analysis with a shared memo, its statistics, and the cold analysis of the same texts. */
  function session() {
    const parses = new ParseCache();
    const memo = new LayerCallMemo();
    return (text: string, texts: Map<string, string>) => {
      const a = analyse(mainPath, text, texts, parses, memo);
      const stats = { ...memo.stats };
      const cold = analyse(mainPath, text, texts, new ParseCache());
      const hovers = [text.indexOf("let h") + 4, text.indexOf("let y") + 4];
      expect(visible(a, hovers)).toEqual(visible(cold, hovers));
      return { a, stats };
    };
  }
  const libTexts = (l: string[]) => new Map([[libPath, l.join("\n")]]);

  it("replays every call after an edit outside the blocks", () => {
    const run = session();
    const first = run(main, libTexts(lib));
    expect(first.a.diagnostics).toEqual([]);
    expect(first.stats).toMatchObject({ hits: 0, replays: 0, notKept: 0 });
    expect(first.stats.stored).toBeGreaterThanOrEqual(4); // body, body.a, top, top.p, top.p.fc
    const again = run(`${main}// a comment\n`, libTexts(lib));
    expect(again.stats).toEqual({ hits: 2, replays: 2, stored: 0, notKept: 0 });
  });

  it("re-elaborates the callers of an edited imported block, and replays the rest", () => {
    const run = session();
    run(main, libTexts(lib));
    expect(hoverOf(run(main, libTexts(lib)).a, main, "let y")).toContain("f32[B, 4]");
    const wider = ["block Proj(d: int, k: int)(x: f32[B, d]) -> f32[B, 2 * k] {", "  layer fc = Linear(d, 2 * k)"];
    const edited = run(main, libTexts([...wider, ...lib.slice(2)]));
    expect(edited.stats.hits).toBe(1); // body: Top calls the changed Proj
    expect(hoverOf(edited.a, main, "let y")).toContain("f32[B, 8]");
    expect(edited.a.diagnostics.map((d) => d.code)).toContain("NET3002");
  });

  it("re-elaborates every call of a standard-library block edited in the editor", () => {
    const run = session();
    run(main, libTexts(lib));
    const std = readFileSync(stdPath, "utf8");
    const texts = libTexts(lib).set(stdPath, `// edited\n${std}`);
    const edited = run(main, texts);
    expect(edited.stats.hits).toBe(0);
    expect(edited.stats.stored).toBeGreaterThanOrEqual(5);
    const back = run(main, libTexts(lib));
    expect(back.stats.hits).toBe(0); // the standard library moved back: its objects are new again
  });

  it("re-elaborates after a model parameter's default changes", () => {
    const run = session();
    run(main, libTexts(lib));
    const edited = run(main.replace("width: int = 8", "width: int = 16"), libTexts(lib));
    expect(edited.stats.hits).toBe(0);
    expect(hoverOf(edited.a, main, "let h")).toContain("f32[B, 16]");
    const back = run(main, libTexts(lib));
    expect(hoverOf(back.a, main, "let h")).toContain("f32[B, 8]");
  });

  it("replays a call under another weight path within one analysis, and not a layer's second call", () => {
    const run = session();
    const twice = main.replace(
      "  return top(body(x))",
      "  layer again = Body(width)\n  layer shared = Body(width)\n  return top(shared(shared(again(body(x)))))",
    );
    const first = run(twice, libTexts(lib));
    expect(first.a.diagnostics).toEqual([]);
    // again and shared's first call replay body's; shared's second call reuses its weights, so it runs.
    expect(first.stats).toMatchObject({ hits: 2, replays: 2 });
    expect(first.a.graph?.params.map((p) => p.path)).toEqual([
      "body.a.weight",
      "body.a.bias",
      "again.a.weight",
      "again.a.bias",
      "shared.a.weight",
      "shared.a.bias",
      "top.p.fc.weight",
      "top.p.fc.bias",
    ]);
  });

  it("re-elaborates a block that only moved, and replays the blocks before the edit", () => {
    const run = session();
    run(main, libTexts(lib));
    const moved = run(main.replace("  let h = a(x)", "\n  let h = a(x)"), libTexts(lib));
    expect(moved.stats).toMatchObject({ hits: 0, notKept: 0 });
    const above = run(
      main.replace("  let y = p(x)", "  let y  = p(x)").replace("  let h = a(x)", "\n  let h = a(x)"),
      libTexts(lib),
    );
    expect(above.stats.hits).toBe(1); // body is unchanged and unmoved
  });
});
