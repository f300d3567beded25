// `npm run fuzz -- [--cases N] [--seed S] [--keep]`: the regression cases of issue 14, then N seeded random cases
// (default 1000) from seed S (default 1). Prints each failing case with its arguments and problems; with --keep the
// failing cases' folders stay (under the printed root) to reproduce them. Exit 1 when any case failed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomCase, REGRESSIONS, seedSources } from "./cases.js";
import { DEFAULT_LIMITS, makeTemplates, runCase, WorkerPool } from "./harness.js";

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const n = Number(process.argv[at + 1]);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} expects a whole number, got ${process.argv[at + 1]}`);
  return n;
}

const cases = option("--cases", 1000);
const seed = option("--seed", 1);
const keep = process.argv.includes("--keep");
const root = mkdtempSync(join(tmpdir(), "netc-fuzz-"));
const pool = new WorkerPool(DEFAULT_LIMITS);
let failed = 0;
const started = performance.now();
try {
  const templates = await makeTemplates(pool, root);
  const sources = seedSources();
  const all = [...REGRESSIONS, ...Array.from({ length: cases }, (_, i) => randomCase(seed + i, sources))];
  for (const [i, c] of all.entries()) {
    const outcome = await runCase(pool, c, i, root, templates, DEFAULT_LIMITS, keep);
    if (outcome.problems.length) {
      failed++;
      process.stdout.write(
        `FAIL ${outcome.name} (case-${i}): netc ${outcome.args.map((a) => JSON.stringify(a)).join(" ")}\n  ` +
          `${outcome.problems.join("\n  ")}\n`,
      );
    }
    if ((i + 1) % 100 === 0)
      process.stdout.write(
        `${i + 1}/${all.length} cases, ${failed} failed, ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
      );
  }
  process.stdout.write(
    `${all.length} cases (seed ${seed}): ${failed} failed; ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
} finally {
  pool.close();
  if (!keep || failed === 0) rmSync(root, { recursive: true, force: true });
  else process.stdout.write(`failing cases kept under ${root}\n`);
}
process.exitCode = failed ? 1 : 0;
