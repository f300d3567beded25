// Peak memory while writing a model with ~300 MB of weights, measured in a child process: the resident set may grow
// by less than half the weights' size, with random weights and with weights from a checkpoint (writing the model
// in one buffer, as netc did before streaming, grows it by about twice the weights). The child writes as netc does,
// with the read-ahead threads (their ring, their isolates) on.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lazyTensor } from "../../src/util/lazy-tensor.js";
import { writeSafetensors } from "../../src/weights/safetensors.js";

const ROOT = resolve(__dirname, "../..");
const CHILD = join(__dirname, "memory/compile-child.ts");
const WIDTH = 2048;
const LAYERS = 18; // 18 x 2048 x 2048 x 4 bytes: 302 MB of weights (and 147 KB of biases)

const SOURCE = `import "std/nn.net"

model Wide()(x: f32[B, ${WIDTH}]) -> (y: f32[B, ${WIDTH}]) {
${Array.from({ length: LAYERS }, (_, i) => `  layer fc${i} = Linear(${WIDTH}, ${WIDTH})`).join("\n")}
  return ${Array.from({ length: LAYERS }, (_, i) => `fc${i}(`).join("")}x${")".repeat(LAYERS)}
}
`;

const dir = mkdtempSync(join(tmpdir(), "netc-memory-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Measured {
  weightBytes: number;
  before: number;
  peak: number;
  growth: number;
}

function compileInChild(...args: string[]): Measured {
  const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", CHILD, ...args], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`the child compile failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Measured;
}

describe("writing a model with 300 MB of weights", () => {
  const model = join(dir, "wide.net");
  writeFileSync(model, SOURCE);
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;

  it("with random weights, grows the resident set by less than half the weights", () => {
    const out = join(dir, "random.onnx");
    const m = compileInChild(model, out);
    expect(m.weightBytes).toBeGreaterThan(300e6);
    expect(statSync(out).size).toBeGreaterThan(m.weightBytes);
    expect(m.growth, `grew ${mb(m.growth)} from ${mb(m.before)} writing ${mb(m.weightBytes)}`).toBeLessThan(
      m.weightBytes / 2,
    );
    rmSync(out);
  }, 300_000);

  it("with weights from a checkpoint, grows the resident set by less than half the weights", () => {
    const checkpoint = join(dir, "wide.safetensors");
    // Written a tensor at a time, so this process does not hold them either.
    const tensors = Array.from({ length: LAYERS }, (_, i) => [
      { name: `fc${i}.weight`, shape: [WIDTH, WIDTH] },
      { name: `fc${i}.bias`, shape: [WIDTH] },
    ]).flat();
    writeSafetensors(
      checkpoint,
      tensors.map(({ name, shape }, i) => ({
        name,
        ...lazyTensor("f32", shape, () => {
          const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(i / 1000);
          return { dtype: "f32", shape, data };
        }),
      })),
    );
    const out = join(dir, "checkpoint.onnx");
    const m = compileInChild(model, out, checkpoint);
    expect(statSync(out).size).toBeGreaterThan(m.weightBytes);
    expect(m.growth, `grew ${mb(m.growth)} from ${mb(m.before)} writing ${mb(m.weightBytes)}`).toBeLessThan(
      m.weightBytes / 2,
    );
    rmSync(out);
    rmSync(checkpoint);
  }, 300_000);
});
