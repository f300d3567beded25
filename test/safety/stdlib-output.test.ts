// The standard library is an input like any other: diagnostics name it `std/nn.net`, but an output is compared
// with its real path, so neither its absolute path, a relative one, nor a link to it can be written over.
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { stdlibDir } from "../../src/util/source-paths.js";
import { runNetc } from "../helpers/cli.js";

const NN = join(stdlibDir(), "nn.net");
const original = readFileSync(NN);
// Should the protection fail, the test must not leave a broken standard library behind.
afterEach(() => {
  if (!readFileSync(NN).equals(original)) writeFileSync(NN, original);
});

const dir = mkdtempSync(join(tmpdir(), "netc-stdlib-output-"));
const model = join(dir, "tiny.net");
writeFileSync(
  model,
  'import "std/nn.net"\n\nmodel Tiny()(x: f32[1, 4]) -> f32[1, 3] {\n  layer fc = Linear(4, 3)\n  return fc(x)\n}\n',
);

describe("the standard library as an output", () => {
  const targets: [string, () => string][] = [
    ["its absolute path", () => NN],
    ["a path relative to the working folder", () => relative(process.cwd(), NN)],
    [
      "a link to it",
      () => {
        const link = join(dir, "link.onnx");
        symlinkSync(NN, link);
        return link;
      },
    ],
  ];
  for (const [what, target] of targets)
    it(`compile -o ${what} is refused (NET8008) and the file is unchanged`, async () => {
      const r = await runNetc("compile", model, "-o", target());
      expect(r.code).toBe(1);
      expect(r.err).toContain("error NET8008");
      expect(r.err).toContain("would be written over the input std/nn.net");
      expect(readFileSync(NN).equals(original)).toBe(true);
    });

  it("graph -o the standard library is refused too", async () => {
    const link = join(dir, "picture.svg");
    symlinkSync(NN, link);
    const r = await runNetc("graph", model, "-o", link);
    expect(r.code).toBe(1);
    expect(r.err).toContain("error NET8008");
    expect(readFileSync(NN).equals(original)).toBe(true);
  });
});
