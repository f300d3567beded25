// Video files as clips: decoded through ffmpeg where it is installed (NETC_FFMPEG names another program); without
// it each video is a recorded NET8032.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runNetc } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "netc-video-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ffmpeg = spawnSync("ffmpeg", ["-version"]).status === 0;

describe("video clips", () => {
  it("without ffmpeg are warnings recorded per clip (NET8032)", async () => {
    process.env.NETC_FFMPEG = join(dir, "no-such-ffmpeg");
    writeFileSync(join(dir, "clip.mp4"), "not decoded without ffmpeg");
    const out = join(dir, "results.jsonl");
    const r = await runNetc("infer", "examples/tiny-video.net", join(dir, "clip.mp4"), "-o", out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain("warning NET8032");
    expect(JSON.parse(readFileSync(out, "utf8"))).toMatchObject({ error: { code: "NET8032" } });
    delete process.env.NETC_FFMPEG;
  });

  it.runIf(ffmpeg)("with ffmpeg are decoded frame by frame", async () => {
    const video = join(dir, "clip.mkv");
    const made = spawnSync("ffmpeg", [
      "-v",
      "error",
      "-f",
      "lavfi",
      "-i",
      "testsrc=size=48x40:rate=10:duration=2",
      "-c:v",
      "ffv1",
      video,
    ]);
    expect(made.status).toBe(0);
    const out = join(dir, "decoded.jsonl");
    const r = await runNetc("infer", "examples/tiny-video.net", video, "-o", out);
    expect(r.code, r.err).toBe(0);
    const result = JSON.parse(readFileSync(out, "utf8")) as { scores?: number[] };
    expect(result.scores).toHaveLength(7);
  });
});
