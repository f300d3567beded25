// The progress line: drawn in place on a terminal once work takes longer than a moment, never into pipes or CI.
import { afterEach, describe, expect, it, vi } from "vitest";
import { progressBar, type ProgressStream } from "../../src/cli/progress.js";

/** A stream that records what is written; a terminal or not. */
function fakeStream(isTTY: boolean): ProgressStream & { written: string[] } {
  const written: string[] = [];
  return { isTTY, written, write: (text: string) => written.push(text) };
}

/** A clock the test moves by hand. */
function fakeClock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.useRealTimers();
});

describe("progress", () => {
  it("writes nothing when the stream is not a terminal, however long the work takes", () => {
    vi.stubEnv("CI", "");
    const stream = fakeStream(false);
    const clock = fakeClock();
    const p = progressBar("loading weights", { stream, now: clock.now, tickMs: 0 });
    clock.advance(60_000);
    p.update(5, 10);
    p.phase("compiling kernels");
    p.update(10, 10);
    p.done();
    expect(stream.written).toEqual([]);
  });

  it("asked for (--progress) without a terminal: whole lines, one at each step and at most one a second within it", () => {
    vi.stubEnv("CI", "true");
    const stream = fakeStream(false);
    const clock = fakeClock();
    const p = progressBar("compiling m.net", { stream, now: clock.now, tickMs: 0, force: true });
    p.phase("writing ONNX");
    p.update(10, 100, "10 of 100 MB");
    clock.advance(400);
    p.update(50, 100, "50 of 100 MB"); // within the second: not drawn
    clock.advance(700);
    p.update(60, 100, "60 of 100 MB");
    p.done();
    expect(stream.written.every((line) => line.endsWith("\n") && !line.includes("\r"))).toBe(true);
    expect(stream.written.map((line) => line.replace(/\[[# ]+\]/, "[bar]"))).toEqual([
      "writing ONNX... 0.0 s\n",
      "writing ONNX [bar] 60% 1.1 s 60 of 100 MB\n",
    ]);
  });

  it("writes nothing in CI, even on a terminal", () => {
    vi.stubEnv("CI", "true");
    const stream = fakeStream(true);
    const clock = fakeClock();
    const p = progressBar("loading weights", { stream, now: clock.now, tickMs: 0 });
    clock.advance(60_000);
    p.update(5, 10);
    p.done();
    expect(stream.written).toEqual([]);
  });

  it("on a terminal, stays silent for quick work, then redraws one line: a bar, a step with its time, cleared at the end", () => {
    vi.stubEnv("CI", "");
    const stream = fakeStream(true);
    const clock = fakeClock();
    const p = progressBar("loading weights", { stream, now: clock.now, delayMs: 300, tickMs: 0 });
    p.update(1, 10);
    clock.advance(100);
    p.update(2, 10);
    expect(stream.written).toEqual([]);
    clock.advance(900);
    p.update(5, 10);
    p.phase("running the model");
    clock.advance(2500);
    p.phase("running the model");
    p.clear();
    p.clear();
    p.update(10, 10);
    p.done();
    p.done();
    expect(stream.written).toEqual([
      `\r\x1b[Kloading weights [${"#".repeat(15)}${" ".repeat(15)}] 50% 1.0 s`,
      "\r\x1b[Krunning the model... 0.0 s",
      "\r\x1b[Krunning the model... 0.0 s",
      "\r\x1b[K",
      `\r\x1b[Krunning the model [${"#".repeat(30)}] 100% 0.0 s`,
      "\r\x1b[K",
    ]);
  });

  it("redraws the elapsed time while the event loop waits on the work (a GPU run)", () => {
    vi.stubEnv("CI", "");
    vi.useFakeTimers();
    const stream = fakeStream(true);
    const clock = fakeClock();
    const p = progressBar("running the model", { stream, now: clock.now, delayMs: 0, tickMs: 500 });
    clock.advance(1500);
    vi.advanceTimersByTime(500);
    clock.advance(1000);
    vi.advanceTimersByTime(500);
    p.done();
    vi.advanceTimersByTime(5000);
    expect(stream.written).toEqual([
      "\r\x1b[Krunning the model... 1.5 s",
      "\r\x1b[Krunning the model... 2.5 s",
      "\r\x1b[K",
    ]);
  });
});
