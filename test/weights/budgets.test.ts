// Reading budgets (issue 14): a tiny checkpoint that names far more than it holds stops at a budget with NET6017
// within seconds; very many tensors are read without deep recursion or spread calls.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../src/index.js";
import { importWeights, inspectCheckpoint, openCheckpoint } from "../../src/weights/index.js";
import { expectDiagnostic, fixture, tempDir, values } from "./helpers.js";

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SECONDS = 20;

function timed(work: () => void): number {
  const start = Date.now();
  work();
  return (Date.now() - start) / 1000;
}

describe("budgets on what a pickle names", () => {
  it("one tensor shared 2^22 times (a 1 KB file): the shared-storage fan-out budget", () => {
    const took = timed(() =>
      expectDiagnostic(
        () => openCheckpoint(fixture("budget_fanout.pth")),
        "NET6017",
        "budget_fanout.pth",
        "more than 65,536 tensors view storage",
        "the last at 'shared.",
      ),
    );
    expect(took).toBeLessThan(SECONDS);
  });

  it("2^16 full views of a 2,048-element storage: the viewed-elements budget", () => {
    expectDiagnostic(
      () => openCheckpoint(fixture("budget_elements.pth")),
      "NET6017",
      "elements of the 2,048 it stores",
    );
  });

  it("2^23 numbers through shared lists: the values budget", () => {
    const took = timed(() => {
      const d = expectDiagnostic(
        () => openCheckpoint(fixture("budget_values.pth")),
        "NET6017",
        "the checkpoint holds more than",
      );
      // 2,000,000 plus one per 4 bytes of its (tiny) pickle
      expect(d.message).toMatch(/more than 2,000,\d{3} values$/);
    });
    expect(took).toBeLessThan(SECONDS);
  });

  it("compile --weights stops with the diagnostic too", () => {
    const source =
      `import "std/nn.net"\nmodel M()(x: f32[B, 1]) -> (y: f32[B, 1]) {\n  layer w = Linear(1, ` +
      `1)\n  return w(x)\n}\n`;
    const r = compile(source, { file: "m.net", weights: [fixture("budget_fanout.pth")] });
    expect(r.diagnostics.map((d) => d.code)).toEqual(["NET6017"]);
  });
});

/** A safetensors file of `n` one-element f32 tensors named t0, t1, ... */
function manyTensors(n: number): string {
  const header: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) header[`t${i}`] = { dtype: "F32", shape: [1], data_offsets: [4 * i, 4 * i + 4] };
  let text = JSON.stringify(header);
  text += " ".repeat((8 - (text.length % 8)) % 8);
  const file = path.join(dir, `many-${n}.safetensors`);
  if (fs.existsSync(file)) return file;
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(text.length));
  const data = Buffer.alloc(4 * n);
  for (let i = 0; i < n; i++) data.writeFloatLE(i, 4 * i);
  fs.writeFileSync(file, Buffer.concat([length, Buffer.from(text), data]));
  return file;
}

describe("very many tensors", () => {
  it("a safetensors file with 200,000 tensors opens, inspects and maps (all but one unexpected)", () => {
    const file = manyTensors(200_000);
    const ckpt = openCheckpoint(file);
    try {
      expect(ckpt.tensors).toHaveLength(200_000);
      expect(inspectCheckpoint(ckpt, { maxTensorsPerDict: 3 })).toContain("... 199,997 more tensors");
      const { weights, report } = importWeights([{ path: "t7", dtype: "f32", shape: [1] }], [{ checkpoint: ckpt }]);
      expect(values(weights.get("t7")!)).toEqual([7]);
      expect(report.unexpected).toHaveLength(199_999);
    } finally {
      ckpt.close();
    }
  });

  it("compiling against it gives one warning per unexpected tensor, without a spread call overflowing", () => {
    const file = manyTensors(200_000);
    const source = `model M()(x: f32[B, 1]) -> (y: f32[B, 1]) {\n  param t7: f32[1]\n  return x * t7\n}\n`;
    const r = compile(source, { file: "m.net", weights: [file], allowUnexpected: true });
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(r.onnx).toBeDefined();
  });
});

const PYTHON = "/usr/bin/python3";
const noTorch = spawnSync(PYTHON, ["-c", "import torch"]).status !== 0;
if (noTorch) console.warn(`skipped: ${PYTHON} with torch is needed to write a checkpoint of 130,000 tensors`);

describe.skipIf(noTorch)("a .pth of 130,000 tensors", () => {
  const file = path.join(dir, "many.pth");
  beforeAll(() => {
    // Two storages of 65,000 elements, each element a tensor of its own: within the fan-out budget.
    const script = [
      "import sys, torch",
      "bases = [torch.arange(65000, dtype=torch.float32) + 65000 * b for b in range(2)]",
      "torch.save({f'layer{i}.w': bases[i // 65000][i % 65000:i % 65000 + 1] for i in range(130000)}, sys.argv[1])",
    ].join("\n");
    const made = spawnSync(PYTHON, ["-c", script, file], { encoding: "utf8" });
    expect(made.status, made.stderr).toBe(0);
  }, 120_000);

  it("a long training log (2,500,000 numbers, none shared) is data, not an attack: the values budget grows with " +
    "the pickle", () => {
    const log = path.join(dir, "log.pth");
    const script =
      "import sys, torch\ntorch.save({'state_dict': {'w': torch.ones(1)}, 'loss': [i / 8 for i in " +
      "range(2500000)]}, sys.argv[1])";
    const made = spawnSync(PYTHON, ["-c", script, log], { encoding: "utf8" });
    expect(made.status, made.stderr).toBe(0);
    const ckpt = openCheckpoint(log);
    try {
      const loss = ckpt.root.kind === "dict" ? ckpt.root.entries.find((e) => e.key === "loss")?.node : undefined;
      expect(loss?.kind === "list" && loss.items.length).toBe(2_500_000);
    } finally {
      ckpt.close();
    }
  }, 60_000);

  it("opens, inspects and maps without deep recursion or spread calls (all but one unexpected)", () => {
    const ckpt = openCheckpoint(file);
    try {
      expect(ckpt.tensors).toHaveLength(130_000);
      expect(inspectCheckpoint(ckpt, { maxTensorsPerDict: 2 })).toContain("... 129,998 more tensors");
      const { weights, report } = importWeights(
        [{ path: "layer99999.w", dtype: "f32", shape: [1] }],
        [{ checkpoint: ckpt }],
      );
      expect(values(weights.get("layer99999.w")!)).toEqual([99999]);
      expect(report.unexpected).toHaveLength(129_999);
    } finally {
      ckpt.close();
    }
  });
});
