// src/util/input-file.ts: what netc opens by name is a regular file of bounded size, checked without blocking.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputFileError, readRegularFile, readSourceFile } from "../../src/util/input-file.js";

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof InputFileError) return `${e.info.code} ${e.message}`;
    throw e;
  }
  return "read";
};

describe("readRegularFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "netc-input-"));

  it("refuses a FIFO at once instead of blocking on it", () => {
    execFileSync("mkfifo", [join(dir, "p")]);
    expect(refusal(() => readRegularFile(join(dir, "p"), 100))).toMatch(/^NET8010 .*FIFO/);
  });

  it("refuses devices, folders and /proc files, which report a size they do not have", () => {
    expect(refusal(() => readRegularFile("/dev/zero", 100))).toMatch(/^NET8010 .*device/);
    expect(refusal(() => readRegularFile(dir, 100))).toMatch(/^NET8001 .*folder/);
    expect(refusal(() => readRegularFile("/proc/self/environ", 1 << 20))).toMatch(
      /^NET8010 .*more bytes than its size/,
    );
  });

  it("refuses a file above the size bound, and reads one within it", () => {
    writeFileSync(join(dir, "f"), "12345");
    expect(refusal(() => readRegularFile(join(dir, "f"), 4))).toMatch(/^NET8010 .*5 bytes, more than the 4/);
    expect(readRegularFile(join(dir, "f"), 5).toString()).toBe("12345");
  });

  it("a source must be UTF-8 text", () => {
    writeFileSync(join(dir, "b.net"), new Uint8Array([0x6d, 0, 0xff]));
    expect(refusal(() => readSourceFile(join(dir, "b.net")))).toMatch(/^NET8011 /);
  });
});
