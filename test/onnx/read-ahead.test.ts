// The threads that make weights ahead of the ONNX writer: the bytes each tensor's own read gives (seeded draws cut
// into pieces, checkpoint ranges, tensors without a recipe), the same files as with no thread, in any window, and a
// checkpoint cut short while they read ahead is the usual diagnostic with no output. (Memory: stream-memory.test.ts
// compiles with them, as netc does by default.)
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomParam } from "../../src/compiler/ir/bind-params.js";
import { compileToGraph } from "../../src/driver.js";
import { emitToDisk, prepare } from "../../src/pipeline.js";
import { heldTensor, lazyTensor, type LazyTensor } from "../../src/util/lazy-tensor.js";
import { readAhead, type ReadAheadOptions } from "../../src/util/read-ahead.js";
import { bytesOf } from "../../src/util/tensor.js";
import { writeSafetensors } from "../../src/weights/safetensors.js";
import { drawn } from "./read-ahead/helpers.js";

const dir = mkdtempSync(join(tmpdir(), "netc-read-ahead-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Ranges of a file of known bytes, read the ordinary way, with the recipe the workers follow. */
function ranges(file: string, cuts: readonly [number, number][]): LazyTensor[] {
  const { size, mtimeMs } = statSync(file);
  return cuts.map(([position, n]) =>
    lazyTensor(
      "f32",
      [n / 4],
      () => {
        const data = new Float32Array(readFileSync(file).buffer.slice(position, position + n));
        return { dtype: "f32", shape: [n / 4], data };
      },
      { kind: "file", path: file, position, size, mtimeMs },
    ),
  );
}

describe("readAhead", () => {
  let tensors: LazyTensor[];
  beforeAll(() => {
    const file = join(dir, "bytes.bin");
    writeFileSync(
      file,
      Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 7919) % 251),
    );
    tensors = [
      drawn("a", 1, "f32"),
      drawn("b", 600_001, "f32"), // odd, and cut into three pieces (2^18 values each)
      heldTensor({ dtype: "i64", shape: [3], data: new BigInt64Array([1n, -2n, 3n]) }),
      ...ranges(file, [
        [0, 4096],
        [12, 400_000],
        [(1 << 20) - 8, 8],
      ]),
      drawn("c", 70_000, "f64"),
      drawn("d", 300_000, "f32"),
      lazyTensor("f16", [5], () => randomParam({ path: "e", dtype: "f16", shape: [5] }, 3)),
      drawn("f", 2, "f32"),
    ];
  });

  const settings: [string, ReadAheadOptions][] = [
    ["one thread, a window of two tensors", { threads: 1, windowBytes: 1 }],
    ["three threads, a window of two tensors", { threads: 3, windowBytes: 1 }],
    ["three threads, the default window", { threads: 3 }],
  ];
  it.each(settings)("with %s, gives the bytes of each tensor's own read", (_, options) => {
    const ahead = readAhead(tensors, options);
    try {
      tensors.forEach((t, i) => {
        expect(Buffer.from(ahead.bytes(i)).equals(Buffer.from(bytesOf(t.read()))), `tensor ${i}`).toBe(true);
      });
      // Asked again, or out of order: made on this thread, still right.
      expect(Buffer.from(ahead.bytes(1)).equals(Buffer.from(bytesOf(tensors[1].read())))).toBe(true);
      expect(ahead.report().unavailable).toBeUndefined();
    } finally {
      ahead.close();
    }
  });

  it("skipping tensors, still gives the right bytes for the ones asked", () => {
    const ahead = readAhead(tensors, { threads: 2, windowBytes: 1 });
    try {
      for (const i of [1, 4, 8])
        expect(Buffer.from(ahead.bytes(i)).equals(Buffer.from(bytesOf(tensors[i].read())))).toBe(true);
    } finally {
      ahead.close();
    }
  });
});

const WIDTH = 768; // 589,824 values a weight: three drawing pieces
const LAYERS = 6;
const SOURCE = `import "std/nn.net"

model Deep()(x: f32[B, ${WIDTH}]) -> (y: f32[B, ${WIDTH}]) {
${Array.from({ length: LAYERS }, (_, i) => `  layer fc${i} = Linear(${WIDTH}, ${WIDTH})`).join("\n")}
  return ${Array.from({ length: LAYERS }, (_, i) => `fc${i}(`).join("")}x${")".repeat(LAYERS)}
}
`;

describe("writing a model with threads making its weights", () => {
  const model = join(dir, "deep.net");
  const checkpoint = join(dir, "deep.safetensors");
  beforeAll(() => {
    writeFileSync(model, SOURCE);
    const graph = compileToGraph(SOURCE, { file: model }).graph!;
    writeSafetensors(checkpoint, new Map(graph.params.map((p) => [p.path, randomParam(p, 9)])));
  });

  const write = (name: string, readAhead: ReadAheadOptions, weights?: string, externalData?: string) => {
    const prepared = prepare(SOURCE, { file: model, weights: weights ? [weights] : undefined, streamWeights: true });
    const out = join(dir, name);
    const r = emitToDisk({ ...prepared, graph: prepared.graph! }, out, { readAhead, externalData });
    expect(r.diagnostics).toEqual([]);
    const files = [readFileSync(out), ...(externalData ? [readFileSync(join(dir, externalData))] : [])];
    rmSync(out);
    if (externalData) rmSync(join(dir, externalData));
    return Buffer.concat(files);
  };

  it.each([
    ["random weights", undefined, undefined],
    ["random weights, external data", undefined, "w.data"],
    ["a checkpoint", checkpoint, undefined],
    ["a checkpoint, external data", checkpoint, "w.data"],
  ])("with %s, writes the bytes a single thread writes", (_, weights, externalData) => {
    const alone = write("alone.onnx", { threads: 0 }, weights, externalData);
    expect(alone.byteLength).toBeGreaterThan(LAYERS * WIDTH * WIDTH * 4);
    for (const options of [{ threads: 3, windowBytes: 1 }, { threads: 2 }])
      expect(write("pooled.onnx", options, weights, externalData).equals(alone)).toBe(true);
  });

  it("stops at a checkpoint cut short while the threads read ahead: NET6050, and no output at all", () => {
    const copy = join(dir, "cut.safetensors");
    writeFileSync(copy, readFileSync(checkpoint));
    const before = readdirSync(dir).sort();
    const prepared = prepare(SOURCE, { file: model, weights: [copy], streamWeights: true });
    expect(prepared.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    let cut = false;
    // A third of the way in the file loses its last 100 bytes; the ring holds two weights, so later ones are read
    // (by the threads, which see the change, then by the writer's thread, which reports it) after the cut.
    const r = emitToDisk({ ...prepared, graph: prepared.graph! }, join(dir, "cut.onnx"), {
      readAhead: { threads: 2, windowBytes: 1 },
      onWriteProgress: (done, total) => {
        if (cut || done < total / 3) return;
        truncateSync(copy, statSync(copy).size - 100);
        cut = true;
      },
    });
    expect(cut).toBe(true);
    expect(r.diagnostics.map((d) => d.code)).toEqual(["NET6050"]);
    expect(r.diagnostics[0].message).toContain("cut.safetensors changed while netc was reading it");
    expect(readdirSync(dir).sort()).toEqual(before);
    rmSync(copy);
  });

  it("reports a weight too large to draw as NET3013 with no output, the threads on", () => {
    const source = readFileSync("test/diagnostics/commands/files/huge-weight.net", "utf8");
    const file = join(dir, "huge.net");
    writeFileSync(file, source);
    const prepared = prepare(source, { file, streamWeights: true });
    const before = readdirSync(dir).sort();
    const r = emitToDisk({ ...prepared, graph: prepared.graph! }, join(dir, "huge.onnx"), {
      readAhead: { threads: 2 },
      externalData: "huge.data",
    });
    expect(r.diagnostics.map((d) => d.code)).toEqual(["NET3013"]);
    expect(readdirSync(dir).sort()).toEqual(before);
  });
});
