// netc export triton: the repository layout, and config.pbtxt parsed against Triton's own schema
// (test/fixtures/triton/model_config.proto compiled by protoc; python3-protobuf's text_format rejects unknown
// fields, wrong types and bad enum values).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { batchSymbol, tritonConfig } from "../../src/export/triton/config.js";
import { runNetc } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "netc-triton-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PYTHON = "/usr/bin/python3";
const protoc = spawnSync("protoc", ["--version"]).status === 0;
const protobuf = spawnSync(PYTHON, ["-c", "from google.protobuf import text_format"]).status === 0;
const schemaReady = protoc && protobuf;
const MISSING = " (skipped: apt-get install protobuf-compiler python3-protobuf)";

/** config.pbtxt parsed as a ModelConfig and printed back as JSON (proto field names), or the parser's error. */
function parseConfig(path: string): { config?: Record<string, unknown>; error?: string } {
  const out = join(dir, "pb");
  if (!existsSync(join(out, "model_config_pb2.py"))) {
    mkdirSync(out, { recursive: true });
    const fixtures = resolve("test/fixtures/triton");
    const gen = spawnSync(
      "protoc",
      [`--proto_path=${fixtures}`, `--python_out=${out}`, join(fixtures, "model_config.proto")],
      { encoding: "utf8" },
    );
    if (gen.status !== 0) throw new Error(gen.stderr);
  }
  const script = `
import sys, json
sys.path.insert(0, sys.argv[1])
import model_config_pb2
from google.protobuf import text_format, json_format
try:
    config = text_format.Parse(open(sys.argv[2]).read(), model_config_pb2.ModelConfig())
except text_format.ParseError as e:
    print(json.dumps({"error": str(e)})); sys.exit(0)
print(json.dumps({"config": json_format.MessageToDict(config, preserving_proto_field_name=True)}))
`;
  const run = spawnSync(PYTHON, ["-c", script, out, path], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as { config?: Record<string, unknown>; error?: string };
}

describe("netc export triton", () => {
  const repo = join(dir, "model_repository");
  mkdirSync(repo);

  it("writes config.pbtxt, 1/model.onnx and labels.txt for a model with a symbolic batch", async () => {
    const r = await runNetc("export", "triton", "examples/tiny-video.net", "-o", repo);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(repo, "tiny-video", "1", "model.onnx"))).toBe(true);
    expect(readFileSync(join(repo, "tiny-video", "labels.txt"), "utf8").split("\n")[0]).toBe("happy");
  });

  it("replaces a model folder it wrote, and refuses one it did not", async () => {
    expect((await runNetc("export", "triton", "examples/tiny-video.net", "-o", repo, "--instance", "cpu")).code).toBe(
      0,
    );
    expect(readFileSync(join(repo, "tiny-video", "config.pbtxt"), "utf8")).toContain("kind: KIND_CPU");
    mkdirSync(join(repo, "someone"));
    writeFileSync(join(repo, "someone", "config.pbtxt"), 'name: "someone"\n');
    const r = await runNetc("export", "triton", "examples/tiny-video.net", "-o", repo, "--name", "someone");
    expect(r.code).toBe(1);
    expect(r.err).toContain("NET8009");
    expect(readFileSync(join(repo, "someone", "config.pbtxt"), "utf8")).toBe('name: "someone"\n');
  });

  it.skipIf(!schemaReady)(
    `config.pbtxt is a valid ModelConfig with the model's tensors, batching and ` +
      `preprocessing${schemaReady ? "" : MISSING}`,
    async () => {
      expect((await runNetc("export", "triton", "examples/tiny-video.net", "-o", repo, "--max-batch", "16")).code).toBe(
        0,
      );
      const { config, error } = parseConfig(join(repo, "tiny-video", "config.pbtxt"));
      expect(error).toBeUndefined();
      expect(config).toMatchObject({
        name: "tiny-video",
        backend: "onnxruntime",
        max_batch_size: 16,
        input: [{ name: "video", data_type: "TYPE_FP32", dims: ["3", "8", "32", "32"] }],
        output: [{ name: "logits", data_type: "TYPE_FP32", dims: ["7"], label_filename: "labels.txt" }],
        instance_group: [{ count: 1, kind: "KIND_GPU" }],
        dynamic_batching: { preferred_batch_size: [8, 16] },
      });
      const parameters = config!.parameters as Record<string, { string_value: string }>;
      expect(JSON.parse(parameters["netc.preprocess"].string_value)).toMatchObject({
        frames: 8,
        resize: [32, 32],
        mean: [0.5, 0.5, 0.5],
      });
      expect(parameters["preprocess.sampling"].string_value).toBe("segment-middle");
    },
  );

  it.skipIf(!schemaReady)(`the schema check rejects what Triton would reject${schemaReady ? "" : MISSING}`, () => {
    const bad = join(dir, "bad.pbtxt");
    writeFileSync(bad, 'name: "x"\nmax_batch_size: 8\ninput [ { name: "v" data_type: TYPE_FLOAT32 dims: [ 3 ] } ]\n');
    expect(parseConfig(bad).error).toContain("TYPE_FLOAT32");
    writeFileSync(bad, 'name: "x"\nmax_batch: 8\n');
    expect(parseConfig(bad).error).toContain("max_batch");
  });

  it.skipIf(!schemaReady)(`non-ASCII names and quotes survive the text format${schemaReady ? "" : MISSING}`, () => {
    const path = join(dir, "odd.pbtxt");
    const model = {
      name: 'm"é\\',
      inputs: [{ name: "x", dtype: "f32" as const, shape: [2, 3] }],
      outputs: [{ name: "y", dtype: "f32" as const, shape: [2] }],
      maxBatch: 4,
      instance: "cpu" as const,
    };
    expect(batchSymbol(model)).toBeUndefined();
    writeFileSync(path, tritonConfig(model));
    const { config, error } = parseConfig(path);
    expect(error).toBeUndefined();
    expect(config).toMatchObject({
      name: 'm"é\\',
      input: [{ dims: ["2", "3"] }],
      instance_group: [{ kind: "KIND_CPU" }],
    });
    expect(config!.max_batch_size).toBeUndefined(); // 0, the proto3 default, is not printed: no batching
    expect(config!.dynamic_batching).toBeUndefined();
  });

  it.skipIf(!schemaReady)(
    `a repository for IFDD validates against the schema${schemaReady ? "" : MISSING}`,
    async () => {
      const r = await runNetc("export", "triton", "models/ifdd.net", "-o", repo, "--quiet");
      expect(r.code, r.err).toBe(0);
      const { config, error } = parseConfig(join(repo, "ifdd", "config.pbtxt"));
      expect(error).toBeUndefined();
      expect(config).toMatchObject({
        name: "ifdd",
        max_batch_size: 8,
        input: [{ name: "video", data_type: "TYPE_FP32", dims: ["3", "16", "224", "224"] }],
        output: [{ name: "logits", data_type: "TYPE_FP32", dims: ["7"], label_filename: "labels.txt" }],
      });
      const parameters = config!.parameters as Record<string, { string_value: string }>;
      expect(JSON.parse(parameters["netc.preprocess"].string_value)).toMatchObject({
        frames: 16,
        sampling: "windows",
        interpolation: "bicubic",
        clamp: true,
      });
    },
    240_000,
  );
});
