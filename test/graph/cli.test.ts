// `netc graph`, run in-process: the format follows the output's name, bad input gets a diagnostic and no file.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { expectWellFormedXml } from "./xml.js";
import { runNetc } from "../helpers/cli.js";

const TINY = resolve(__dirname, "../../examples/tiny.net");

let dir: string;
let out: string;
let err: string;

async function netc(...args: string[]): Promise<number> {
  const r = await runNetc(...args);
  [out, err] = [r.out, r.err];
  return r.code;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "netc-graph-"));
});

describe("netc graph", () => {
  it("writes an SVG for a .svg output and DOT for a .dot output", async () => {
    expect(await netc("graph", TINY, "-o", join(dir, "tiny.svg"))).toBe(0);
    const svg = readFileSync(join(dir, "tiny.svg"), "utf8");
    expectWellFormedXml(svg);
    expect(svg).toContain("classify");
    expect(err).toContain("wrote");

    expect(await netc("graph", TINY, "-o", join(dir, "tiny.dot"), "--depth", "all", "--set", "B=5")).toBe(0);
    const dot = readFileSync(join(dir, "tiny.dot"), "utf8");
    expect(dot.startsWith(`digraph "Tiny" {`)).toBe(true);
    expect(dot).toContain('label="[5, 7]"');
    expect(dot).toContain("depth all");
  });

  it("prints DOT on stdout without -o, and --format overrides the extension", async () => {
    expect(await netc("graph", TINY)).toBe(0);
    expect(out.startsWith(`digraph "Tiny" {`)).toBe(true);
    expect(await netc("graph", TINY, "--format", "svg", "-o", join(dir, "picture.txt"))).toBe(0);
    expect(readFileSync(join(dir, "picture.txt"), "utf8")).toMatch(/<svg[\s>]/);
  });

  it("reports a missing file or a syntax error as a diagnostic, exits 1 and writes nothing", async () => {
    const target = join(dir, "model.svg");
    expect(await netc("graph", join(dir, "absent.net"), "-o", target)).toBe(1);
    expect(err).toContain("NET8001");
    expect(err).not.toMatch(/\n\s+at /);

    writeFileSync(join(dir, "broken.net"), "model M()(x: f32[4]) -> (y: f32[4]) {\n  return x +\n}\n");
    expect(await netc("graph", join(dir, "broken.net"), "-o", target)).toBe(1);
    expect(err).toMatch(/broken\.net:3:1: error NET\d{4}: /);
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(dir)).toEqual(["broken.net"]);
  });

  it("rejects an unknown picture format and a depth below 1 as usage errors", async () => {
    expect(await netc("graph", TINY, "-o", join(dir, "model.png"))).toBe(2);
    expect(err).toContain("--format svg|dot");
    expect(await netc("graph", TINY, "--depth", "0")).toBe(2);
    expect(err).toContain("--depth");
    expect(readdirSync(dir)).toEqual([]);
  });
});
