// Bundles are untrusted input: the manifest is checked against the schema before anything it names is read or
// allocated, in Node (readBundleDir) and over fetch (loadBundle); every violation names the field and its value.
import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { WgslRuntimeError } from "../../src/runtime/errors.js";
import { loadBundle } from "../../src/runtime/load.js";
import { withTimeLimit } from "../../src/runtime/model.js";
import { readBundleDir } from "../../src/runtime/node.js";
import { runNetc } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "netc-bundle-"));
const good = join(dir, "good");
let n = 0;

beforeAll(async () => {
  expect(
    (
      await runNetc(
        "compile",
        "test/diagnostics/commands/files/tiny.net",
        "--set",
        "B=1",
        "--target",
        "wgsl",
        "-o",
        good,
      )
    ).code,
  ).toBe(0);
});

/** A copy of the good bundle with its manifest edited. */
// biome-ignore lint/suspicious/noExplicitAny: edits reach into any field of an untrusted manifest
function variant(edit: (m: Record<string, any>) => unknown): string {
  const d = join(dir, `v${n++}`);
  cpSync(good, d, { recursive: true });
  const m = JSON.parse(readFileSync(join(d, "manifest.json"), "utf8"));
  const replaced = edit(m);
  writeFileSync(join(d, "manifest.json"), JSON.stringify(replaced === undefined ? m : replaced));
  return d;
}

const errorOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof WgslRuntimeError) return `${e.code} ${e.message}`;
    throw e;
  }
  return "accepted";
};

describe("readBundleDir", () => {
  it("reads a good bundle", () => expect(readBundleDir(good).manifest.kernels.length).toBe(1));

  // biome-ignore lint/suspicious/noExplicitAny: as above
  it.each<[string, (m: Record<string, any>) => unknown, RegExp]>([
    ["null", () => null, /NET7011 .*the manifest is null; expected an object/],
    ["a null kernel", (m) => void (m.kernels = [null]), /NET7011 .*kernels\[0\] is null/],
    ["kernels missing", (m) => void delete m.kernels, /NET7011 .*kernels is missing; expected an array/],
    [
      "a negative size",
      (m) => void (m.buffers[0].size = -4),
      /NET7011 .*buffers\[0\]\.size is -4; expected a whole number/,
    ],
    ["a string size", (m) => void (m.buffers[0].size = "48"), /NET7011 .*buffers\[0\]\.size is "48"/],
    [
      "200 buffers of 128 MiB",
      (m) => void (m.buffers = Array.from({ length: 200 }, () => ({ size: 2 ** 27 }))),
      /NET7011 .*at most 4294967296 bytes in all/,
    ],
    [
      "a binding past the buffers",
      (m) => void (m.kernels[0].bindings[0].buffer = 99),
      /NET7011 .*kernels\[0\]\.bindings\[0\]\.buffer is 99; expected a whole number from 0 to 3/,
    ],
    [
      "a huge output shape",
      (m) => void (m.outputs[0].shape = [1e6, 1e6]),
      /NET7011 .*outputs\[0\]\.chunks is "3 elements"; expected the 1000000000000 elements/,
    ],
    [
      "a string limit",
      (m) => void (m.requiredLimits.maxBufferSize = "big"),
      /NET7011 .*requiredLimits\.maxBufferSize is "big"/,
    ],
    [
      "workgroups out of range",
      (m) => void (m.kernels[0].workgroups = [1e9, 1, 1]),
      /NET7011 .*workgroups\[0\] is 1000000000/,
    ],
    [
      "a parent-folder shard name",
      (m) => void (m.weights.shards[0].file = "../../etc/passwd"),
      /NET7012 .*weights\.shards\[0\]\.file is "..\/..\/etc\/passwd"; a bundle file is a relative path inside the bundle folder/,
    ],
    [
      "an absolute shader name",
      (m) => void (m.kernels[0].shader = "/dev/zero"),
      /NET7012 .*kernels\[0\]\.shader is "\/dev\/zero"/,
    ],
    ["a URL", (m) => void (m.shaders.file = "file:///etc/passwd"), /NET7012 /],
    [
      "the old weights file",
      (m) => void (m.weights = "weights.safetensors"),
      /NET7011 .*weights is "weights.safetensors"; expected an object/,
    ],
    ["weights missing", (m) => void delete m.weights, /NET7011 .*weights is missing; expected an object/],
    [
      "a shard hash in capitals",
      (m) => void (m.weights.shards[0].sha256 = m.weights.shards[0].sha256.toUpperCase()),
      /NET7011 .*weights\.shards\[0\]\.sha256 is "[0-9A-F]+"; expected 64 lowercase hex digits/,
    ],
    [
      "a shard of 0 bytes",
      (m) => void (m.weights.shards[0].bytes = 0),
      /NET7011 .*weights\.shards\[0\]\.bytes is 0; expected a whole number from 1/,
    ],
    [
      "a shard larger than shardBytes",
      (m) => void (m.weights.shardBytes = 4),
      /NET7011 .*weights\.shards\[0\]\.bytes is \d+; expected a whole number from 1 to 4/,
    ],
    [
      "shardBytes not a multiple of 4",
      (m) => void (m.weights.shardBytes = 4098),
      /NET7011 .*weights\.shardBytes is 4098; expected a multiple of 4/,
    ],
    [
      "a short shard before the last",
      (m) => void (m.weights.shards = [{ ...m.weights.shards[0], bytes: 4 }, m.weights.shards[0]]),
      /NET7011 .*weights\.shards\[0\]\.bytes is 4; expected weights\.shardBytes/,
    ],
    [
      "a tensor past the shards",
      (m) => void (m.weights.tensors[0].offset = 1 << 30),
      /NET7011 .*weights\.tensors\[0\]\.offset is 1073741824/,
    ],
    [
      "a shard beyond the tensors",
      (m) => {
        m.weights.shardBytes = m.weights.shards[0].bytes;
        m.weights.shards.push({ ...m.weights.shards[0], bytes: 4 });
      },
      /NET7011 .*weights\.shards is "\d+ bytes in all"; expected the tensors' \d+ bytes/,
    ],
    ["a misaligned tensor", (m) => void (m.weights.tensors[1].offset += 2), /NET7011 .*weights\.tensors\[1\]/],
    [
      "overlapping tensors",
      (m) => void (m.weights.tensors[1].offset = 0),
      /NET7011 .*weights\.tensors\[1\]\.offset is 0; expected a whole number from \d+/,
    ],
    [
      "a tensor no buffer names",
      (m) => void (m.weights.tensors[0].name = "nobody"),
      /NET7011 .*weights\.tensors\[0\]\.name is "nobody"; expected a weight some buffer names/,
    ],
    [
      "a tensor placed twice",
      (m) => void (m.weights.tensors[1].name = m.weights.tensors[0].name),
      /NET7011 .*placed once/,
    ],
    ["a weight with no place", (m) => void m.weights.tensors.pop(), /NET7011 .*weights\.tensors is "no entry for/],
    [
      "a tensor larger than its buffer",
      (m) => void (m.weights.tensors.at(-1).bytes += 4000),
      /NET7011 .*weights\.tensors\[\d\]\.bytes is \d+/,
    ],
    [
      "a shader range past its file",
      (m) => void (m.shaders.sources[0].bytes = 1e9),
      /NET7011 .*shaders\.sources\[0\]\.bytes is 1000000000/,
    ],
    [
      "a kernel shader not in the pack",
      (m) => void (m.kernels[0].shader = "kernels/other.wgsl"),
      /NET7011 .*shaders\.sources is "no entry for kernels\/other.wgsl"/,
    ],
    [
      "two sources of one name",
      (m) => void m.shaders.sources.push(m.shaders.sources[0]),
      /NET7011 .*shaders\.sources\[1\]\.name/,
    ],
  ])("refuses a manifest with %s", (_, edit, expected) =>
    expect(errorOf(() => readBundleDir(variant(edit)))).toMatch(expected),
  );

  it("refuses a named file that is a link out of the folder or a special file", () => {
    const out = variant(() => undefined);
    symlinkSync("/proc/self/environ", join(out, "x.wgsl"));
    const m = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    m.shaders.file = "x.wgsl";
    writeFileSync(join(out, "manifest.json"), JSON.stringify(m));
    expect(errorOf(() => readBundleDir(out))).toMatch(/NET7012 .*leads outside the bundle folder/);
  });

  it("refuses a shader file or a weight shard whose bytes differ from the manifest's hash (NET7051)", () => {
    const out = variant(() => undefined);
    const m = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    const shader = join(out, m.shaders.file);
    writeFileSync(shader, readFileSync(shader, "utf8").replace("fn ", "fn  ").slice(0, -1));
    expect(errorOf(() => readBundleDir(out))).toMatch(
      new RegExp(
        `NET7051 .*the bundle file ${m.shaders.file} has the SHA-256 [0-9a-f]{64}; the manifest says ${m.shaders.sha256}`,
      ),
    );
    const other = variant(() => undefined);
    const shard = join(other, m.weights.shards[0].file);
    const bytes = readFileSync(shard);
    bytes[bytes.length - 1] ^= 0x80;
    writeFileSync(shard, bytes);
    const bundle = readBundleDir(other); // the shards are read as the model uploads them
    expect(errorOf(() => [...(bundle.shards as Iterable<Uint8Array>)])).toMatch(
      new RegExp(
        `NET7051 .*the bundle file ${m.weights.shards[0].file} has the SHA-256 .*\\(a partial, stale or tampered file\\)`,
      ),
    );
  });

  it("a manifest passes as written by netc, shards in order, each tensor at its offset", () => {
    const { manifest, shards } = readBundleDir(good);
    const all = Buffer.concat([...(shards as Iterable<Uint8Array>)]);
    expect(all.length).toBe(manifest.weights.shards.reduce((s, x) => s + x.bytes, 0));
    const last = manifest.weights.tensors.at(-1)!;
    expect(last.offset + last.bytes).toBe(all.length);
  });
});

describe("loadBundle", () => {
  const fetchOf = (files: Record<string, string>): typeof fetch =>
    (async (url: URL) => {
      const path = new URL(url).pathname.replace(/^\/b\//, "");
      return path in files ? new Response(files[path]) : new Response("", { status: 404 });
    }) as unknown as typeof fetch;

  it("refuses a bundle that is not on http(s) or names files outside its folder", async () => {
    await expect(loadBundle("file:///etc/", fetchOf({}))).rejects.toThrow(/is not on http\(s\)/);
    const manifest = JSON.parse(readFileSync(join(good, "manifest.json"), "utf8"));
    manifest.weights.shards[0].file = "../secret";
    await expect(
      loadBundle("http://localhost/b/", fetchOf({ "manifest.json": JSON.stringify(manifest) })),
    ).rejects.toThrow(/weights\.shards\[0\]\.file is "..\/secret"/);
  });

  it("refuses another origin than the page's", async () => {
    const location = { href: "https://app.example/page.html" };
    Object.assign(globalThis, { location });
    try {
      await expect(loadBundle("https://elsewhere.example/b/", fetchOf({}))).rejects.toThrow(
        /not on this page's origin/,
      );
    } finally {
      delete (globalThis as { location?: unknown }).location;
    }
  });
});

describe("GPU runs", () => {
  it("end with a NET7013 error when they pass the time limit", async () => {
    const never = new Promise<never>(() => {});
    await expect(withTimeLimit(never, 20)).rejects.toMatchObject({
      code: "NET7013",
      message: "the GPU run did not finish within 20 ms",
    });
    await expect(withTimeLimit(Promise.resolve(5), 20)).resolves.toBe(5);
  });
});
