// Issue 12's "done when": the IFDD checkpoint saved exactly as a published training script saves it (DataParallel
// prefixes, SGD state, a __main__ RecorderMeter holding numpy arrays, a numpy best_acc, argparse args), made by
// tools/make_published_ifdd.py from the official fixture, compiles with --weights and gives the official logits.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOnnx } from "../../src/backends/onnx/index.js";
import { compile, type CompileResult } from "../../src/index.js";
import { maxAbsDiff, npy } from "../helpers/tensors.js";

const ROOT = resolve(__dirname, "../..");
const FIXTURES = resolve(ROOT, "../shared/fixtures/ifdd");
const MODEL = join(ROOT, "models/ifdd.net");
const PYTHON = "/usr/bin/python3";
const TOLERANCE = 1e-4;

/** Why the test cannot run here, or undefined. */
function skipReason(): string | undefined {
  if (!existsSync(join(FIXTURES, "ifdd_dfew_random.pth"))) return `skipped: ${FIXTURES}/ifdd_dfew_random.pth is absent`;
  const probe = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" });
  if (probe.status !== 0) return `skipped: ${PYTHON} with torch and numpy is needed (apt-get install python3-torch)`;
  return undefined;
}
const skip = skipReason();
if (skip) console.warn(skip);

describe.skipIf(skip)("IFDD saved as a published training script saves it", () => {
  const dir = mkdtempSync(join(tmpdir(), "netc-ifdd-published-"));
  const checkpoint = join(dir, "ifdd_published.pth.tar");
  let compiled: CompileResult;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(() => {
    const made = spawnSync(
      PYTHON,
      [join(ROOT, "tools/make_published_ifdd.py"), join(FIXTURES, "ifdd_dfew_random.pth"), checkpoint],
      { encoding: "utf8" },
    );
    expect(made.stderr).toBe("");
    expect(made.status).toBe(0);
    // The model as a user writes it for this checkpoint: the official names, under DataParallel's prefix.
    const source = readFileSync(MODEL, "utf8").replace(
      "  layer head = Head(num_classes)\n",
      '  layer head = Head(num_classes)\n  weights {\n    strip "module."\n  }\n',
    );
    expect(source).toContain('strip "module."');
    compiled = compile(source, { file: MODEL, weights: [checkpoint] });
  }, 180_000);

  it("loads every weight from 'state_dict', with the recorder, numpy values and optimizer state around it", () => {
    expect(compiled.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const report = compiled.weightReport!;
    expect(report.sources).toEqual([`${checkpoint} ['state_dict']`]);
    expect(report.applied).toHaveLength(297);
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
  });

  it(`gives the official logits within ${TOLERANCE}`, async () => {
    const out = await runOnnx(compiled.onnx!, new Map([["video", npy(join(FIXTURES, "input.npy"))]]), {
      threads: 2,
      outputs: ["logits"],
    });
    expect(maxAbsDiff(out.get("logits")!, npy(join(FIXTURES, "logits.npy")))).toBeLessThan(TOLERANCE);
  }, 120_000);
});
