import { afterAll, describe, expect, it } from "vitest";
import type { Span } from "../../src/diagnostics/diagnostics.js";
import type { DType } from "../../src/util/tensor.js";
import {
  importWeights,
  openCheckpoint,
  planWeights,
  renderReport,
  reportDiagnostics,
  castTensor,
  type Checkpoint,
  type DeclaredWeight,
  type MappingRules,
} from "../../src/weights/index.js";
import {
  expectDiagnostic,
  expectedTensors,
  expectTensor,
  fixture,
  readJson,
  type TensorRecord,
  values,
} from "./helpers.js";

const dataParallel = openCheckpoint(fixture("dataparallel.pth.tar"));
const nested = openCheckpoint(fixture("nested.pth"));
afterAll(() => [dataParallel, nested].forEach((c) => c.close()));

const expected = expectedTensors("dataparallel.pth.tar");
const derived = readJson<Record<string, TensorRecord>>("dataparallel.derived.json");

function span(line: number): Span {
  return { file: "tiny.net", start: line * 10, end: line * 10 + 5, line, col: 3 };
}

/** TinyNet's weights as a model would declare them (no DataParallel prefix), each with its own line. */
function tinyNet(overrides: Record<string, Partial<DeclaredWeight>> = {}): DeclaredWeight[] {
  const base: [string, DType, number[]][] = [
    ["conv.weight", "f32", [3, 2, 3, 3]],
    ["conv.bias", "f32", [3]],
    ["bn.weight", "f32", [3]],
    ["bn.bias", "f32", [3]],
    ["bn.running_mean", "f32", [3]],
    ["bn.running_var", "f32", [3]],
    ["bn.num_batches_tracked", "i64", []],
    ["qkv.weight", "f32", [12, 4]],
    ["qkv.bias", "f32", [12]],
    ["head.weight", "f32", [2, 4]],
    ["head.bias", "f32", [2]],
  ];
  return base.map(([path, dtype, shape], i) => ({ path, dtype, shape, span: span(i + 1), ...overrides[path] }));
}

const STRIP: MappingRules = { stripPrefix: ["module."] };

function load(declared: DeclaredWeight[], rules: MappingRules, ckpt: Checkpoint = dataParallel) {
  return importWeights(declared, [{ checkpoint: ckpt, rules }]);
}

describe("mapping a checkpoint onto declared weights", () => {
  it("strips DataParallel's 'module.' and loads every weight bit for bit", () => {
    const { weights, report } = load(tinyNet(), STRIP);
    expect(report.applied).toHaveLength(11);
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(reportDiagnostics(report)).toEqual([]);
    for (const [path, t] of weights) expectTensor(t, expected[`state_dict.module.${path}`]);
    expect(report.sources).toEqual([`${fixture("dataparallel.pth.tar")} ['state_dict']`]);
  });

  it("is strict by default: missing and unexpected are errors, pointing at the declaration and the key", () => {
    const { report } = load(tinyNet(), {});
    expect(report.missing).toHaveLength(11);
    expect(report.unexpected).toHaveLength(11);
    const diagnostics = reportDiagnostics(report);
    const missing = diagnostics.find((d) => d.code === "NET6020" && d.message.includes("'conv.weight'"))!;
    expect(missing.severity).toBe("error");
    expect(missing.span).toEqual(span(1));
    expect(missing.hint).toBe("the checkpoint has 'module.conv.weight': rename? `weights { strip \"module.\" }`");
    const unexpected = diagnostics.find((d) => d.code === "NET6021" && d.message.includes("'module.conv.weight'"))!;
    expect(unexpected.severity).toBe("error");
    expect(unexpected.message).toContain("dataparallel.pth.tar");
  });

  it("relaxes to warnings with allowMissing and allowUnexpected", () => {
    const { report } = load(tinyNet(), {});
    const severities = new Set(
      reportDiagnostics(report, { allowMissing: true, allowUnexpected: true }).map((d) => d.severity),
    );
    expect(severities).toEqual(new Set(["warning"]));
  });

  it("renames with literal prefixes and regular expressions, in order", () => {
    const rules: MappingRules = {
      stripPrefix: ["module."],
      rename: [
        { from: "conv", to: "stem.conv" },
        { from: "^bn\\.(\\w+)$", to: "stem.norm.$1", regex: true },
      ],
    };
    const declared = tinyNet().map((d) => ({
      ...d,
      path: d.path.replace(/^conv/, "stem.conv").replace(/^bn/, "stem.norm"),
    }));
    const { weights, report } = load(declared, rules);
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expectTensor(weights.get("stem.norm.running_var")!, expected["state_dict.module.bn.running_var"]);
    expect(report.applied.find((a) => a.path === "stem.conv.bias")?.key).toBe("module.conv.bias");
  });

  it("splits a packed qkv into q, k and v, reading the packed tensor once", () => {
    const declared = tinyNet().filter((d) => !d.path.startsWith("qkv"));
    for (const part of ["q", "k", "v"]) {
      declared.push(
        { path: `${part}.weight`, dtype: "f32", shape: [4, 4] },
        { path: `${part}.bias`, dtype: "f32", shape: [4] },
      );
    }
    const rules: MappingRules = {
      ...STRIP,
      transforms: [{ op: "split", key: "qkv\\.(weight|bias)", regex: true, axis: 0, into: ["q.$1", "k.$1", "v.$1"] }],
    };
    const progress: number[] = [];
    const { weights, report } = importWeights(declared, [{ checkpoint: dataParallel, rules }], {
      onProgress: (done) => progress.push(done),
    });
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    for (const path of ["q.weight", "k.weight", "v.weight", "q.bias", "k.bias", "v.bias"])
      expectTensor(weights.get(path)!, derived[path]);
    expect(report.applied.find((a) => a.path === "k.weight")?.steps).toEqual(["split axis 0 [4:8]"]);
    expect(progress).toHaveLength(11);
  });

  it("transposes, permutes and reshapes to the declared shape", () => {
    const declared = tinyNet({ "head.weight": { shape: [4, 2] }, "conv.weight": { shape: [3, 18] } });
    const rules: MappingRules = {
      ...STRIP,
      transforms: [
        { op: "transpose", key: "head.weight" },
        { op: "reshape", key: "conv.weight" },
      ],
    };
    const { weights, report } = load(declared, rules);
    expect(reportDiagnostics(report)).toEqual([]);
    expectTensor(weights.get("head.weight")!, derived["head.weight.T"]);
    expectTensor(weights.get("conv.weight")!, derived["conv.weight.reshape(3,-1)"]);

    const permuted = load(tinyNet({ "conv.weight": { shape: [2, 3, 3, 3] } }), {
      ...STRIP,
      transforms: [{ op: "transpose", key: "conv.weight", perm: [1, 0, 2, 3] }],
    });
    expectTensor(permuted.weights.get("conv.weight")!, derived["conv.weight.permute(1,0,2,3)"]);
  });

  it("reports a shape mismatch with both shapes, the span and a hint", () => {
    const { weights, report } = load(tinyNet({ "head.weight": { shape: [4, 2] } }), STRIP);
    expect(weights.has("head.weight")).toBe(false);
    expect(report.shapeMismatch).toEqual([
      {
        path: "head.weight",
        key: "module.head.weight",
        source: report.sources[0],
        span: span(10),
        expected: [4, 2],
        actual: [2, 4],
      },
    ]);
    const [d] = reportDiagnostics(report, { allowMissing: true, allowUnexpected: true });
    expect(d).toMatchObject({ code: "NET6022", severity: "error", span: span(10) });
    expect(d.message).toContain("[4, 2]");
    expect(d.message).toContain("[2, 4]");
    expect(d.message).toContain("'module.head.weight'");
    expect(d.hint).toContain("transpose");
  });

  it("converts between float types implicitly, and reports it", () => {
    const declared = tinyNet();
    const { weights, report } = load(declared, { subdict: "ema" }, nested);
    expect(report.dtypeConverted).toHaveLength(10);
    expect(report.dtypeConverted[0]).toMatchObject({ from: "f16", to: "f32", lossy: false, explicit: false });
    const emaConv = nested.readTensor(nested.tensors.find((t) => t.key === "ema.conv.weight")!);
    expect(weights.get("conv.weight")).toEqual(castTensor(emaConv, "f32"));
    const notes = reportDiagnostics(report);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ code: "NET6024", severity: "note" });
    expect(notes[0].message).toContain("10 tensors converted from f16 to f32");
  });

  it("warns when an implicit conversion loses precision", () => {
    const declared = tinyNet({ "head.bias": { dtype: "f16" } });
    const { weights, report } = load(declared, STRIP);
    expect(weights.get("head.bias")?.dtype).toBe("f16");
    const [d] = reportDiagnostics(report);
    expect(d).toMatchObject({ code: "NET6024", severity: "warning", span: span(11) });
  });

  it("refuses an int/float mismatch unless a cast asks for it", () => {
    const declared = tinyNet({ "bn.num_batches_tracked": { dtype: "f32" } });
    const strict = load(declared, STRIP);
    expect(strict.report.dtypeMismatch).toHaveLength(1);
    expect(reportDiagnostics(strict.report)[0]).toMatchObject({ code: "NET6023", severity: "error", span: span(7) });

    const cast = load(declared, { ...STRIP, transforms: [{ op: "cast", key: "bn.num_batches_tracked" }] });
    expect(cast.report.dtypeMismatch).toEqual([]);
    expect(cast.report.dtypeConverted[0]).toMatchObject({ from: "i64", to: "f32", explicit: true });
    expect(cast.weights.get("bn.num_batches_tracked")).toEqual({
      dtype: "f32",
      shape: [],
      data: new Float32Array([0]),
    });
  });

  it("loads weights the forward never uses, and only notes them", () => {
    const declared = tinyNet({ "head.bias": { unused: true } });
    declared.push({ path: "spare.weight", dtype: "f32", shape: [1], unused: true, span: span(20) });
    const { weights, report } = load(declared, STRIP);
    expect(weights.has("head.bias")).toBe(true);
    expect(report.applied.find((a) => a.path === "head.bias")?.unused).toBe(true);
    const diagnostics = reportDiagnostics(report);
    expect(diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ["NET6020", "note"],
      ["NET6025", "note"],
    ]);
    expect(renderReport(report)).toContain("loaded but never used by the forward (1):\n    head.bias");
  });

  it("takes weights from several checkpoints, each under its prefix", () => {
    const declared = [...tinyNet(), ...tinyNet().map((d) => ({ ...d, path: `landmark.${d.path}` }))];
    const progress: [number, number][] = [];
    const { weights, report } = importWeights(
      declared,
      [
        { checkpoint: dataParallel, rules: STRIP },
        { checkpoint: nested, rules: { subdict: "model", prefix: "landmark." } },
      ],
      { onProgress: (done, total) => progress.push([done, total]) },
    );
    expect(reportDiagnostics(report)).toEqual([]);
    expect(weights.size).toBe(22);
    expect(report.applied.find((a) => a.path === "landmark.head.bias")?.source).toContain("['model']");
    expect(progress.at(-1)![0]).toBe(progress.at(-1)![1]);
    expect(progress.map(([done]) => done)).toEqual([...progress.map(([done]) => done)].sort((a, b) => a - b));
  });

  it("drops tensors by rule: reported as dropped, not unexpected; drop_mismatched only on a shape mismatch", () => {
    // The fine-tuning loader's pattern: pop some keys, delete one whose shape no longer fits, load the rest.
    const declared = tinyNet({ "conv.weight": { shape: [3, 4, 3, 3] } }).filter((d) => !d.path.startsWith("head."));
    const ruleSpan = span(50);
    const rules: MappingRules = {
      ...STRIP,
      transforms: [
        { op: "drop", key: "head\\..*", regex: true, span: ruleSpan },
        { op: "drop", key: "conv.weight", mismatched: true, span: span(51) },
        { op: "drop", key: "conv.bias", mismatched: true, span: span(52) },
      ],
    };
    const { weights, report } = load(declared, rules);
    expect(report.unexpected).toEqual([]);
    expect(report.dropped.map((d) => [d.key, d.rule])).toEqual([
      ["module.head.weight", 'drop_regex "head\\..*"'],
      ["module.head.bias", 'drop_regex "head\\..*"'],
      ["module.conv.weight", 'drop_mismatched "conv.weight"'],
    ]);
    expect(report.missing.map((m) => m.path)).toEqual(["conv.weight"]);
    expect(weights.has("conv.bias")).toBe(true); // its shape fits, so it stays
    const notes = reportDiagnostics(report, { allowMissing: true }).filter((d) => d.code === "NET6028");
    expect(notes.map((d) => [d.severity, d.span])).toEqual([
      ["note", ruleSpan],
      ["note", span(51)],
    ]);
    expect(notes[0].message).toContain("2 checkpoint tensors");
    expect(renderReport(report)).toContain(
      "dropped by rules (3):\n    module.head.weight (as head.weight)  f32 [2, 4]  by drop_regex",
    );
  });

  it("a drop that matches nothing is an error, like any transform", () => {
    const rules: MappingRules = {
      ...STRIP,
      transforms: [{ op: "drop", key: "landmark\\..*", regex: true, span: span(60) }],
    };
    expectDiagnostic(
      () => planWeights(tinyNet(), [{ checkpoint: dataParallel, rules }]),
      "NET6026",
      "matches no tensor",
    );
  });

  it("takes the first of several subdicts the checkpoint has", () => {
    const { report } = load(tinyNet(), { subdict: ["model_state_dict", "model"] }, nested);
    expect(report.sources).toEqual([`${fixture("nested.pth")} ['model']`]);
    expect(report.applied).toHaveLength(11);
    expectDiagnostic(
      () => planWeights(tinyNet(), [{ checkpoint: nested, rules: { subdict: ["weights", "params"] } }]),
      "NET6013",
      "'params'",
    );
  });

  it("names tensors relative to the prefix in renames and transforms; the prefix comes last", () => {
    const declared = tinyNet().map((d) => ({ ...d, path: `landmark.${d.path.replace(/^bn\./, "norm.")}` }));
    declared.find((d) => d.path === "landmark.qkv.bias")!.shape = [3, 4];
    const rules: MappingRules = {
      subdict: "model",
      prefix: "landmark.",
      rename: [{ from: "bn", to: "norm" }],
      transforms: [{ op: "reshape", key: "qkv.bias" }],
    };
    const { report } = load(declared, rules, nested);
    expect(reportDiagnostics(report)).toEqual([]);
    expect(report.applied.find((a) => a.path === "landmark.norm.running_var")).toMatchObject({
      key: "bn.running_var",
      steps: [],
    });
    expect(report.applied.find((a) => a.path === "landmark.qkv.bias")).toMatchObject({
      key: "qkv.bias",
      steps: ["reshape [3, 4]"],
    });
  });

  it("renders a report that names each key once: errors in full as diagnostics, the rest in the text", () => {
    const { report } = load(tinyNet({ "head.weight": { shape: [4, 2] } }), {
      ...STRIP,
      rename: [{ from: "bn", to: "norm" }],
    });
    const strict = renderReport(report);
    expect(strict.split("\n")[0]).toContain("5 applied, 5 missing, 5 unexpected, 1 shape mismatches");
    expect(strict).not.toContain("bn.weight");
    const diagnostics = reportDiagnostics(report);
    expect(diagnostics.find((d) => d.message.startsWith("weight 'bn.weight'"))?.hint).toBe(
      "the checkpoint's 'module.bn.weight' (mapped to 'norm.weight'): rename? `weights { rename \"norm\" -> \"bn\" }`",
    );
    expect(diagnostics.find((d) => d.code === "NET6022")?.message).toContain(
      "'head.weight' is declared [4, 2] but checkpoint tensor 'module.head.weight'",
    );

    const relaxed = { allowMissing: true, allowUnexpected: true };
    const text = renderReport(report, { strictness: relaxed });
    expect(text).toContain("missing, drawn at random (5):\n    bn.weight  f32 [3]");
    expect(text).toContain("module.bn.weight (as norm.weight)");
    const warnings = reportDiagnostics(report, relaxed).filter((d) => d.severity === "warning");
    expect(warnings.map((d) => d.message)).toEqual([
      `5 weights not in ${report.sources[0]}, drawn at random: bn.* (5)`,
      `5 checkpoint tensors of ${report.sources[0]} match no declared weight, ignored: norm.* (5)`,
    ]);
    expect(warnings[0].hint).toBe(
      "for 'bn.weight', the checkpoint's 'module.bn.weight' (mapped to 'norm.weight'): rename? `weights { " +
        'rename "norm" -> "bn" }`',
    );
  });

  it("summarises long lists: counts and the first lines by default, every line verbose, nothing quiet", () => {
    const declared: DeclaredWeight[] = tinyNet().map((d) => ({ ...d, unused: true }));
    const { report } = load(declared, STRIP);
    const summary = renderReport(report);
    expect(summary.split("\n")).toEqual([
      expect.stringContaining("11 applied"),
      "  renamed or transformed (11):",
      "    conv.weight <- module.conv.weight",
      "    conv.bias <- module.conv.bias",
      "    bn.weight <- module.bn.weight",
      "    bn.bias <- module.bn.bias",
      "    bn.running_mean <- module.bn.running_mean",
      "    ... and 6 more (--verbose lists them)",
      "  loaded but never used by the forward (11):",
      "    conv.weight  (tiny.net:1:3)",
      "    conv.bias  (tiny.net:2:3)",
      "    bn.weight  (tiny.net:3:3)",
      "    bn.bias  (tiny.net:4:3)",
      "    bn.running_mean  (tiny.net:5:3)",
      "    ... and 6 more (--verbose lists them)",
    ]);
    const verbose = renderReport(report, { verbosity: "verbose" });
    expect(verbose.split("\n")).toHaveLength(1 + 12 + 12);
    expect(verbose).not.toContain("more");
    expect(renderReport(report, { verbosity: "quiet" })).toBe("");
    // The note counts them by layer instead of listing them again.
    expect(reportDiagnostics(report).map((d) => d.message)).toEqual([
      "11 weights loaded but never used by the forward: conv.* (2), bn.* (5), qkv.* (2), head.* (2)",
    ]);
  });
});

describe("rules that match no key", () => {
  it("a strip or rename matching nothing is a warning at its line, with the closest name the checkpoint has", () => {
    const rules: MappingRules = {
      stripPrefix: [
        { prefix: "module.", span: span(40) },
        { prefix: "model.", span: span(41) },
      ],
      rename: [
        { from: "bnn", to: "norm", span: span(42) },
        { from: "^blocks\\.(\\d+)", to: "layers.$1", regex: true, span: span(43) },
        { from: "qkv", to: "qkv", span: span(44) },
      ],
    };
    const { report } = load(tinyNet(), rules);
    const sources = report.sources;
    expect(report.unmatchedRules).toEqual([
      { rule: "strip 'model.'", span: span(41), sources, closest: "module." },
      { rule: "rename 'bnn' -> 'norm'", span: span(42), sources, closest: "bn" },
      { rule: "rename_regex '^blocks\\.(\\d+)' -> 'layers.$1'", span: span(43), sources },
    ]);
    const warnings = reportDiagnostics(report).filter((d) => d.code === "NET6029");
    expect(warnings.map((d) => [d.severity, d.span, d.hint])).toEqual([
      ["warning", span(41), "did you mean 'module.'?"],
      ["warning", span(42), "did you mean 'bn'?"],
      ["warning", span(43), expect.stringContaining("netc weights inspect")],
    ]);
  });

  it("a rule that applies to several checkpoints warns only when it matches a key of none", () => {
    const declared = [...tinyNet(), ...tinyNet().map((d) => ({ ...d, path: `landmark.${d.path}` }))];
    const strip = { prefix: "module.", span: span(40) };
    const { report } = importWeights(declared, [
      { checkpoint: dataParallel, rules: { stripPrefix: [strip] } },
      { checkpoint: nested, rules: { subdict: "model", prefix: "landmark.", stripPrefix: [strip] } },
    ]);
    expect(report.unmatchedRules).toEqual([]);
    // A rule of one file's own set names that file only.
    const own = { prefix: "backbone.", span: span(45) };
    const { report: named } = importWeights(declared, [
      { checkpoint: dataParallel, rules: { stripPrefix: ["module."] } },
      { checkpoint: nested, rules: { subdict: "model", prefix: "landmark.", stripPrefix: [own] } },
    ]);
    expect(named.unmatchedRules).toEqual([{ rule: "strip 'backbone.'", span: span(45), sources: [named.sources[1]] }]);
  });
});

describe("rename hints for a missing weight", () => {
  const hintFor = (declared: DeclaredWeight[], rules: MappingRules, path: string, set?: string) =>
    planWeights(declared, [{ checkpoint: dataParallel, rules, ...(set ? { set } : {}) }]).report.missing.find(
      (m) => m.path === path,
    )?.suggestion;

  it("give the exact rule for a prefix to strip, a prefix to add, and one renamed segment", () => {
    expect(hintFor(tinyNet(), {}, "head.bias")).toBe(
      "the checkpoint has 'module.head.bias': rename? `weights { strip \"module.\" }`",
    );
    const nestedPaths = tinyNet().map((d) => ({ ...d, path: `model.${d.path}` }));
    expect(hintFor(nestedPaths, STRIP, "model.qkv.weight")).toBe(
      "the checkpoint's 'module.qkv.weight' (mapped to 'qkv.weight'): rename? `weights { rename \"qkv\" -> " +
        '"model.qkv" }`',
    );
    const renamed = tinyNet().map((d) => ({ ...d, path: d.path.replace(/^qkv\./, "attn.") }));
    expect(hintFor(renamed, STRIP, "attn.weight")).toBe(
      "the checkpoint's 'module.qkv.weight' (mapped to 'qkv.weight'): rename? `weights { rename \"qkv\" -> \"attn\" }`",
    );
  });

  it("say 'did you mean' for a misspelled layer, and name the weights block of a named file", () => {
    const typo = tinyNet().map((d) => ({ ...d, path: `landmark.${d.path.replace(/^head\./, "hed.")}` }));
    expect(hintFor(typo, { ...STRIP, prefix: "landmark." }, "landmark.hed.weight", "landmark")).toBe(
      "did you mean 'head'? the checkpoint's 'module.head.weight' (mapped to 'landmark.head.weight'): rename " +
        'the layer \'hed\', or map the checkpoint\'s name with `weights landmark { rename "head" -> "hed" }`',
    );
  });

  it("are not given for another weight of the same layer, another index, or another shape", () => {
    const declared = tinyNet().filter((d) => d.path !== "bn.running_mean");
    declared.push({ path: "bn.scale", dtype: "f32", shape: [3] }, { path: "conv.weight_v", dtype: "f32", shape: [9] });
    const { report } = planWeights(declared, [{ checkpoint: dataParallel, rules: STRIP }]);
    expect(report.missing.map((m) => [m.path, m.suggestion])).toEqual([
      ["bn.scale", undefined],
      ["conv.weight_v", undefined],
    ]);
  });
});

describe("mapping rules that cannot work", () => {
  const ruleSpan = span(99);
  const cases: [string, MappingRules, string, string][] = [
    [
      "an invalid regular expression",
      { rename: [{ from: "(", to: "x", regex: true, span: ruleSpan }] },
      "NET6026",
      "invalid regular expression",
    ],
    [
      "a transform that matches nothing",
      { transforms: [{ op: "transpose", key: "nope", span: ruleSpan }] },
      "NET6026",
      "matches no tensor",
    ],
    [
      "split sizes that do not add up",
      {
        ...STRIP,
        transforms: [{ op: "split", key: "qkv.weight", axis: 0, into: ["q", "k"], sizes: [4, 4], span: ruleSpan }],
      },
      "NET6026",
      "do not add up",
    ],
    [
      "an uneven split",
      { ...STRIP, transforms: [{ op: "split", key: "qkv.weight", axis: 1, into: ["a", "b", "c"], span: ruleSpan }] },
      "NET6026",
      "3 equal parts",
    ],
    [
      "a reshape to another size",
      { ...STRIP, transforms: [{ op: "reshape", key: "conv.bias", shape: [2, 2], span: ruleSpan }] },
      "NET6026",
      "cannot be reshaped",
    ],
    [
      "a bad permutation",
      { ...STRIP, transforms: [{ op: "transpose", key: "conv.weight", perm: [0, 0, 1, 2], span: ruleSpan }] },
      "NET6026",
      "not a permutation",
    ],
    [
      "a split axis out of range",
      { ...STRIP, transforms: [{ op: "split", key: "conv.bias", axis: 2, into: ["a"], span: ruleSpan }] },
      "NET6026",
      "axis 2",
    ],
  ];
  for (const [what, rules, code, fragment] of cases) {
    it(what, () => {
      const d = expectDiagnostic(() => planWeights(tinyNet(), [{ checkpoint: dataParallel, rules }]), code, fragment);
      expect(d.span).toEqual(ruleSpan);
    });
  }

  it("two checkpoint tensors renamed onto one path", () => {
    const rules: MappingRules = { ...STRIP, rename: [{ from: "^(conv|bn)\\.bias$", to: "shared.bias", regex: true }] };
    expectDiagnostic(
      () => planWeights(tinyNet(), [{ checkpoint: dataParallel, rules }]),
      "NET6027",
      "'module.conv.bias'",
      "'module.bn.bias'",
      "'shared.bias'",
    );
  });

  it("a weight declared twice", () => {
    expectDiagnostic(
      () => planWeights([...tinyNet(), tinyNet()[0]], [{ checkpoint: dataParallel, rules: STRIP }]),
      "NET6026",
      "declared twice",
    );
  });
});

describe("keys that are JavaScript property names", () => {
  it("maps '__proto__', 'constructor' and 'toString' like any other key", () => {
    const ckpt = openCheckpoint(fixture("proto_keys.pth"));
    try {
      const declared: DeclaredWeight[] = ["__proto__", "constructor", "toString"].map((path) => ({
        path,
        dtype: "f32",
        shape: [1],
      }));
      const { weights, report } = importWeights(declared, [{ checkpoint: ckpt, rules: { subdict: "model" } }]);
      expect(reportDiagnostics(report)).toEqual([]);
      expect([...weights.keys()]).toEqual(["__proto__", "constructor", "toString"]);
      expect(values(weights.get("toString")!)).toEqual([3]);
    } finally {
      ckpt.close();
    }
  });
});
