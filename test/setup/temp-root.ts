// One temporary root per test run: every test (and every process it spawns) makes its temp folders under it, and the
// run removes it at the end, so no test leaves folders in the system temp directory whatever it forgets to clean.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function createTempRoot(): () => void {
  const root = mkdtempSync(join(tmpdir(), "netc-test-run-"));
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
