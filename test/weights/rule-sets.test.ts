// Named `weights <name> { ... }` sets in a model: each file given as `name=file` takes its own rules and prefix.
import { describe, expect, it } from "vitest";
import { compile, type CompileOptions } from "../../src/index.js";
import { fixture } from "./helpers.js";

/** TinyNet's weights (tools/make_checkpoints.py) twice: `net` from the unnamed file, `landmark` from another. */
const SOURCE = `import "std/nn.net"

block TinyNet()(x: f32[B, 2, 5, 5]) -> f32[B, 2] {
  layer conv = Conv(2, 3, [3, 3])
  layer bn = BatchNorm(3)
  layer qkv = Linear(4, 12)
  layer head = Linear(4, 2)
  let y = mean(bn(conv(x)), [2, 3])
  return head(concat([y, y[:, :1]], axis = 1))
}

model M()(x: f32[B, 2, 5, 5]) -> (y: f32[B, 2], z: f32[B, 2]) {
  layer net = TinyNet()
  layer landmark = TinyNet()
  weights {
    subdict "state_dict"
    strip "module."
    prefix "net"
  }
  weights landmark {
    subdict "model"
  }
  weights pretrained {
    prefix "net"
    subdict "model_state_dict", "model"
    drop_regex "head\\\\..*"
    drop_mismatched "conv.weight"
  }
  return (net(x), landmark(x))
}
`;

const build = (weights: string[], extra: Partial<CompileOptions> = {}) =>
  compile(SOURCE, { file: "sets.net", weights, ...extra });
const errors = (r: ReturnType<typeof build>) => r.diagnostics.filter((d) => d.severity === "error");

describe("named weights sets", () => {
  it("applies the unnamed set to plain files and `weights landmark` to landmark=file, each under its prefix", () => {
    const r = build([fixture("dataparallel.pth.tar"), `landmark=${fixture("nested.pth")}`]);
    expect(errors(r)).toEqual([]);
    const report = r.weightReport!;
    expect(report.applied).toHaveLength(22);
    expect(report.unexpected).toEqual([]);
    expect(report.applied.find((a) => a.path === "net.bn.running_var")).toMatchObject({ key: "module.bn.running_var" });
    expect(report.applied.find((a) => a.path === "landmark.bn.running_var")).toMatchObject({
      key: "bn.running_var",
      source: `${fixture("nested.pth")} ['model']`,
    });
    expect(
      report.applied
        .filter((a) => a.unused)
        .map((a) => a.path)
        .sort(),
    ).toEqual([
      "landmark.bn.num_batches_tracked",
      "landmark.qkv.bias",
      "landmark.qkv.weight",
      "net.bn.num_batches_tracked",
      "net.qkv.bias",
      "net.qkv.weight",
    ]);
    expect(r.onnx).toBeDefined();
  });

  it("a set with its own prefix, subdict alternatives and drops; what it leaves out is reported, not hidden", () => {
    const strict = build([`pretrained=${fixture("nested.pth")}`, `landmark=${fixture("nested.pth")}`]);
    const report = strict.weightReport!;
    expect(report.sources[0]).toBe(`${fixture("nested.pth")} ['model']`);
    expect(report.dropped.map((d) => [d.key, d.rule])).toEqual([
      ["head.weight", 'drop_regex "head\\..*"'],
      ["head.bias", 'drop_regex "head\\..*"'],
    ]);
    expect(report.missing.map((m) => m.path)).toEqual(["net.head.weight", "net.head.bias"]);
    expect(errors(strict).map((d) => d.code)).toEqual(["NET6020", "NET6020"]);
    const relaxed = build([`pretrained=${fixture("nested.pth")}`, `landmark=${fixture("nested.pth")}`], {
      allowMissing: true,
    });
    expect(errors(relaxed)).toEqual([]);
    expect(relaxed.diagnostics.filter((d) => d.code === "NET6028")).toHaveLength(1);
  });

  it("a name without a set is only a prefix, as before", () => {
    const r = build([`other=${fixture("dataparallel.pth.tar")}`], { allowMissing: true, allowUnexpected: true });
    expect(errors(r)).toEqual([]);
    const { unexpected, missing, applied } = r.weightReport!;
    expect(applied).toEqual([]);
    expect(unexpected.map((u) => u.name)).toContain("other.module.conv.weight");
    expect(unexpected.every((u) => u.name === `other.${u.key}`)).toBe(true);
    expect(missing).toHaveLength(22);
  });

  it("reports a bad rule of a named set at its line", () => {
    const bad = SOURCE.replace('    subdict "model"\n  }', '    subdict "model"\n    prefix "a"\n    prefix "b"\n  }');
    const r = compile(bad, { file: "sets.net", weights: [`landmark=${fixture("nested.pth")}`] });
    const [d] = errors(r);
    expect(d).toMatchObject({ code: "NET6026", message: "prefix is given twice" });
    expect(d.span?.line).toBe(bad.split("\n").findIndex((l) => l.includes('prefix "b"')) + 1);
  });
});
