// Every code block in README.md and docs/*.md says what it is in its info string, and every `.net` one is checked:
//   ```net                   a complete file: parses and checks (the model elaborates) with no errors
//   ```net fragment          statements out of context: they parse as a body
//   ```net excerpt <path>    lines of <path> (`...` marks a cut): each line's tokens appear in order in that file
//   ```net weights <file>    a `weights { }` block of a model body: applied to the checkpoint <file>, its rules give
//                            the names the test below spells out (docs/weights.md)
// Other blocks are ```sh or ```text. docs/diagnostics.md is generated from the golden cases and is not listed here.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compileToGraph } from "../../src/driver.js";
import { netLexer } from "../../src/dsl/1-parse/lexer.js";
import { parseSource } from "../../src/dsl/1-parse/parse.js";
import { runNetc } from "../helpers/cli.js";

const ROOT = resolve(import.meta.dirname, "../..");
const DOCS = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md") && f !== "diagnostics.md")
    .map((f) => `docs/${f}`),
];

interface CodeBlock {
  doc: string;
  line: number;
  info: string;
  code: string;
}

function codeBlocks(doc: string): CodeBlock[] {
  const lines = readFileSync(join(ROOT, doc), "utf8").split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.indexOf("```", i + 1);
    blocks.push({ doc, line: i + 1, info: open[1].trim(), code: `${lines.slice(i + 1, end).join("\n")}\n` });
    i = end;
  }
  return blocks;
}

const blocks = DOCS.flatMap(codeBlocks);
const netBlocks = (kind: string) =>
  blocks.filter((b) => b.info.split(" ")[0] === "net" && (b.info.split(" ")[1] ?? "") === kind);
const where = (b: CodeBlock) => `${b.doc}:${b.line}`;
const errorsOf = (diagnostics: { severity: string; span?: { line: number }; message: string }[]) =>
  diagnostics.filter((d) => d.severity === "error").map((d) => `${d.span?.line}: ${d.message}`);

describe("code blocks in the docs", () => {
  it("all say what they are", () => {
    const unlabelled = blocks.filter(
      (b) => !/^(net( (fragment|excerpt \S+|weights \S+))?|sh|text|ts|js)$/.test(b.info),
    );
    expect(unlabelled.map((b) => `${where(b)} \`\`\`${b.info}`)).toEqual([]);
    expect(netBlocks("").length).toBeGreaterThanOrEqual(2);
  });
});

describe.each(netBlocks("").map((b) => [where(b), b] as const))("complete example %s", (_, block) => {
  it("parses and checks", () => {
    const r = compileToGraph(block.code, { file: join(ROOT, block.doc) });
    expect(errorsOf(r.diagnostics)).toEqual([]);
  });
});

describe.each(netBlocks("fragment").map((b) => [where(b), b] as const))("fragment %s", (_, block) => {
  it("parses as statements", () => {
    const { diagnostics } = parseSource("fragment.net", `fn fragment() {\n${block.code}  return 0\n}\n`);
    expect(errorsOf(diagnostics)).toEqual([]);
  });
});

/** The token texts of some code, comments left out, each with a space on both sides (for substring search). */
const tokenText = (code: string) =>
  ` ${netLexer
    .tokenize(code)
    .tokens.map((t) => t.image)
    .join(" ")} `;

describe.each(blocks.filter((b) => b.info.startsWith("net excerpt ")).map((b) => [where(b), b] as const))(
  "excerpt %s",
  (_, block) => {
    it("quotes its file: each line (cut at `...`) is a run of tokens in it, however fmt broke that code", () => {
      const file = tokenText(readFileSync(join(ROOT, block.info.split(" ")[2]), "utf8"));
      const runs = block.code
        .split("\n")
        .flatMap((part) => tokenText(part).split(" ... "))
        .map((run) => run.trim())
        .filter((run) => run !== "");
      expect(runs.length).toBeGreaterThan(0);
      expect(runs.filter((run) => !file.includes(` ${run} `))).toEqual([]);
    });
  },
);

/** A model whose weights are named as the rules of docs/weights.md's example should make them. */
const WEIGHTS_MODEL = (rules: string) => `import "std/nn.net"

block Norms()(x: f32[B, 8]) -> f32[B, 8] {
  layer norm1 = LayerNorm(8)
  layer norm2 = LayerNorm(8)
  return norm2(norm1(x))
}

block Projection(in_dim: int)(x: f32[B, in_dim]) -> f32[B, 8] {
  layer proj = Linear(in_dim, 8, has_bias = in_dim == 8)
  return proj(x)
}

block Qkv()(x: f32[B, 8]) -> f32[B, 8] {
  layer q = Linear(8, 8, has_bias = false)
  layer k = Linear(8, 8, has_bias = false)
  layer v = Linear(8, 8, has_bias = false)
  return q(x) + k(x) + v(x)
}

model DocWeights()(x: f32[B, 8], patches: f32[B, 6]) -> f32[B, 3] {
  layer backbone = Projection(8)
  layer attn = Qkv()
  layer patch_embed = Projection(6)
  layer head = Linear(8, 3)
  param cls_token: f32[8]
  param index_even: i64[4]
  x = backbone(x) + attn(x) + patch_embed(patches) + cls_token
  for i in 0..2 {
    layer blocks[i] = Norms()
    x = blocks[i](x)
  }
  let even = gather(x, index_even, axis = 1)
${rules.replace(/^/gm, "  ").trimEnd()}
  return head(x) + mean(even, [1], keepdims = true)
}
`;

/** Name, element type and shape of each tensor in a safetensors file. */
function safetensorsHeader(path: string): Record<string, string> {
  const bytes = readFileSync(path);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString("utf8")) as Record<
    string,
    { dtype: string; shape: number[] }
  >;
  return Object.fromEntries(
    Object.entries(header)
      .filter(([k]) => k !== "__metadata__")
      .map(([k, v]) => [k, `${v.dtype}[${v.shape.join(", ")}]`]),
  );
}

describe.each(netBlocks("weights").map((b) => [where(b), b] as const))("weights example %s", (_, block) => {
  it("maps the checkpoint's keys onto the intended names", async () => {
    const checkpoint = join(ROOT, block.info.split(" ")[2]);
    const dir = mkdtempSync(join(tmpdir(), "netc-doc-weights-"));
    const model = join(dir, "doc-weights.net");
    writeFileSync(model, WEIGHTS_MODEL(block.code));
    const out = join(dir, "out.safetensors");
    const r = await runNetc("weights", "import", checkpoint, "--model", model, "-o", out, "--allow-missing");
    expect(r.code, r.err).toBe(0);
    // Each rule did its part: subdict + strip (no `module.`), rename (backbone), rename_regex (norm1/norm2),
    // transpose (head.weight [3, 8] from [8, 3]), reshape (cls_token [8] from [1, 1, 8]), cast (I64 from int32),
    // split (q, k, v from in_proj_weight [24, 8]); head_dist dropped; the mismatched patch embedding left out.
    expect(safetensorsHeader(out)).toEqual({
      "backbone.proj.weight": "F32[8, 8]",
      "backbone.proj.bias": "F32[8]",
      "attn.q.weight": "F32[8, 8]",
      "attn.k.weight": "F32[8, 8]",
      "attn.v.weight": "F32[8, 8]",
      "head.weight": "F32[3, 8]",
      "head.bias": "F32[3]",
      cls_token: "F32[8]",
      index_even: "I64[4]",
      ...Object.fromEntries(
        [0, 1].flatMap((i) =>
          [1, 2].flatMap((n) => ["weight", "bias"].map((p) => [`blocks.${i}.norm${n}.${p}`, "F32[8]"])),
        ),
      ),
    });
    expect(r.err).toContain("patch_embed.proj.weight");
    expect(r.err).toContain("head_dist.weight");
  });
});
