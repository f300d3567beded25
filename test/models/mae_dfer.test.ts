// models/mae_dfer.net against the official MAE-DFER code (github sunlicai/MAE-DFER, modeling_finetune.py): five
// reduced configurations recorded by tools/record_mae_dfer.py into test/fixtures/mae_dfer/. The checkpoints are
// regenerated here from each manifest by tools/make_mae_dfer_checkpoint.py (python3-torch, no official code), in
// the official container ({'model', 'optimizer', 'epoch', 'scaler', 'args'}), and compiled with --weights.
// Then: mutations of the .net source, one detail at a time, each of which the case must catch.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOnnx } from "../../src/backends/onnx/index.js";
import { compile, compileToGraph, graphStats } from "../../src/index.js";
import type { HostTensor } from "../../src/util/tensor.js";
import type { WeightReport } from "../../src/weights/mapping.js";
import { checkerTest, ModelBatch } from "../helpers/onnx-check.js";
import { npy } from "../helpers/tensors.js";
import { itCatchesEach, type Mutation } from "./mutations.js";

const ROOT = resolve(__dirname, "../..");
const FIXTURES = join(ROOT, "test/fixtures/mae_dfer");
const MODEL = join(ROOT, "models/mae_dfer.net");
const GENERATOR = join(ROOT, "tools/make_mae_dfer_checkpoint.py");
const PYTHON = "/usr/bin/python3";
const TOLERANCE = 1e-4;
const CONFIGS = ["small", "alternative", "no-second", "no-third", "joint"] as const;

interface Manifest {
  seed: number;
  config: Record<string, unknown>;
  state_dict: [string, number[], string, string?][];
}
const manifest = (name: string): Manifest => JSON.parse(readFileSync(join(FIXTURES, name, "manifest.json"), "utf8"));

/** The recorded configuration as `--set` values: every key is a parameter of the model, with the same name. */
function maeDferOverrides(name: string): Record<string, string> {
  const sets = Object.entries(manifest(name).config).map(([k, v]) => [
    k,
    typeof v === "string" ? JSON.stringify(v) : Array.isArray(v) ? `[${v.join(", ")}]` : String(v),
  ]);
  return Object.fromEntries(sets);
}

/** Largest difference, the expected tensor read in the actual one's shape (same elements in the same order). */
function worst(actual: HostTensor, expected: HostTensor): number {
  expect(actual.data.length).toBe(expected.data.length);
  let m = 0;
  for (let i = 0; i < actual.data.length; i++)
    m = Math.max(m, Math.abs((actual.data[i] as number) - (expected.data[i] as number)));
  return m;
}
const magnitude = (t: HostTensor) => (t.data as Float32Array).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

function skipReason(): string | undefined {
  const probe = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  if (probe.status !== 0)
    return `skipped: ${PYTHON} with torch is needed to regenerate the checkpoints (apt-get install python3-torch)`;
  return undefined;
}
const skip = skipReason();
if (skip) console.warn(skip);

const dir = mkdtempSync(join(tmpdir(), "netc-mae-dfer-"));
const checkpoint = (name: string) => join(dir, `${name}.pth`);
const input = () => new Map([["video", npy(join(FIXTURES, "input.npy"))]]);

/** What the case compares: graph output or tap, its fixture, and its tolerance (scaled for intermediates). */
function comparisons(name: string): { output: string; expected: HostTensor; tolerance: number }[] {
  const depth = Number(manifest(name).config.depth);
  const at = (file: string) => npy(join(FIXTURES, name, `${file}.npy`));
  const scaled = (file: string) => ({ expected: at(file), tolerance: 1e-5 * Math.max(1, magnitude(at(file))) });
  return [
    { output: "logits", expected: at("logits"), tolerance: TOLERANCE },
    { output: "feature", expected: at("feature"), tolerance: TOLERANCE },
    { output: "embedded", ...scaled("embedded") },
    ...Array.from({ length: depth }, (_, i) => ({ output: `blocks.${i}/out`, ...scaled(`block${i}_out`) })),
  ];
}

async function run(
  source: string,
  name: string,
): Promise<{ outputs: Map<string, HostTensor>; report: WeightReport; onnx: Uint8Array }> {
  const r = compile(source, {
    file: MODEL,
    overrides: maeDferOverrides(name),
    weights: [checkpoint(name)],
    debugOutputs: true,
  });
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return { outputs: await runOnnx(r.onnx!, input(), { threads: 2 }), report: r.weightReport!, onnx: r.onnx! };
}

describe.skipIf(skip)("models/mae_dfer.net against the official code", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeAll(() => {
    for (const name of CONFIGS) {
      const made = spawnSync(PYTHON, [GENERATOR, join(FIXTURES, name, "manifest.json"), checkpoint(name)], {
        encoding: "utf8",
      });
      expect(made.stderr).toBe("");
      expect(made.status).toBe(0);
    }
  }, 120_000);

  const batch = new ModelBatch();
  describe.each(CONFIGS)("%s configuration", (name) => {
    let outputs: Map<string, HostTensor>;
    let report: WeightReport;

    beforeAll(async () => {
      let onnx: Uint8Array;
      ({ outputs, report, onnx } = await run(readFileSync(MODEL, "utf8"), name));
      batch.add(`mae-dfer-${name}`, onnx);
    }, 120_000);

    it("maps every key of the checkpoint's 'model' strictly, with the optimizer, scaler and args around it", () => {
      expect(report.sources).toEqual([`${checkpoint(name)} ['model']`]);
      expect(report.missing).toEqual([]);
      expect(report.unexpected).toEqual([]);
      expect(report.shapeMismatch).toEqual([]);
      expect(report.applied.map((a) => a.key).sort()).toEqual(
        manifest(name)
          .state_dict.map((row) => row[0])
          .sort(),
      );
      // Unused: exactly the names under which a shared official module appears a second time.
      expect(
        report.applied
          .filter((a) => a.unused)
          .map((a) => a.key)
          .sort(),
      ).toEqual(
        manifest(name)
          .state_dict.filter((row) => row[3])
          .map((row) => row[0])
          .sort(),
      );
    });

    it(
      `gives the official logits and feature within ${TOLERANCE}, the embedded tokens and every block's output ` +
        `within 1e-5 of their magnitude`,
      () => {
        for (const { output, expected, tolerance } of comparisons(name)) {
          const got = outputs.get(output);
          expect(got, `the graph has no output ${output}`).toBeDefined();
          expect(worst(got!, expected), output).toBeLessThan(tolerance);
        }
      },
    );
  });

  checkerTest(batch);

  describe("mutations of the .net source, each caught by the small case", () => {
    const source = readFileSync(MODEL, "utf8");
    const MUTATIONS: Mutation[] = [
      ["the attention scale", "else head_dim ** -0.5\n  layer q =", "else head_dim ** -0.25\n  layer q ="],
      [
        "the k/v order of the packed kv projection",
        "let (keys, values) = split(kv(context)",
        "let (values, keys) = split(kv(context)",
      ],
      ["v_bias added to the keys", "values = values + v_bias", "keys = keys + v_bias"],
      [
        "the region token's index",
        "let messengers = reshape(x[:, 0], [b, n, dim])",
        "let messengers = reshape(x[:, 1], [b, n, dim])",
      ],
      ["the region grid order (h and w regions swapped)", "[0, 1, 3, 5, 2, 4, 6, 7]", "[0, 1, 5, 3, 2, 4, 6, 7]"],
      ["the token order inside a region", "[0, 1, 3, 5, 2, 4, 6, 7]", "[0, 1, 3, 5, 2, 6, 4, 7]"],
      [
        "the region token placed last",
        "concat([expand(reshape(lg_region_tokens, [1, n, 1, D]), [B, n, 1, D]), regions], axis = 2)",
        "concat([regions, expand(reshape(lg_region_tokens, [1, n, 1, D]), [B, n, 1, D])], axis = 2)",
      ],
      ["the norm of the interaction's context", "third_attn_norm1(messengers)", "third_attn_norm0(messengers)"],
      ["the sinusoid wavelength exponent", "10000.0 ** (2 * i / d)", "10000.0 ** (i / d)"],
      [
        "sin and cos columns swapped",
        "[unsqueeze(sines, 2), unsqueeze(cosines, 2)]",
        "[unsqueeze(cosines, 2), unsqueeze(sines, 2)]",
      ],
      [
        "the classified token (region token 1, not the mean)",
        "feature = fc_norm(mean(x, [1]))",
        "feature = fc_norm(x[:, 0])",
      ],
      ["the LayerNorm epsilon (1e-6 to 1e-3)", "norm_eps: float = 1e-6", "norm_eps: float = 1e-3"],
      ["the LayerNorm epsilon (1e-6 to 1e-5)", "norm_eps: float = 1e-6", "norm_eps: float = 1e-5"],
    ];

    itCatchesEach(source, MUTATIONS, async (mutated) => {
      const { outputs } = await run(mutated, "small");
      const failing = comparisons("small").filter(
        ({ output, expected, tolerance }) => worst(outputs.get(output)!, expected) >= tolerance,
      );
      expect(failing.map((c) => c.output)).not.toEqual([]);
    });
  });
});

describe("models/mae_dfer.net, the full DFEW configuration (16 x 160 x 160, depth 16, regions 2 x 5 x 10)", () => {
  it("declares the official 84,878,343 parameters and counts 49.65 G multiply-adds per clip", () => {
    const front = compileToGraph(readFileSync(MODEL, "utf8"), { file: MODEL });
    expect(front.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const stats = graphStats(front.graph!);
    expect(stats.parameters).toBe(84_878_343);
    expect(front.graph!.outputs[0].value.shape.at(-1)).toBe(7);
    expect(Math.abs(stats.macs - 49.65e9)).toBeLessThan(0.01e9);
  }, 60_000);
});

describe("models/mae_dfer.net's attention-sharing switches (the small configuration)", () => {
  // The official LGBlock assigns first_attn to second_attn (sharing all) and third_attn (sharing either): one module
  // under several names, whose state dict holds its tensors under each. Those names are declared and never read.
  const SHARING = [
    { first_third: false, all: false },
    { first_third: true, all: false },
    { first_third: false, all: true },
    { first_third: true, all: true },
  ];
  it.each(SHARING)("first_third $first_third, all $all: no warning, the aliases' weights declared unused", (s) => {
    const source = readFileSync(MODEL, "utf8");
    for (const first of ["self", "cross"])
      for (const third of ["self", "cross"]) {
        const front = compileToGraph(source, {
          file: MODEL,
          overrides: {
            ...maeDferOverrides("small"),
            lg_first_attn_type: JSON.stringify(first),
            lg_third_attn_type: JSON.stringify(third),
            lg_no_second: "false",
            lg_no_third: "false",
            lg_attn_param_sharing_first_third: String(s.first_third),
            lg_attn_param_sharing_all: String(s.all),
          },
        });
        const setting = `${first}/${third}`;
        expect(
          front.diagnostics.map((d) => `${d.code} ${d.message}`),
          setting,
        ).toEqual([]);
        const unused = new Set(
          front.graph!.params.filter((p) => p.unused).map((p) => p.path.split(".").slice(0, 3).join(".")),
        );
        const aliases = [
          ...(s.all ? ["blocks.0.second_attn", "blocks.1.second_attn"] : []),
          ...(s.all || s.first_third ? ["blocks.0.third_attn", "blocks.1.third_attn"] : []),
        ];
        expect([...unused].sort(), setting).toEqual(aliases.sort());
      }
  });
});

it("the fixtures exist", () => expect(existsSync(join(FIXTURES, "input.npy"))).toBe(true));
