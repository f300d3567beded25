// `netc compile --external-data`: the model and its weights in two files, which onnxruntime-node runs with the
// outputs of the single-file model and python3-onnx's checker accepts (given the model's path); `--single-file`
// below 2 GiB is the default file; `--progress` draws lines even into a pipe.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runOnnx } from "../../src/backends/onnx/run.js";
import { viewModel } from "../helpers/model.js";
import { checkerTest, ModelBatch } from "../helpers/onnx-check.js";
import { runNetc } from "../helpers/cli.js";
import { random } from "../helpers/ir.js";

const MODEL = resolve(__dirname, "../../examples/tiny.net");
const dir = mkdtempSync(join(tmpdir(), "netc-external-"));
const batch = new ModelBatch();
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(batch.dir, { recursive: true, force: true });
});

const compile = (...args: string[]) => runNetc("compile", MODEL, "--set", "B=2", ...args);

describe("netc compile --external-data", () => {
  it("writes <output>.data beside the model; onnxruntime runs it with the single file's outputs", async () => {
    const single = join(dir, "single.onnx");
    const split = join(dir, "split.onnx");
    expect((await compile("-o", single)).code).toBe(0);
    const r = await compile("-o", split, "--external-data");
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`wrote ${split} and split.onnx.data`);
    expect(readdirSync(dir).sort()).toEqual(["single.onnx", "split.onnx", "split.onnx.data"]);
    const view = viewModel(readFileSync(split));
    const external = view.initializers.filter((t) => t.external);
    expect(external.length).toBeGreaterThan(0);
    for (const t of external) expect(t.externalData[0]).toEqual({ key: "location", value: "split.onnx.data" });
    expect(statSync(split).size).toBeLessThan(statSync(single).size / 5);
    const inputs = new Map([["frames", random("f32", [2, 8, 64], 7)]]);
    const [a, b] = [await runOnnx(single, inputs), await runOnnx(split, inputs)];
    expect(Array.from(b.get("logits")!.data as Float32Array)).toEqual(
      Array.from(a.get("logits")!.data as Float32Array),
    );
    batch.addFile(split);
  });

  it("takes a file name, and refuses one outside the model's folder", async () => {
    const sub = join(dir, "named");
    mkdirSync(sub);
    const target = join(sub, "m.onnx");
    expect((await compile("-o", target, "--external-data", "weights.bin")).code).toBe(0);
    expect(readdirSync(sub).sort()).toEqual(["m.onnx", "weights.bin"]);
    const outside = await compile("-o", target, "--external-data", "../escape.bin");
    expect(outside.code).toBe(1);
    expect(outside.err).toContain("NET8004");
    batch.addFile(target);
  });

  it("--single-file below 2 GiB writes the default file; --progress draws lines into a pipe", async () => {
    const plain = join(dir, "plain.onnx");
    const single = join(dir, "single-file.onnx");
    const quiet = await compile("-o", plain);
    expect(quiet.err).not.toContain("writing ONNX");
    const shown = await compile("-o", single, "--single-file", "--progress");
    expect(shown.code, shown.err).toBe(0);
    expect(readFileSync(single).equals(readFileSync(plain))).toBe(true);
    expect(shown.err).toMatch(/^writing ONNX\b.*\n/m);
    expect(shown.err).not.toContain("\r");
  });

  it("cannot be combined with --single-file", async () => {
    const r = await compile("-o", join(dir, "x.onnx"), "--external-data", "--single-file");
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("cannot be used with option '--single-file'");
  });

  checkerTest(batch);
});
