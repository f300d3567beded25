// Checkpoints as published training scripts and frameworks save them (tools/make_checkpoints.py, published_fixtures):
// DataParallel prefixes, optimizer state, a __main__ recorder holding numpy arrays, numpy scalars, argparse, and
// PyTorch Lightning's layout. Each compiles with --weights and gives the outputs torch computed.
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runOnnx } from "../../src/backends/onnx/index.js";
import { compile, type CompileOptions } from "../../src/index.js";
import { dataFromBytes, type DType, type HostTensor } from "../../src/util/tensor.js";
import { findStateDict, inspectCheckpoint, openCheckpoint } from "../../src/weights/index.js";
import { maxAbsDiff } from "../helpers/tensors.js";
import { expectDiagnostic, fixture, readJson, tempDir, type TensorRecord } from "./helpers.js";

/** SmallNet of tools/make_checkpoints.py; `rules` is the model's weights block. */
const source = (rules: string) => `import "std/nn.net"

model SmallNet()(x: f32[B, 4]) -> (y: f32[B, 3]) {
  layer fc1 = Linear(4, 8)
  layer norm = LayerNorm(8)
  layer fc2 = Linear(8, 3)
  weights {
    ${rules}
  }
  return fc2(norm(fc1(x)))
}
`;

const expected = readJson<{ input: TensorRecord; output: TensorRecord }>("published.expected.json");
const tensor = (r: TensorRecord): HostTensor => ({
  dtype: r.dtype as DType,
  shape: r.shape,
  data: dataFromBytes(r.dtype as DType, Buffer.from(r.hex, "hex")),
});

function build(file: string, rules: string, extra: Partial<CompileOptions> = {}) {
  return compile(source(rules), { file: "smallnet.net", weights: [fixture(file)], ...extra });
}

async function outputOf(r: ReturnType<typeof build>): Promise<HostTensor> {
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const out = await runOnnx(r.onnx!, new Map([["x", tensor(expected.input)]]), { threads: 1 });
  return out.get("y")!;
}

function inspect(name: string): string {
  const ckpt = openCheckpoint(fixture(name));
  try {
    return inspectCheckpoint(ckpt);
  } finally {
    ckpt.close();
  }
}

describe("a published training script's checkpoint", () => {
  for (const file of ["published.pth.tar", "published_legacy.pth.tar"]) {
    it(`${file}: compiles with --weights and gives torch's outputs`, async () => {
      const y = await outputOf(build(file, 'strip "module."'));
      expect(maxAbsDiff(y, tensor(expected.output))).toBeLessThan(1e-5);
    });
  }

  it("shows the whole tree: the recorder as an opaque object, numpy values as data, argparse as fields", () => {
    const lines = inspect("published.pth.tar").split("\n");
    expect(lines).toContain("state dict: 'state_dict' (6 tensors, 83 elements)");
    expect(lines).toContain(
      "  why: the only dict whose values are all tensors (training state at 'optimizer' left aside)",
    );
    expect(lines).toContain(
      "  keys: every key starts with 'module.'; a model without the wrapper takes them with weights { strip " +
        `"module." }`,
    );
    expect(lines).toContain("best_acc: 40.5");
    expect(lines).toContain("steps: 12");
    expect(lines).toContain("flags: ndarray bool [2] [True, False]");
    expect(lines).toContain("recorder: <opaque __main__.RecorderMeter>");
    expect(lines).toContain("  total_epoch: 4");
    expect(lines).toContain("  epoch_losses: ndarray float32 [4, 2] [1.25, 1.5, 0, 0, 0, 0, 0, 0]");
    expect(lines).toContain("args: argparse.Namespace");
    expect(lines).toContain('  arch: "smallnet"');
    expect(lines).toContain("      momentum_buffer  f32 [8, 4]");
  });
});

describe("a PyTorch Lightning checkpoint", () => {
  it("takes 'state_dict', leaving callback states with tensors aside, and gives torch's outputs", async () => {
    const ckpt = openCheckpoint(fixture("lightning.ckpt"));
    try {
      const sd = findStateDict(ckpt);
      expect(sd.path).toBe("state_dict");
      expect(sd.reason).toBe("the only dict whose values are all tensors (training state at 'callbacks' left aside)");
    } finally {
      ckpt.close();
    }
    const y = await outputOf(build("lightning.ckpt", 'strip "model."'));
    expect(maxAbsDiff(y, tensor(expected.output))).toBeLessThan(1e-5);
  });

  it("shows hyper-parameters that hold Python objects as opaque, with what the pickle recorded", () => {
    const text = inspect("lightning.ckpt");
    expect(text).toContain("  norm_layer: <opaque functools.partial(...)>");
    expect(text).toContain("      0: <opaque torch.nn.modules.normalization.LayerNorm>");
    expect(text).toContain("        eps: 0.000001");
    expect(text).toContain("  keys: every key starts with 'model.'");
  });
});

it("a checkpoint of Python objects and no tensors: NET6013 says what it holds instead", () => {
  const ckpt = openCheckpoint(fixture("objects_only.pth"));
  try {
    const d = expectDiagnostic(() => findStateDict(ckpt), "NET6013", "no dict of tensors found");
    expect(d.hint).toBe(
      "it holds Python objects netc does not rebuild (__main__.RecorderMeter at 'net'); save model.state_dict() " +
        "instead of the objects",
    );
  } finally {
    ckpt.close();
  }
});

describe("a model pickled whole (torch.save(model))", () => {
  it("takes the module's parameters and buffers under their state_dict() names, nothing constructed", async () => {
    const ckpt = openCheckpoint(fixture("whole_model.pth"));
    try {
      const sd = findStateDict(ckpt);
      expect([...sd.tensors.keys()]).toEqual([
        "fc1.weight",
        "fc1.bias",
        "norm.weight",
        "norm.bias",
        "fc2.weight",
        "fc2.bias",
      ]);
      expect(sd.reason).toBe("an nn.Module pickled whole (__main__.SmallNet), named as its state_dict() names them");
    } finally {
      ckpt.close();
    }
    const y = await outputOf(build("whole_model.pth", ""));
    expect(maxAbsDiff(y, tensor(expected.output))).toBeLessThan(1e-5);
  });

  it("wrapped in DataParallel: the wrapper's prefix, as its state_dict() has it", async () => {
    expect(inspect("whole_model_parallel.pth")).toContain("  keys: every key starts with 'module.'");
    const y = await outputOf(build("whole_model_parallel.pth", 'strip "module."'));
    expect(maxAbsDiff(y, tensor(expected.output))).toBeLessThan(1e-5);
  });
});

describe("tensors that depend on opaque objects", () => {
  it("load when the model does not need them (reported as unexpected, like any extra tensor)", async () => {
    const r = build("opaque_tensor.pth", "", { allowUnexpected: true });
    expect(r.diagnostics.some((d) => d.code === "NET6021" && d.message.includes("extra"))).toBe(true);
    const y = await outputOf(r);
    expect(maxAbsDiff(y, tensor(expected.output))).toBeLessThan(1e-5);
    expect(inspect("opaque_tensor.pth")).toContain(
      "  extra        <tensor made by opaque __main__.WeirdStorage> [2, 2]",
    );
  });

  it("fail when the model needs one, naming the key path, the weight and the global", () => {
    const r = build("opaque_needed.pth", "");
    const errors = r.diagnostics.filter((d) => d.severity === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0].code).toBe("NET6018");
    expect(errors[0].message).toContain("tensor 'state_dict.fc1.bias', which the weight 'fc1.bias' needs,");
    expect(errors[0].message).toContain(
      "depends on the Python global '__main__.WeirdStorage', which netc does not run",
    );
    expect(errors[0].span).toBeDefined();
    expect(r.onnx).toBeUndefined();
  });

  it("an attack where a storage belongs refuses the whole file, and runs nothing", () => {
    const r = build("evil_storage.pth", "");
    expect(r.diagnostics.map((d) => d.code)).toEqual(["NET6007"]);
    expect(r.diagnostics[0].message).toContain("'posix.system'");
    expect(r.diagnostics[0].message).toContain("nothing was executed");
  });
});

describe("sharded checkpoints (an index beside its shards)", () => {
  for (const index of ["model.safetensors.index.json", "pytorch_model.bin.index.json"]) {
    it(`${index}: compiles as one state dict and gives torch's outputs`, async () => {
      const y = await outputOf(build(`sharded/${index}`, ""));
      expect(maxAbsDiff(y, tensor(expected.output))).toBeLessThan(1e-5);
      const text = inspect(`sharded/${index}`);
      expect(text).toMatch(/^.*: sharded (safetensors|torch) checkpoint, [\d.]+ (kB|bytes), 6 tensors, 83 elements$/m);
      expect(text).toContain("  why: the shards' tensors, as the index lists them");
      expect(text).toMatch(
        /^shard (model|pytorch_model)-00001-of-00002\.(safetensors|bin): 3 tensors, [\d.]+ (kB|bytes)$/m,
      );
    });
  }

  const dir = tempDir();
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const SHARDS = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
  const good = JSON.parse(fs.readFileSync(fixture("sharded/model.safetensors.index.json"), "utf8")) as {
    weight_map: Record<string, string>;
  };

  /** An index beside copies of the shards (and a third, a copy of the first), in a folder of its own. */
  function index(edit: (map: Record<string, string>) => void, text?: string): string {
    const folder = fs.mkdtempSync(path.join(dir, "idx-"));
    for (const s of SHARDS) fs.copyFileSync(fixture(`sharded/${s}`), path.join(folder, s));
    fs.copyFileSync(fixture(`sharded/${SHARDS[0]}`), path.join(folder, "copy.safetensors"));
    const map = { ...good.weight_map };
    edit(map);
    const file = path.join(folder, "model.safetensors.index.json");
    fs.writeFileSync(file, text ?? JSON.stringify({ metadata: {}, weight_map: map }));
    return file;
  }

  const cases: [string, string, () => string, string[]][] = [
    [
      "a shard in a parent folder",
      "NET6019",
      () => index((m) => (m["fc1.bias"] = `../${SHARDS[0]}`)),
      ["shard '../model-00001-of-00002.safetensors' lies outside the index's folder"],
    ],
    [
      "an absolute shard path",
      "NET6019",
      () => index((m) => (m["fc1.bias"] = "/etc/passwd")),
      ["shard '/etc/passwd' lies outside"],
    ],
    [
      "a key its shard does not hold",
      "NET6019",
      () => index((m) => (m["fc1.bias"] = SHARDS[1])),
      ["puts tensor 'fc1.bias' in shard 'model-00002-of-00002.safetensors', which does not hold it"],
    ],
    [
      "a shard tensor the index does not list",
      "NET6019",
      () => index((m) => delete m["fc1.bias"]),
      ["holds tensor 'fc1.bias', which the index does not list there"],
    ],
    [
      "one key in two shards",
      "NET6019",
      () => index((m) => (m["fc1.bias"] = "copy.safetensors")),
      ["is in shard 'model-00001-of-00002.safetensors' and in shard 'copy.safetensors'"],
    ],
    ["a missing shard", "NET6001", () => index((m) => (m["fc1.bias"] = "gone.safetensors")), ["gone.safetensors"]],
    ["an index that is not JSON", "NET6019", () => index(() => undefined, "{"), ["not valid JSON"]],
    [
      "an index without a weight_map",
      "NET6019",
      () => index(() => undefined, '{"metadata": {}}'),
      ['no "weight_map" object'],
    ],
    [
      "an index naming 10,001 shards",
      "NET6017",
      () =>
        index((m) => {
          for (let i = 0; i <= 10_000; i++) m[`k${i}`] = `shard-${i}.safetensors`;
        }),
      ["names more than 10,000 shard files"],
    ],
  ];
  for (const [what, code, make, fragments] of cases) {
    it(`refuses ${what} (${code})`, () => {
      const file = make();
      expectDiagnostic(() => openCheckpoint(file).close(), code, ...fragments);
    });
  }

  it("an index key such as '__proto__' stays a key", () => {
    const file = index((m) => Object.defineProperty(m, "__proto__", { value: SHARDS[0], enumerable: true }));
    expectDiagnostic(() => openCheckpoint(file), "NET6019", "puts tensor '__proto__' in shard");
    expect(({} as Record<string, unknown>)["fc1.weight"]).toBeUndefined();
  });

  it("a shard linked from outside the folder is refused", () => {
    const file = index(() => undefined);
    const outside = fs.mkdtempSync(path.join(dir, "outside-"));
    const target = path.join(path.dirname(file), SHARDS[1]);
    fs.renameSync(target, path.join(outside, SHARDS[1]));
    fs.symlinkSync(path.join(outside, SHARDS[1]), target);
    expectDiagnostic(() => openCheckpoint(file), "NET6019", "links outside the index's folder");
  });
});
