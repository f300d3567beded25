// Progress on stderr for work that takes more than a moment (loading weights, writing a large model, compiling WGSL
// kernels on a software adapter, a long run): one line redrawn in place. Silent when stderr is not a terminal or in
// CI, so pipes and logs get nothing, unless asked for (`--progress`): then a log gets a plain line now and then.
import type { ProgressCallback } from "../weights/layout.js";

/** What progress writes to: process.stderr, or a fake terminal in tests. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressOptions {
  stream?: ProgressStream;
  /** Milliseconds since some fixed point (tests pass a fake clock). */
  now?: () => number;
  /** Nothing is drawn before this many milliseconds (default 300, 0 when forced): quick work stays silent. */
  delayMs?: number;
  /** How often the elapsed time is redrawn while the event loop is free (0: only on updates). */
  tickMs?: number;
  /** Draw even when the stream is not a terminal (`--progress`): whole lines, at most one per `lineMs`. */
  force?: boolean;
  /** With `force` and no terminal: the least time between two lines, except at a new step (default 1000). */
  lineMs?: number;
}

export interface Progress {
  /** A step with a known amount of work: a bar, with an optional note after it (a rate, an ETA). */
  update: (...args: [...Parameters<ProgressCallback>, note?: string]) => void;
  /** Starts a step whose amount is unknown: its label and the time it has taken so far. */
  phase(label: string): void;
  /** Clears the line, before other output; the next update draws it again. */
  clear(): void;
  /** Clears the line and stops redrawing. */
  done(): void;
}

const WIDTH = 30;

export function progressBar(label: string, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const delay = options.delayMs ?? (options.force ? 0 : 300);
  const terminal = stream.isTTY === true;
  const enabled = options.force === true || (terminal && !process.env.CI);
  const lineMs = options.lineMs ?? 1000;
  const started = now();
  let current = label;
  let phaseStarted = started;
  let bar: { done: number; total: number; note?: string } | undefined;
  let drawn = false;
  let lastLine: { label: string; at: number } | undefined;

  const draw = () => {
    if (!enabled || now() - started < delay) return;
    const seconds = `${((now() - phaseStarted) / 1000).toFixed(1)} s`;
    const text = bar
      ? `${current} [${"#".repeat(Math.round((bar.done / bar.total) * WIDTH)).padEnd(WIDTH)}] ${((bar.done / bar.total) * 100).toFixed(0)}% ${seconds}${bar.note ? ` ${bar.note}` : ""}`
      : `${current}... ${seconds}`;
    if (terminal) {
      stream.write(`\r\x1b[K${text}`);
      drawn = true;
    } else if (lastLine?.label !== current || now() - lastLine.at >= lineMs) {
      // A log cannot redraw: a new line at each step, and at most one a second within one.
      stream.write(`${text}\n`);
      lastLine = { label: current, at: now() };
    }
  };
  const clear = () => {
    if (drawn) stream.write("\r\x1b[K");
    drawn = false;
  };
  const tick =
    enabled && terminal && (options.tickMs ?? 250) > 0 ? setInterval(draw, options.tickMs ?? 250) : undefined;
  tick?.unref?.();

  return {
    update: (done, total, note) => {
      if (total <= 0) return;
      bar = { done: Math.min(done, total), total, note };
      draw();
    },
    phase: (next) => {
      current = next;
      phaseStarted = now();
      bar = undefined;
      draw();
    },
    clear,
    done: () => {
      if (tick) clearInterval(tick);
      clear();
    },
  };
}
