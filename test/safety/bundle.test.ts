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
import { parseSafetensors } from "../../src/runtime/safetensors.js";
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
      "a parent-folder weights name",
      (m) => void (m.weights = "../../etc/passwd"),
      /NET7012 .*weights is "..\/..\/etc\/passwd"; a bundle file is a relative path inside the bundle folder/,
    ],
    [
      "an absolute shader name",
      (m) => void (m.kernels[0].shader = "/dev/zero"),
      /NET7012 .*kernels\[0\]\.shader is "\/dev\/zero"/,
    ],
    ["a URL", (m) => void (m.weights = "file:///etc/passwd"), /NET7012 /],
  ])("refuses a manifest with %s", (_, edit, expected) =>
    expect(errorOf(() => readBundleDir(variant(edit)))).toMatch(expected),
  );

  it("refuses a named file that is a link out of the folder or a special file", () => {
    const out = variant(() => undefined);
    symlinkSync("/proc/self/environ", join(out, "kernels", "x.wgsl"));
    const m = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    m.kernels[0].shader = "kernels/x.wgsl";
    writeFileSync(join(out, "manifest.json"), JSON.stringify(m));
    expect(errorOf(() => readBundleDir(out))).toMatch(/NET7012 .*leads outside the bundle folder/);
  });
});

describe("the bundle's safetensors reader", () => {
  const file = (header: unknown, bytes = 0) => {
    const head = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + head.length + bytes);
    new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
    out.set(head, 8);
    return out;
  };
  it.each<[string, Uint8Array, RegExp]>([
    [
      "dtype constructor",
      file({ w: { dtype: "constructor", shape: [1], data_offsets: [0, 4] } }, 4),
      /dtype "constructor", which is not a safetensors dtype/,
    ],
    ["a null entry", file({ w: null }), /the entry of w is not an object/],
    ["a null header", file(null), /not a JSON object/],
    [
      "bytes that do not match the shape",
      file({ w: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }, 4),
      /has 4 bytes; F32\[2\] needs 8/,
    ],
  ])("refuses %s", (_, bytes, expected) => expect(errorOf(() => parseSafetensors(bytes))).toMatch(expected));
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
    manifest.weights = "../secret";
    await expect(
      loadBundle("http://localhost/b/", fetchOf({ "manifest.json": JSON.stringify(manifest) })),
    ).rejects.toThrow(/weights is "..\/secret"/);
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
