// Weight shards: a bundle cut into 4 KiB shards (tensors spanning them) runs in Node exactly as the same bundle in
// one shard does, and onnxruntime agrees; the loader over fetch holds at most `shardsInFlight` shards at a time, and
// each shard is checked against its hash as it arrives.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { emitWgslBundle } from "../../src/backends/wgsl/index.js";
import { compileToGraph } from "../../src/driver.js";
import { loadBundle } from "../../src/runtime/load.js";
import { WgslModel } from "../../src/runtime/model.js";
import { readBundleDir } from "../../src/runtime/node.js";
import { random } from "../helpers/ir.js";
import { maxAbsDiff, onnxReference, TOLERANCE, tempDir, tryGpu } from "./helpers.js";

const { gpu, reason } = await tryGpu();
const FILE = "examples/tiny.net";
const graph = compileToGraph(readFileSync(FILE, "utf8"), { file: FILE, overrides: { B: "2" }, target: "wgsl" }).graph!;
const root = tempDir("shards");
const write = (name: string, shardBytes?: number) => {
  const dir = join(root, name);
  const r = emitWgslBundle(graph, { outDir: dir, seed: 3, ...(shardBytes ? { shardBytes } : {}) });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return dir;
};
const one = write("one");
const many = write("many", 4096);
afterAll(() => {
  gpu?.release();
  rmSync(root, { recursive: true, force: true });
});

describe("weight shards", () => {
  it("cut the same bytes whatever their size: one 4 MiB shard, or 4 KiB ones with tensors across their edges", () => {
    const a = readBundleDir(one);
    const b = readBundleDir(many);
    expect(a.manifest.weights.shards).toHaveLength(1);
    expect(b.manifest.weights.shards.length).toBeGreaterThan(10);
    expect(b.manifest.weights.tensors).toEqual(a.manifest.weights.tensors);
    const joined = (bundle: typeof a) => Buffer.concat([...(bundle.shards as Iterable<Uint8Array>)]);
    expect(joined(b).equals(joined(a))).toBe(true);
    expect(
      b.manifest.weights.tensors.some(
        (t) => Math.floor(t.offset / 4096) !== Math.floor((t.offset + t.bytes - 1) / 4096),
      ),
    ).toBe(true);
  });

  it("over fetch: at most shardsInFlight shards are fetched ahead of the upload, each checked on arrival", async () => {
    const manifest = readBundleDir(many).manifest;
    const requested: string[] = [];
    const fetchFn = (async (url: URL) => {
      const name = new URL(url).pathname.replace(/^\/b\//, "");
      requested.push(name);
      const bytes = readFileSync(join(many, name));
      if (name === manifest.weights.shards[5].file) bytes[0] ^= 1; // damaged on the way
      return new Response(bytes);
    }) as unknown as typeof fetch;
    const bundle = await loadBundle("http://localhost/b/", { fetch: fetchFn, shardsInFlight: 2 });
    const shardRequests = () => requested.filter((r) => r.startsWith("weights-")).length;
    expect(shardRequests()).toBe(0); // none until the shards are iterated
    let consumed = 0;
    const error = await (async () => {
      for await (const _ of bundle.shards as AsyncIterable<Uint8Array>) {
        consumed++;
        expect(shardRequests()).toBeLessThanOrEqual(consumed + 1); // the one in hand and one ahead
      }
    })().catch((e: Error & { code?: string }) => `${e.code} ${e.message}`);
    expect(consumed).toBe(5);
    expect(error).toMatch(
      new RegExp(
        `^NET7051 the bundle file ${manifest.weights.shards[5].file} has the SHA-256 [0-9a-f]{64}; the manifest says`,
      ),
    );
  });

  it.skipIf(!gpu)(
    `run in Node from their shards as from one, and match onnxruntime${reason ? ` (skipped: ${reason})` : ""}`,
    async () => {
      const x = random("f32", [2, 8, 64], 7);
      const outputs = [];
      for (const dir of [one, many]) {
        const model = await WgslModel.create(gpu!.device, readBundleDir(dir));
        outputs.push((await model.run({ frames: x })).logits);
        model.destroy();
      }
      expect(Array.from(outputs[1].data as Float32Array)).toEqual(Array.from(outputs[0].data as Float32Array));
      const want = (await onnxReference(graph, new Map([["frames", x]]), { seed: 3 })).get("logits")!;
      expect(maxAbsDiff(outputs[1], want)).toBeLessThanOrEqual(TOLERANCE);
    },
  );

  it.skipIf(!gpu)("a model created from too few shards is an error, not zeros", async () => {
    const bundle = readBundleDir(many);
    const shards = [...(bundle.shards as Iterable<Uint8Array<ArrayBuffer>>)].slice(0, -1);
    await expect(WgslModel.create(gpu!.device, { ...bundle, shards })).rejects.toThrow(
      /NET7051|gave \d+ weight shards; its manifest lists \d+/,
    );
  });
});
