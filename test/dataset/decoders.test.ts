// The frame decoders are optional peer packages: without pngjs, netc infer on PNG frames names it and how to install
// it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { setOptionalPackageLoader } from "../../src/util/optional.js";
import { runNetc } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "netc-decoders-"));
afterAll(() => {
  setOptionalPackageLoader();
  rmSync(dir, { recursive: true, force: true });
});

describe("frame decoders", () => {
  it("a missing pngjs is NET8007 with the install command", async () => {
    mkdirSync(join(dir, "clip"));
    writeFileSync(join(dir, "clip", "1.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    setOptionalPackageLoader(async (name) => {
      if (name !== "pngjs") return import(name);
      throw Object.assign(new Error(`Cannot find package '${name}'`), { code: "ERR_MODULE_NOT_FOUND" });
    });
    const r = await runNetc("infer", "examples/tiny-video.net", join(dir, "clip"), "-o", join(dir, "results.jsonl"));
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      "error NET8007: reading PNG and JPEG frames needs the pngjs package, which is not installed",
    );
    expect(r.err).toContain("npm install pngjs");
  });
});
