// Every TypeScript snippet of docs/embedding.md runs, in order, in one folder holding the model and checkpoint the
// doc describes (`netc` imports mapped to the sources, packages such as onnxruntime-node to this project's copy, as
// a user's project that installed them would resolve them). The browser snippet (```js) needs a page: its calls are
// type-checked and bundled by tools/package-check.sh instead.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const FILES = join(ROOT, "test/diagnostics/commands/files");
const projectRequire = createRequire(join(ROOT, "package.json"));
const snippets = [...readFileSync(join(ROOT, "docs/embedding.md"), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map(
  (m) => m[1],
);

const IMPORTS: Record<string, string> = {
  netc: join(ROOT, "src/index.ts"),
  "netc/runtime": join(ROOT, "src/runtime/index.ts"),
  "netc/runtime/node": join(ROOT, "src/runtime/node.ts"),
};

describe("docs/embedding.md", () => {
  const dir = mkdtempSync(join(tmpdir(), "netc-embedding-"));
  copyFileSync(join(FILES, "tiny.net"), join(dir, "model.net"));
  copyFileSync(join(FILES, "tiny.pth"), join(dir, "checkpoint.pth"));
  const cwd = process.cwd();
  afterAll(() => process.chdir(cwd));

  it("has the snippets the tests expect", () => expect(snippets.length).toBeGreaterThanOrEqual(7));

  it.each(snippets.map((code, i) => [i + 1, code.split("\n")[0], code] as const))(
    "snippet %i runs (%s)",
    async (i, _first, code) => {
      const source = code
        .replace(
          /from "(netc(?:\/runtime(?:\/node)?)?)"/g,
          (_m, name: string) => `from ${JSON.stringify(IMPORTS[name])}`,
        )
        .replace(
          /from "(onnxruntime-node)"/g,
          (_m, name: string) => `from ${JSON.stringify(projectRequire.resolve(name))}`,
        );
      const file = join(dir, `snippet-${i}.ts`);
      writeFileSync(file, `${source}\nexport {};\n`);
      process.chdir(dir);
      try {
        await import(file);
      } finally {
        process.chdir(cwd);
      }
    },
  );

  it("left the files the snippets promise", () => {
    for (const f of ["model.onnx", "model-random.onnx", "model-wgsl/manifest.json", "model.safetensors"])
      expect(existsSync(join(dir, f)), f).toBe(true);
  });
});
