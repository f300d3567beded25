// The fuzz suite in CI: every finding of issue 14 as a regression case, then a bounded number of seeded random
// cases (FUZZ_CASES, default 300; `npm run fuzz -- --cases N` runs more). Each case runs in a worker child with
// time and memory limits; see harness.ts for what every case must satisfy.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FuzzCase, randomCase, REGRESSIONS, seedSources } from "./cases.js";
import { DEFAULT_LIMITS, makeTemplates, runCase, WorkerPool } from "./harness.js";
import type { Templates } from "./cases.js";

const RANDOM_CASES = Number(process.env.FUZZ_CASES ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 14);

let root: string;
let pool: WorkerPool;
let templates: Templates;
let index = 0;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "netc-fuzz-"));
  pool = new WorkerPool(DEFAULT_LIMITS);
  templates = await makeTemplates(pool, root);
});

afterAll(() => {
  pool?.close();
  rmSync(root, { recursive: true, force: true });
});

const problemsOf = async (c: FuzzCase) => (await runCase(pool, c, index++, root, templates, DEFAULT_LIMITS)).problems;

describe("fuzz: the findings of issue 14", () => {
  for (const c of REGRESSIONS) {
    it(c.name, async () => expect(await problemsOf(c)).toEqual([]));
  }
});

describe(`fuzz: ${RANDOM_CASES} seeded random cases (seed ${SEED})`, () => {
  it("all pass", async () => {
    const sources = seedSources();
    const failures: string[] = [];
    for (let i = 0; i < RANDOM_CASES; i++) {
      const c = randomCase(SEED * 100_000 + i, sources);
      const problems = await problemsOf(c);
      if (problems.length) failures.push(`${c.name}:\n  ${problems.join("\n  ")}`);
    }
    expect(failures).toEqual([]);
  }, 300_000);
});
