// The language server driven over JSON-RPC streams by an in-process client: diagnostics as a document changes,
// hover shapes, definitions into the standard library, completion, symbols, formatting equal to `netc fmt`'s.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileToGraph } from "../../src/driver.js";
import { formatSource } from "../../src/dsl/format/index.js";
import { FrameReader, frame } from "../../src/lsp/rpc.js";
import { TextDocument } from "../../src/lsp/documents.js";
import { Client, uri } from "./client.js";

const ROOT = resolve(__dirname, "../..");
const TINY = resolve(ROOT, "examples/tiny.net");
const IFDD = resolve(ROOT, "models/ifdd.net");

let client: Client;
let tiny: string;
let ifdd: string;

beforeAll(async () => {
  client = new Client();
  const init = (await client.connection.request("initialize", {
    processId: null,
    rootUri: uri(ROOT),
    capabilities: {},
  })) as { capabilities: Record<string, unknown> };
  expect(init.capabilities).toMatchObject({
    textDocumentSync: { change: 2 },
    hoverProvider: true,
    definitionProvider: true,
    documentFormattingProvider: true,
  });
  client.connection.notify("initialized", {});
  tiny = client.open(TINY);
  ifdd = client.open(IFDD);
}, 60_000);

afterAll(async () => {
  await client.connection.request("shutdown", null);
});

describe("netc lsp on examples/tiny.net", () => {
  it("publishes no diagnostics for a file that compiles", async () => {
    expect(await client.diagnostics(tiny, 1)).toEqual([]);
  });

  it("hovers a let name, an expression and a model input with their symbolic shapes", async () => {
    // frames: f32[B, 8, 64] split along 1 into even and odd halves: 4 each.
    expect(await client.hover(tiny, "(a, d)", 1)).toContain("a: f32[B, 4, 64]");
    expect(await client.hover(tiny, "frames along")).toContain("f32[B, 8, 64]");
    // Inside Classifier, instantiated as `classify` on `a`: x is f32[B, 4, 64], and `norm` is the instance's layer.
    expect(await client.hover(tiny, "norm(x), [1])", 5)).toContain("f32[B, 4, 64]");
    expect(await client.hover(tiny, "mean(norm", 5)).toContain("layer classify.norm: LayerNorm");
  });

  it("hovers a layer with its weight path and parameter count", async () => {
    // Linear(64, 64): 64 * 64 weights and 64 biases.
    const q = await client.hover(tiny, "layer q", 6);
    expect(q).toContain("layer q: Linear");
    expect(q).toContain("4,160 parameters in 2 tensors");
  });

  it("hovers a block with its signature and doc comment, and a builtin with its signature", async () => {
    const linear = await client.hover(tiny, "Linear(dim, dim)");
    expect(linear).toContain("block Linear(in_features: int, out_features: int, has_bias: bool = true)");
    expect(linear).toContain("torch.nn.Linear");
    expect(await client.hover(tiny, "mean(")).toContain("builtin mean(x, axes");
  });

  it("shows let shapes as inlay hints", async () => {
    const hints = (await client.connection.request("textDocument/inlayHint", {
      textDocument: { uri: tiny },
      range: { start: { line: 0, character: 0 }, end: { line: 100, character: 0 } },
    })) as { position: { line: number; character: number }; label: string }[];
    // The two lets of the model: split_index's pair of halves and lift's pair, each f32[B, 4, 64].
    expect(hints).toEqual([
      {
        position: client.position(tiny, "(approx, detail) = split", 16),
        label: ": (f32[B, 4, 64], f32[B, 4, 64])",
        kind: 1,
        paddingLeft: false,
      },
      {
        position: client.position(tiny, "(a, d) = lift", 6),
        label: ": (f32[B, 4, 64], f32[B, 4, 64])",
        kind: 1,
        paddingLeft: false,
      },
    ]);
  });

  it("goes to a block's definition in the standard library and to a local let", async () => {
    const def = (await client.connection.request("textDocument/definition", {
      textDocument: { uri: tiny },
      position: client.position(tiny, "Linear(dim, dim)"),
    })) as { uri: string; range: { start: { line: number } } };
    expect(def.uri).toBe(uri(resolve(ROOT, "stdlib/nn.net")));
    const nn = readFileSync(resolve(ROOT, "stdlib/nn.net"), "utf8").split("\n");
    expect(nn[def.range.start.line]).toMatch(/^block Linear\(/);
    const local = (await client.connection.request("textDocument/definition", {
      textDocument: { uri: tiny },
      position: client.position(tiny, "classify(a)", 9),
    })) as { uri: string; range: { start: { line: number; character: number } } };
    expect(local.uri).toBe(tiny);
    expect(client.docs.get(tiny)!.text.split("\n")[local.range.start.line]).toContain("let (a, d) = lift");
  });

  it("finds a block's references across files, and a let's in its own declaration only", async () => {
    const refs = (await client.connection.request("textDocument/references", {
      textDocument: { uri: tiny },
      position: client.position(tiny, "Linear(dim, dim)"),
      context: { includeDeclaration: false },
    })) as { uri: string; range: { start: { line: number; character: number } } }[];
    const inTiny = refs.filter((r) => r.uri === tiny).map((r) => r.range.start.line);
    // The two `Linear(...)` layers of the model (q and kv); Classifier's `head` is a Linear too.
    const lines = client.docs.get(tiny)!.text.split("\n");
    const expected = lines.flatMap((l, i) => (/\bLinear\(/.test(l) ? [i] : []));
    expect(inTiny).toEqual(expected);
    // The standard library's own uses of Linear (its blocks build on it).
    const nn = uri(resolve(ROOT, "stdlib/nn.net"));
    const nnText = readFileSync(resolve(ROOT, "stdlib/nn.net"), "utf8");
    expect(refs.filter((r) => r.uri === nn).length).toBe([...nnText.matchAll(/\bLinear\(/g)].length - 1); // less the declaration
    const approx = (await client.connection.request("textDocument/references", {
      textDocument: { uri: tiny },
      position: client.position(tiny, "approx, detail) = split", 0),
      context: { includeDeclaration: true },
    })) as unknown[];
    // Its definition and its two uses: `approx = approx`'s value, and `cross_attention(approx, ...)` in the lift's
    // step (the lift's own `approx` binding is not a definition of its own yet, so it resolves to the let).
    expect(approx.map((r) => (r as { range: { start: { line: number } } }).range.start.line)).toEqual([9, 12, 13]);
  });

  it("completes names in scope, blocks of imports, builtins and keywords", async () => {
    const items = (await client.connection.request("textDocument/completion", {
      textDocument: { uri: tiny },
      position: client.position(tiny, "return classify"),
    })) as { label: string }[];
    const labels = items.map((i) => i.label);
    for (const name of [
      "frames",
      "approx",
      "q",
      "kv",
      "dim",
      "Classifier",
      "Linear",
      "LayerNorm",
      "softmax",
      "let",
      "layer",
    ])
      expect(labels).toContain(name);
    // Inside Classifier, the model's names are not in scope.
    const inBlock = (await client.connection.request("textDocument/completion", {
      textDocument: { uri: tiny },
      position: client.position(tiny, "return head"),
    })) as { label: string }[];
    expect(inBlock.map((i) => i.label)).toContain("norm");
    expect(inBlock.map((i) => i.label)).not.toContain("frames");
  });

  it("lists blocks and models with their layers as document symbols", async () => {
    const symbols = (await client.connection.request("textDocument/documentSymbol", {
      textDocument: { uri: tiny },
    })) as { name: string; children: { name: string }[] }[];
    expect(symbols.map((s) => s.name)).toEqual(["Classifier", "Tiny"]);
    expect(symbols[1].children.map((c) => c.name)).toEqual(["q", "kv", "classify"]);
  });

  it("reports an error a change introduces, with its range and reference link, and clears it when fixed", async () => {
    const broken = client.change(tiny, "classify(a)", "classify(aa)");
    const diagnostics = await client.diagnostics(tiny, broken);
    expect(diagnostics.length).toBeGreaterThan(0);
    const d = diagnostics[0];
    expect(d.message).toContain("aa");
    const at = client.position(tiny, "classify(aa)", 9);
    expect(d.range.start).toEqual(at);
    expect(d.range.end).toEqual({ line: at.line, character: at.character + 2 });
    expect(d.codeDescription?.href).toMatch(new RegExp(`docs/diagnostics\\.md#${d.code.toLowerCase()}-error$`));
    const fixed = client.change(tiny, "classify(aa)", "classify(a)");
    expect(await client.diagnostics(tiny, fixed)).toEqual([]);
  });

  it("offers a did-you-mean quick fix, whose edit clears the diagnostic", async () => {
    const broken = client.change(tiny, "return classify(a)", "return clasify(a)");
    const diagnostics = await client.diagnostics(tiny, broken);
    const unknown = diagnostics.find((d) => d.message.includes("'clasify'"));
    expect(unknown).toBeDefined();
    const actions = (await client.connection.request("textDocument/codeAction", {
      textDocument: { uri: tiny },
      range: unknown!.range,
      context: { diagnostics: [unknown] },
    })) as {
      title: string;
      edit: {
        changes: Record<
          string,
          {
            range: { start: { line: number; character: number }; end: { line: number; character: number } };
            newText: string;
          }[]
        >;
      };
    }[];
    expect(actions.map((a) => a.title)).toEqual(["Change to 'classify'"]);
    const [edit] = actions[0].edit.changes[tiny];
    const doc = client.docs.get(tiny)!;
    const version = doc.version + 1;
    doc.apply([{ range: edit.range, text: edit.newText }], version);
    client.connection.notify("textDocument/didChange", {
      textDocument: { uri: tiny, version },
      contentChanges: [{ range: edit.range, text: edit.newText }],
    });
    expect(doc.text).toBe(readFileSync(TINY, "utf8"));
    expect(await client.diagnostics(tiny, version)).toEqual([]);
  });

  it("formats a document exactly as netc fmt does", async () => {
    const messy = resolve(ROOT, "examples/tiny-unformatted.net");
    const text = readFileSync(TINY, "utf8").replace("layer q = Linear(dim, dim)", "layer   q=Linear( dim,dim )");
    const messyUri = client.open(messy, text);
    const edits = (await client.connection.request("textDocument/formatting", {
      textDocument: { uri: messyUri },
      options: { tabSize: 2, insertSpaces: true },
    })) as {
      range: { start: { line: number; character: number }; end: { line: number; character: number } };
      newText: string;
    }[];
    const doc = new TextDocument(messyUri, 1, text);
    doc.apply(
      edits.map((e) => ({ range: e.range, text: e.newText })),
      2,
    );
    const expected = formatSource(messy, text).text;
    expect(expected).toBeDefined();
    expect(expected).not.toBe(text);
    expect(doc.text).toBe(expected);
    client.connection.notify("textDocument/didClose", { textDocument: { uri: messyUri } });
  });
});

describe("netc lsp on models/ifdd.net", () => {
  it("publishes the same diagnostics as netc check", async () => {
    const published = await client.diagnostics(ifdd, 1);
    const check = compileToGraph(readFileSync(IFDD, "utf8"), {
      file: IFDD,
      requireModel: false,
      noteUncheckedBlocks: true,
    });
    expect(published.map((d) => d.code)).toEqual(check.diagnostics.map((d) => d.code));
  });

  it("hovers the model's input, a let and the feature with symbolic batch", async () => {
    expect(await client.hover(ifdd, "embed(video)", 6)).toContain("f32[B, 3, 16, 224, 224]");
    expect(await client.hover(ifdd, "let feature", 4)).toContain("feature: f32[B, 768]");
  });

  it("counts a layer's parameters as the compiled graph holds them", async () => {
    const graph = compileToGraph(readFileSync(IFDD, "utf8"), { file: IFDD }).graph!;
    const backbone = graph.params.filter((p) => p.path.startsWith("backbone."));
    const count = backbone.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    expect(count).toBeGreaterThan(1_000_000);
    expect(await client.hover(ifdd, "backbone(embed")).toContain(
      `${count.toLocaleString("en-US")} parameters in ${backbone.length} tensors`,
    );
  });
});

describe("the JSON-RPC framing", () => {
  it("reassembles messages split across chunks and several in one chunk", () => {
    const got: unknown[] = [];
    const reader = new FrameReader((m) => got.push(m));
    const bytes = Buffer.concat([
      frame({ jsonrpc: "2.0", method: "a", params: { text: "é∑" } }),
      frame({ jsonrpc: "2.0", method: "b" }),
    ]);
    for (let i = 0; i < bytes.length; i += 7) reader.push(bytes.subarray(i, i + 7));
    expect(got).toEqual([
      { jsonrpc: "2.0", method: "a", params: { text: "é∑" } },
      { jsonrpc: "2.0", method: "b" },
    ]);
  });
});
