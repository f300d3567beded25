// The language server's editing aids over JSON-RPC: signature help, semantic tokens, the compiler's quick fixes, hover
// where nothing concrete elaborates (model parameters without defaults, blocks no model uses), reuse of parses
// between edits, and messages that are not well-formed, which get JSON-RPC errors and never stop the server.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileToGraph } from "../../src/driver.js";
import { netLexer } from "../../src/dsl/1-parse/lexer.js";
import { callableSignature } from "../../src/dsl/signatures/builtins.js";
import { frame } from "../../src/lsp/rpc.js";
import { TOKEN_MODIFIERS, TOKEN_TYPES } from "../../src/lsp/semantic-tokens.js";
import { Client, type LspDiagnostic, uri } from "./client.js";

const ROOT = resolve(__dirname, "../..");
const TINY = resolve(ROOT, "examples/tiny.net");
const STDLIB = readFileSync(resolve(ROOT, "stdlib/nn.net"), "utf8");

interface Range {
  start: { line: number; character: number };
  end: { line: number; character: number };
}
interface SignatureHelp {
  signatures: { label: string; parameters: { label: [number, number] }[] }[];
  activeParameter: number;
}
interface CodeAction {
  title: string;
  edit: { changes: Record<string, { range: Range; newText: string }[]> };
}

let client: Client;

beforeAll(async () => {
  client = new Client();
  await client.connection.request("initialize", { processId: null, rootUri: uri(ROOT), capabilities: {} });
  client.connection.notify("initialized", {});
});

afterAll(async () => {
  await client.connection.request("shutdown", null);
});

async function signatureHelp(docUri: string, needle: string, nth: number, after = "") {
  return (await client.connection.request("textDocument/signatureHelp", {
    textDocument: { uri: docUri },
    position: client.position(docUri, needle, nth, after),
  })) as SignatureHelp | null;
}

/** The parameters of a signature as the label shows them, and the active one's text. */
function parameters(help: SignatureHelp): { all: string[]; active: string } {
  const [sig] = help.signatures;
  const all = sig.parameters.map((p) => sig.label.slice(p.label[0], p.label[1]));
  return { all, active: all[help.activeParameter] };
}

describe("signature help on examples/tiny.net", () => {
  let tiny: string;
  beforeAll(async () => {
    tiny = client.open(TINY);
    await client.diagnostics(tiny, 1);
  });

  it("shows a block's configuration with the argument being written", async () => {
    // `Linear(dim, 2 * dim)`: the cursor in the second argument.
    const help = (await signatureHelp(tiny, "Linear(dim, 2 * dim)", 13))!;
    const declared = /block Linear\(([^)]*)\)/
      .exec(STDLIB)![1]
      .split(",")
      .map((p) => p.trim());
    expect(help.signatures[0].label.startsWith("block Linear(")).toBe(true);
    expect(parameters(help)).toEqual({ all: declared, active: declared[1] });
  });

  it("shows a layer's inputs when the layer is called", async () => {
    const help = (await signatureHelp(tiny, "classify(a)", 9))!;
    expect(help.signatures[0].label).toBe("Classifier(...)(x: f32[B, N, dim])");
    expect(parameters(help).active).toBe("x: f32[B, N, dim]");
  });

  it("shows a builtin's parameters, a named argument marking its own", async () => {
    const mean = (await signatureHelp(tiny, "[1])", 1))!;
    const sig = callableSignature("mean")!;
    expect(parameters(mean).all.map((p) => p.split(/[?:]/)[0])).toEqual(sig.params.map((p) => p.name));
    expect(parameters(mean).active).toBe("axes: ints");
    const attention = (await signatureHelp(tiny, "heads = 4", 8))!;
    expect(parameters(attention).active.startsWith("heads")).toBe(true);
    const kv = (await signatureHelp(tiny, "kv = kv)", 5))!;
    expect(parameters(kv).active.startsWith("kv")).toBe(true);
  });

  it("has nothing to show outside a call", async () => {
    expect(await signatureHelp(tiny, "layer q", 2)).toBeNull();
  });
});

describe("semantic tokens on examples/tiny.net", () => {
  it("classifies keywords, declarations, parameters, library blocks, builtins, numbers and strings", async () => {
    const tinyUri = uri(TINY);
    if (!client.docs.has(tinyUri)) client.open(TINY);
    const text = client.docs.get(tinyUri)!.text;
    const { data } = (await client.connection.request("textDocument/semanticTokens/full", {
      textDocument: { uri: tinyUri },
    })) as { data: number[] };
    expect(data.length % 5).toBe(0);
    const lines = text.split("\n");
    const tokens: { text: string; type: string; modifiers: string[]; line: number }[] = [];
    let line = 0;
    let character = 0;
    for (let i = 0; i < data.length; i += 5) {
      const [dLine, dStart, length, type, mods] = data.slice(i, i + 5);
      expect(dLine > 0 || dStart > 0 || i === 0).toBe(true); // increasing positions
      line += dLine;
      character = dLine ? dStart : character + dStart;
      tokens.push({
        text: lines[line].slice(character, character + length),
        type: TOKEN_TYPES[type],
        modifiers: TOKEN_MODIFIERS.filter((_, b) => mods & (1 << b)),
        line,
      });
    }
    // Every token is one the lexer finds at that place.
    const images = new Set(netLexer.tokenize(text).tokens.map((t) => t.image));
    for (const t of tokens) expect(images.has(t.text)).toBe(true);
    const first = (word: string, line?: number) => tokens.find((t) => t.text === word && (line ?? t.line) === t.line);
    const lineOf = (needle: string) => text.slice(0, text.indexOf(needle)).split("\n").length - 1;
    expect(first("import")).toMatchObject({ type: "keyword" });
    expect(first('"std/nn.net"')).toMatchObject({ type: "string" });
    expect(first("Classifier")).toMatchObject({ type: "type", modifiers: ["declaration"] });
    expect(first("dim")).toMatchObject({ type: "parameter", modifiers: ["declaration"] });
    expect(first("LayerNorm")).toMatchObject({ type: "type", modifiers: ["defaultLibrary"] });
    expect(first("f32")).toMatchObject({ type: "type", modifiers: ["defaultLibrary"] });
    expect(first("mean")).toMatchObject({ type: "function", modifiers: ["defaultLibrary"] });
    expect(first("norm", lineOf("return head"))).toMatchObject({ type: "variable", modifiers: [] });
    expect(first("model")).toMatchObject({ type: "keyword" });
    expect(first("64")).toMatchObject({ type: "number" });
    expect(first("approx", lineOf("let (approx"))).toMatchObject({ type: "variable", modifiers: ["declaration"] });
  });
});

describe("quick fixes from the compiler", () => {
  it("adds a missing standard-library import, and the diagnostic goes", async () => {
    const path = resolve(ROOT, "examples/lsp-missing-import.net");
    const text = "model M()(x: f32[B, 4]) -> f32[B, 8] {\n  layer l = Linear(4, 8)\n  return l(x)\n}\n";
    const doc = client.open(path, text);
    const [unknown] = await client.diagnostics(doc, 1);
    expect(unknown.code).toBe("NET2003");
    expect(unknown.message).toContain('add `import "std/nn.net"`');
    const actions = (await client.connection.request("textDocument/codeAction", {
      textDocument: { uri: doc },
      range: unknown.range,
      context: { diagnostics: [unknown] },
    })) as CodeAction[];
    expect(actions.map((a) => a.title)).toEqual(['Add import "std/nn.net"']);
    const version = client.applyEdits(doc, actions[0].edit.changes[doc]);
    expect(client.docs.get(doc)!.text).toBe(`import "std/nn.net"\n${text}`);
    expect(await client.diagnostics(doc, version)).toEqual([]);
  });

  it("puts the fix in the diagnostic itself, so the command line has it too", () => {
    const text = "model M()(x: f32[B, 4]) -> f32[B, 4] {\n  return x + LayerNorm\n}\n";
    const { diagnostics } = compileToGraph(text, { file: resolve(ROOT, "examples/x.net") });
    expect(diagnostics[0].hint).toBe("'LayerNorm' is declared in std/nn.net: add `import \"std/nn.net\"`");
    expect(diagnostics[0].fixes).toEqual([
      {
        title: 'Add import "std/nn.net"',
        edits: [{ span: expect.objectContaining({ start: 0, end: 0 }), text: 'import "std/nn.net"\n' }],
      },
    ]);
  });
});

describe("the `unused` modifier", () => {
  const text =
    'import "std/nn.net"\nmodel M()(x: f32[B, 4]) -> f32[B, 4] {\n  unused layer spare = Linear(4, 4)\n' +
    "  let unused = relu(x)\n  return unused\n}\n";

  it("is a keyword where it marks a declaration and a variable where it is a name; the diagnostics agree", async () => {
    const path = resolve(ROOT, "examples/lsp-unused.net");
    const doc = client.open(path, text);
    expect(await client.diagnostics(doc, 1)).toEqual([]);
    const { data } = (await client.connection.request("textDocument/semanticTokens/full", {
      textDocument: { uri: doc },
    })) as { data: number[] };
    const lines = text.split("\n");
    const found: [number, string][] = [];
    let line = 0;
    let character = 0;
    for (let i = 0; i < data.length; i += 5) {
      const [dLine, dStart, length, type] = data.slice(i, i + 5);
      line += dLine;
      character = dLine ? dStart : character + dStart;
      if (lines[line].slice(character, character + length) === "unused") found.push([line, TOKEN_TYPES[type]]);
    }
    expect(found).toEqual([
      [2, "keyword"],
      [3, "variable"],
      [4, "variable"],
    ]);
  });

  it("has a hover that says what it means", async () => {
    const doc = client.open(resolve(ROOT, "examples/lsp-unused-hover.net"), text);
    await client.diagnostics(doc, 1);
    expect(await client.hover(doc, "unused layer", 2)).toContain("exist because a checkpoint holds them");
    expect(await client.hover(doc, "let unused", 5)).toContain("unused: f32[B, 4]");
  });
});

describe("hover without concrete values", () => {
  it("takes a model parameter without a default as a symbol, after the same error netc check gives", async () => {
    const path = resolve(ROOT, "examples/lsp-symbolic.net");
    const text =
      'import "std/nn.net"\nmodel M(dim: int)(x: f32[B, dim]) -> f32[B, 4] {\n' +
      "  layer l = Linear(dim, 4)\n  let h = relu(x)\n  return l(h)\n}\n";
    const doc = client.open(path, text);
    const check = compileToGraph(text, { file: path, requireModel: false });
    expect((await client.diagnostics(doc, 1)).map((d) => d.code)).toEqual(check.diagnostics.map((d) => d.code));
    expect(check.diagnostics.map((d) => d.code)).toEqual(["NET2006"]);
    expect(await client.hover(doc, "h = relu", 0)).toContain("h: f32[B, dim]");
    expect(await client.hover(doc, "l(h)", 2)).toContain("f32[B, dim]");
  });

  it("does not report what only the symbol causes (a loop over a symbolic count)", async () => {
    const path = resolve(ROOT, "examples/lsp-symbolic-loop.net");
    const text =
      "model M(n: int)(x: f32[B, 4]) -> f32[B, 4] {\n  let y = relu(x)\n" +
      "  for i in 0..n {\n    y = relu(y)\n  }\n  return y\n}\n";
    const doc = client.open(path, text);
    const check = compileToGraph(text, { file: path, requireModel: false });
    expect(check.diagnostics.map((d) => d.code)).toEqual(["NET2006"]);
    expect((await client.diagnostics(doc, 1)).map((d) => d.code)).toEqual(["NET2006"]);
    expect(await client.hover(doc, "y = relu(x)", 0)).toContain("y: f32[B, 4]");
  });

  it("shows the symbolic shapes of a block no model uses", async () => {
    const path = resolve(ROOT, "examples/lsp-library.net");
    const text = "block Double(k: int)(y: f32[N, k]) -> f32[N, 2 * k] {\n  let z = concat([y, y], 1)\n  return z\n}\n";
    const doc = client.open(path, text);
    expect(await client.diagnostics(doc, 1)).toEqual([]);
    expect(await client.hover(doc, "z = concat", 0)).toContain("z: f32[N, 2*k]");
  });
});

describe("reuse between edits", () => {
  it("parses the standard library once, an edited declaration alone, reuses an undone edit's analysis", async () => {
    const fresh = new Client();
    // A client that names no workspace folder: files are named relative to the model's folder.
    await fresh.connection.request("initialize", { processId: null, capabilities: {} });
    const doc = fresh.open(TINY);
    await fresh.diagnostics(doc, 1);
    const parses = fresh.server.parses.parses;
    expect(parses.get("std/nn.net")).toBe(1);
    expect(parses.get("tiny.net")).toBe(1);
    const pieces = fresh.server.parses.pieceParses;
    expect(pieces.get("tiny.net")).toBe(3); // the imports, Classifier, Tiny
    // An edit inside one block, then another, each analysed (a shape in the hover changes with it).
    const one = fresh.change(doc, "Linear(dim, classes)", "Linear(dim, 2 * classes)");
    const broken = await fresh.diagnostics(doc, one);
    expect(broken.map((d) => d.code)).toEqual(["NET3002"]);
    expect(pieces.get("tiny.net")).toBe(4); // Classifier again, alone
    const two = fresh.change(doc, "Linear(dim, 2 * classes)", "Linear(dim, classes)");
    expect(await fresh.diagnostics(doc, two)).toEqual([]);
    expect(parses.get("std/nn.net")).toBe(1);
    // The second edit restored the opened text: its analysis was reused, not parsed again.
    expect(parses.get("tiny.net")).toBe(2);
    expect(pieces.get("tiny.net")).toBe(4);
    expect(await fresh.hover(doc, "(a, d)", 1)).toContain("a: f32[B, 4, 64]");
    await fresh.connection.request("shutdown", null);
  });
});

describe("messages that are not well-formed", () => {
  /** Sends raw bytes as one frame and waits for the answer with this id (null for unparseable ones). */
  async function sendRaw(body: string, id: number | null): Promise<{ error?: { code: number } }> {
    const before = client.received.length;
    client.raw.write(
      Buffer.concat([Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`), Buffer.from(body)]),
    );
    for (let i = 0; i < 200; i++) {
      const answer = client.received.slice(before).find((m) => m.id === id && m.method === undefined);
      if (answer) return answer;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no answer to ${body}`);
  }

  const alive = async () => {
    const symbols = await client.connection.request("textDocument/documentSymbol", {
      textDocument: { uri: uri(TINY) },
    });
    expect(Array.isArray(symbols)).toBe(true);
  };

  it("answers bad JSON with a parse error", async () => {
    expect((await sendRaw("{not json", null)).error?.code).toBe(-32700);
    await alive();
  });

  it("answers JSON that is not a request with an invalid-request error", async () => {
    expect((await sendRaw("[1, 2]", null)).error?.code).toBe(-32600);
    expect((await sendRaw('{"jsonrpc":"2.0","id":7,"method":42}', null)).error?.code).toBe(-32600);
    await alive();
  });

  it("answers an unknown method with method-not-found", async () => {
    expect((await sendRaw('{"jsonrpc":"2.0","id":901,"method":"textDocument/noSuchThing"}', 901)).error?.code).toBe(
      -32601,
    );
    await alive();
  });

  it("answers requests with missing params with an error, and survives notifications with bad params", async () => {
    expect((await sendRaw('{"jsonrpc":"2.0","id":902,"method":"textDocument/hover"}', 902)).error?.code).toBe(-32603);
    client.raw.write(frame({ jsonrpc: "2.0", method: "textDocument/didChange", params: { textDocument: null } }));
    client.raw.write(frame({ jsonrpc: "2.0", method: "textDocument/didOpen", params: 5 }));
    await alive();
  });

  it("clamps positions outside the document", async () => {
    const tinyUri = uri(TINY);
    if (!client.docs.has(tinyUri)) client.open(TINY);
    for (const position of [
      { line: 100000, character: 3 },
      { line: -4, character: -9 },
      { line: 2, character: 100000 },
    ]) {
      for (const method of ["textDocument/hover", "textDocument/signatureHelp", "textDocument/definition"])
        await client.connection.request(method, { textDocument: { uri: tinyUri }, position });
    }
    await alive();
  });

  it("does not analyse a document larger than netc reads, and says so", async () => {
    const path = resolve(ROOT, "examples/lsp-huge.net");
    const line = "// a comment line that makes the document large, repeated far past the limit\n";
    const doc = client.open(path, line.repeat(Math.ceil((16 << 20) / line.length) + 10));
    const diagnostics: LspDiagnostic[] = await client.diagnostics(doc, 1);
    expect(diagnostics.map((d) => d.code)).toEqual(["NET8060"]);
    expect(
      await client.connection.request("textDocument/hover", {
        textDocument: { uri: doc },
        position: { line: 3, character: 4 },
      }),
    ).toBeNull();
    client.connection.notify("textDocument/didClose", { textDocument: { uri: doc } });
    await alive();
  });
});
