// A progress bar on stderr for work that takes more than a moment; silent when stderr is not a terminal or in CI.
import type { ProgressCallback } from "../weights/layout.js";

export function progressBar(label: string): { update: ProgressCallback; done: () => void } {
  const enabled = process.stderr.isTTY === true && !process.env.CI;
  const started = Date.now();
  let drawn = false;
  return {
    update: (done, total) => {
      if (!enabled || Date.now() - started < 300 || total <= 0) return;
      const width = 30;
      const filled = Math.round((done / total) * width);
      process.stderr.write(`\r${label} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${((done / total) * 100).toFixed(0)}% `);
      drawn = true;
    },
    done: () => {
      if (drawn) process.stderr.write("\r\x1b[K");
    },
  };
}
