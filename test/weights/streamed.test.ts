// Weights streamed from a checkpoint into the output: the same files as with the weights loaded first, nothing read
// before writing, and a checkpoint cut short after it was opened (a late tensor gone) is a diagnostic with no output.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomParam } from "../../src/compiler/ir/bind-params.js";
import { importWeights } from "../../src/api.js";
import { compileToGraph } from "../../src/driver.js";
import { emitToDisk, prepare } from "../../src/pipeline.js";
import { isLazyTensor, type LazyTensor } from "../../src/util/lazy-tensor.js";
import { writeSafetensors } from "../../src/weights/safetensors.js";
import { runNetc } from "../helpers/cli.js";

const SOURCE = `import "std/nn.net"

model Streamed(width: int = 256)(x: f32[B, width]) -> (y: f32[B, width]) {
  layer fc1 = Linear(width, width)
  layer fc2 = Linear(width, width)
  return fc2(relu(fc1(x)))
}
`;

let dir: string;
let model: string;
let checkpoint: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "netc-streamed-"));
  model = join(dir, "mlp.net");
  writeFileSync(model, SOURCE);
  checkpoint = join(dir, "mlp.safetensors");
  const graph = compileToGraph(SOURCE, { file: model }).graph!;
  writeSafetensors(checkpoint, new Map(graph.params.map((p) => [p.path, randomParam(p, 5)])));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = () => ({ file: model, weights: [checkpoint] });

describe("weights streamed from a checkpoint", () => {
  it("are lazy until written, and give the file that loading them first gives", () => {
    const streamed = prepare(SOURCE, { ...options(), streamWeights: true });
    expect([...streamed.weights!.values()].every(isLazyTensor)).toBe(true);
    const loaded = prepare(SOURCE, options());
    expect([...loaded.weights!.values()].some(isLazyTensor)).toBe(false);
    const out = (name: string) => join(dir, name);
    expect(emitToDisk({ ...streamed, graph: streamed.graph! }, out("streamed.onnx"), {}).diagnostics).toEqual([]);
    expect(emitToDisk({ ...loaded, graph: loaded.graph! }, out("loaded.onnx"), {}).diagnostics).toEqual([]);
    expect(readFileSync(out("streamed.onnx")).equals(readFileSync(out("loaded.onnx")))).toBe(true);
    rmSync(out("streamed.onnx"));
    rmSync(out("loaded.onnx"));
  });

  it("stop at a checkpoint cut short while they are written: NET6050, and no output at all", () => {
    const copy = join(dir, "cut.safetensors");
    const before = readdirSync(dir).sort();
    for (const externalData of [undefined, "mlp.onnx.data"]) {
      writeFileSync(copy, readFileSync(checkpoint));
      const prepared = prepare(SOURCE, { file: model, weights: [copy], streamWeights: true });
      expect(prepared.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      // The file loses its last 100 bytes when the last weight is about to be read, after the others were written.
      const reads: string[] = [];
      const last = prepared.graph!.params.at(-1)!.path;
      const weights = new Map(
        [...prepared.weights!].map(([path, t]) => {
          const lazy = t as LazyTensor;
          const read = () => {
            reads.push(path);
            if (path === last) truncateSync(copy, statSync(copy).size - 100);
            return lazy.read();
          };
          return [path, { ...lazy, read }];
        }),
      );
      // On the writer's thread (the read-ahead threads read the file themselves: test/onnx/read-ahead.test.ts).
      const r = emitToDisk({ ...prepared, graph: prepared.graph!, weights }, join(dir, "mlp.onnx"), {
        externalData,
        readAhead: { threads: 0 },
      });
      expect(reads.length).toBe(prepared.graph!.params.length);
      expect(reads.at(-1)).toBe(last);
      expect(r.diagnostics.map((d) => d.code)).toEqual(["NET6050"]);
      expect(r.diagnostics[0].message).toContain("cut.safetensors changed while netc was reading it");
      expect(readdirSync(dir).sort()).toEqual([...before, "cut.safetensors"].sort());
    }
    rmSync(copy);
  });

  it("through the command line: a checkpoint cut before the compile is NET6003, and nothing is written", async () => {
    const copy = join(dir, "short.safetensors");
    writeFileSync(copy, readFileSync(checkpoint).subarray(0, statSync(checkpoint).size - 100));
    const target = join(dir, "short.onnx");
    const r = await runNetc("compile", model, "--weights", copy, "-o", target, "--external-data");
    expect(r.code).toBe(1);
    expect(r.err).toContain("NET6003");
    expect(readdirSync(dir).filter((f) => f.startsWith("short.onnx"))).toEqual([]);
  });

  it("through `netc weights import`, give the file the loaded weights give", async () => {
    const streamed = join(dir, "imported.safetensors");
    const r = await runNetc("weights", "import", checkpoint, "--model", model, "-o", streamed);
    expect(r.code, r.err).toBe(0);
    // The library's importWeights loads every tensor first.
    const expected = join(dir, "expected.safetensors");
    expect(importWeights(SOURCE, [checkpoint], { file: model, output: expected }).diagnostics).toEqual([]);
    expect(readFileSync(streamed).equals(readFileSync(expected))).toBe(true);
  });
});
