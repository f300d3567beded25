// Each reference model's declared preprocessing, run by netc on PNG frames, against the official test loaders as
// the specs describe them, reproduced with torch (tools/make_preprocess_fixtures.py; test/fixtures/preprocess).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as A from "../../src/dsl/1-parse/ast.js";
import { checkSource } from "../../src/compiler/compile.js";
import { openClip } from "../../src/dataset/frames.js";
import { prepareClip } from "../../src/dataset/prepare.js";
import { readPreprocess } from "../../src/preprocess/spec.js";
import { readNpyFile } from "../../src/util/npy.js";

const FIXTURES = "test/fixtures/preprocess";
const manifest = JSON.parse(readFileSync(join(FIXTURES, "manifest.json"), "utf8")) as {
  stride: number;
  models: Record<string, { file: string; views_shape: number[]; frames_height_width: [number, number, number] }>;
};
const dir = mkdtempSync(join(tmpdir(), "netc-preprocess-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const npy = (path: string) => {
  const read = readNpyFile(path);
  if (!read.ok) throw new Error(read.diagnostic.message);
  return read.tensor;
};

beforeAll(() => {
  const frames = npy(join(FIXTURES, "frames.npy"));
  const [n, height, width] = frames.shape;
  mkdirSync(join(dir, "clip"));
  for (let t = 0; t < n; t++) {
    const png = new PNG({ width, height });
    for (let i = 0; i < width * height; i++) {
      for (let c = 0; c < 3; c++) png.data[4 * i + c] = Number(frames.data[(t * width * height + i) * 3 + c]);
      png.data[4 * i + 3] = 255;
    }
    writeFileSync(join(dir, "clip", `${t + 1}.png`), PNG.sync.write(png));
  }
});

function declaredPreprocess(model: string) {
  const file = `models/${model}.net`;
  const { program, diagnostics } = checkSource(readFileSync(file, "utf8"), { file });
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const decl = program.entry.items.find((i): i is A.ModelDecl => i.kind === "Model")!;
  const stmt = decl.body.find((s): s is A.PreprocessStmt => s.kind === "Preprocess");
  expect(stmt, `${file} declares its preprocessing`).toBeDefined();
  return readPreprocess(stmt!).spec;
}

describe.each(Object.keys(manifest.models))("%s's declared preprocessing", (model) => {
  it("gives the official loader's views within 1e-5", async () => {
    const { file, views_shape, frames_height_width } = manifest.models[model];
    const [frames, height, width] = frames_height_width;
    const spec = { ...declaredPreprocess(model), frames, height, width };
    const views = await prepareClip(await openClip(join(dir, "clip")), spec);
    const expected = npy(join(FIXTURES, file));
    expect(views.length).toBe(views_shape[0]);
    const [, a, b, h, w] = views_shape;
    const s = manifest.stride;
    const [hs, ws] = [Math.ceil(h / s), Math.ceil(w / s)];
    let worst = 0;
    views.forEach((view, v) => {
      for (let i = 0; i < a * b; i++)
        for (let y = 0; y < hs; y++)
          for (let x = 0; x < ws; x++) {
            const ours = view[(i * h + y * s) * w + x * s];
            const theirs = Number(expected.data[((v * a * b + i) * hs + y) * ws + x]);
            worst = Math.max(worst, Math.abs(ours - theirs));
          }
    });
    expect(worst).toBeLessThan(1e-5);
  });
});
