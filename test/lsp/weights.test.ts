// The language server checks a model's weights against the checkpoints the `netc.weights` setting pairs with it:
// a missing weight and the unexpected checkpoint tensor a rename maps onto it get the rule as a quick fix, a model
// parameter without a value gets the value a checkpoint shape gives, an unreadable checkpoint is one warning, a
// changed setting re-checks the open models, and an edit reads no checkpoint again.
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { formatSource } from "../../src/dsl/format/index.js";
import { linearCheckpoint } from "./checkpoints.js";
import { Client, type LspDiagnostic, uri } from "./client.js";

const ROOT = resolve(__dirname, "../..");
const FILES = resolve(ROOT, "test/diagnostics/commands/files");

interface CodeAction {
  title: string;
  edit: { changes: Record<string, { range: LspDiagnostic["range"]; newText: string }[]> };
}

let tmp: string;
const clients: Client[] = [];

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "netc-lsp-weights-"));
  mkdirSync(join(tmp, "ckpt"));
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.connection.request("shutdown", null);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A server started with the workspace folder `tmp` and the setting given as initialization options (or none). */
async function start(weights?: unknown): Promise<Client> {
  const client = new Client();
  clients.push(client);
  await client.connection.request("initialize", {
    processId: null,
    rootUri: uri(tmp),
    capabilities: {},
    ...(weights === undefined ? {} : { initializationOptions: { weights } }),
  });
  client.connection.notify("initialized", {});
  return client;
}

async function actions(client: Client, doc: string, d: LspDiagnostic): Promise<CodeAction[]> {
  return (await client.connection.request("textDocument/codeAction", {
    textDocument: { uri: doc },
    range: d.range,
    context: { diagnostics: [d] },
  })) as CodeAction[];
}

/** The model of a document, and its text checked to be as `netc fmt` writes it. */
function formatted(path: string, text: string): string {
  expect(formatSource(path, text).text).toBe(text);
  return text;
}

const HEAD =
  'import "std/nn.net"\n\nmodel M(dim: int = 4)(x: f32[B, dim]) -> f32[B, 3] {\n' +
  "  layer head = Linear(dim, 3)\n  return head(x)\n}\n";

describe("weights checked against the checkpoint of the netc.weights setting", () => {
  it("offers the rename rule for a missing/unexpected pair; the new weights block clears them", async () => {
    linearCheckpoint(join(tmp, "ckpt", "fc.safetensors"), "fc");
    const client = await start({ "models/*.net": "ckpt/fc.safetensors" });
    const path = join(tmp, "models/head.net");
    const doc = client.open(path, formatted(path, HEAD));
    const found = await client.diagnostics(doc, 1);
    expect(found.map((d) => d.code)).toEqual(["NET6020", "NET6020", "NET6021", "NET6021"]);
    // All at the layer's line: the missing weights' layer, and the layer the unexpected tensors would fill.
    expect(found.map((d) => d.range.start.line)).toEqual([3, 3, 3, 3]);
    expect(found[0].message).toContain(`rename? \`weights { rename "fc" -> "head" }\``);
    expect(found[2].message).toContain("the model's 'head.weight' is missing");
    const title = 'Add `rename "fc" -> "head"` to `weights { }`';
    expect((await actions(client, doc, found[2])).map((a) => a.title)).toEqual([title]);
    const [fix] = await actions(client, doc, found[0]);
    expect(fix.title).toBe(title);
    const version = client.applyEdits(doc, fix.edit.changes[doc]);
    const text = client.docs.get(doc)!.text;
    expect(text).toContain('{\n  weights {\n    rename "fc" -> "head"\n  }\n  layer head');
    formatted(path, text);
    expect(await client.diagnostics(doc, version)).toEqual([]);
  });

  it("adds the rule to the model's existing weights block", async () => {
    linearCheckpoint(join(tmp, "ckpt", "wrapped.safetensors"), "module.fc");
    const client = await start({ "models/wrapped.net": "ckpt/wrapped.safetensors" });
    const path = join(tmp, "models/wrapped.net");
    const text = HEAD.replace("{\n  layer", '{\n  weights {\n    strip "module."\n  }\n  layer');
    const doc = client.open(path, formatted(path, text));
    const found = await client.diagnostics(doc, 1);
    expect(found.map((d) => d.code)).toEqual(["NET6020", "NET6020", "NET6021", "NET6021"]);
    expect(found[2].message).toContain("checkpoint tensor 'module.fc.weight' (mapped to 'fc.weight')");
    const [fix] = await actions(client, doc, found[0]);
    const version = client.applyEdits(doc, fix.edit.changes[doc]);
    const fixed = client.docs.get(doc)!.text;
    expect(fixed).toContain('  weights {\n    strip "module."\n    rename "fc" -> "head"\n  }\n');
    formatted(path, fixed);
    expect(await client.diagnostics(doc, version)).toEqual([]);
  });

  it("gives a parameter without a value the one a .pth checkpoint's shape says (fix and --set hint)", async () => {
    copyFileSync(join(FILES, "tiny.pth"), join(tmp, "ckpt/tiny.pth"));
    const client = await start({ "models/open.net": ["ckpt/tiny.pth"] });
    const path = join(tmp, "models/open.net");
    const text = HEAD.replace("dim: int = 4", "dim: int").replaceAll("head", "fc");
    const doc = client.open(path, formatted(path, text));
    const [unbound, ...others] = await client.diagnostics(doc, 1);
    expect(others).toEqual([]);
    expect(unbound.code).toBe("NET2006");
    expect(unbound.range.start.line).toBe(2);
    expect(unbound.message).toContain("the checkpoint gives dim = 4");
    expect(unbound.message).toContain("--set dim=4");
    const fixes = await actions(client, doc, unbound);
    expect(fixes.map((a) => a.title)).toEqual(["Give 'dim' the default 4"]);
    const version = client.applyEdits(doc, fixes[0].edit.changes[doc]);
    expect(client.docs.get(doc)!.text).toBe(formatted(path, text.replace("dim: int", "dim: int = 4")));
    expect(await client.diagnostics(doc, version)).toEqual([]);
  });

  it("reads a sharded checkpoint's index and shards once, and again when a shard changes", async () => {
    const shards = join(tmp, "ckpt/sharded");
    cpSync(join(ROOT, "test/fixtures/weights/sharded"), shards, { recursive: true });
    const client = await start({ "models/mlp.net": "ckpt/sharded/model.safetensors.index.json" });
    const path = join(tmp, "models/mlp.net");
    const text =
      'import "std/nn.net"\n\nmodel M(hidden: int)(x: f32[B, 4]) -> f32[B, 3] {\n  layer fc1 = Linear(4, hidden)\n' +
      "  layer norm = LayerNorm(hidden)\n  layer fc2 = Linear(hidden, 3)\n  return fc2(norm(fc1(x)))\n}\n";
    const doc = client.open(path, formatted(path, text));
    const [unbound] = await client.diagnostics(doc, 1);
    expect(unbound.message).toContain("--set hidden=8");
    let version = client.change(doc, "return fc2", "return  fc2");
    expect((await client.diagnostics(doc, version)).map((d) => d.code)).toEqual(["NET2006"]);
    expect(client.server.checkpoints.reads).toBe(1);
    const later = new Date(Date.now() + 5000);
    utimesSync(join(shards, "model-00002-of-00002.safetensors"), later, later);
    version = client.change(doc, "return  fc2", "return fc2");
    await client.diagnostics(doc, version);
    expect(client.server.checkpoints.reads).toBe(2);
  });

  it("says once, at the model's line, that a checkpoint cannot be read", async () => {
    copyFileSync(join(FILES, "cut_zip.pth"), join(tmp, "ckpt/cut.pth"));
    const client = await start({ "**/*.net": "ckpt/cut.pth", "models/absent.net": "ckpt/none.pth" });
    const cut = client.open(join(tmp, "models/deep/cut.net"), HEAD);
    const absent = client.open(join(tmp, "models/absent.net"), HEAD);
    for (const [doc, what] of [
      [cut, "cut.pth"],
      [absent, "none.pth"],
    ]) {
      const found = await client.diagnostics(doc, 1);
      expect(found.map((d) => [d.code, d.range.start.line])).toEqual([["NET8070", 2]]);
      expect(found[0].message).toContain(what);
      expect(found[0].message).toMatch(/cannot be read, so the weights are not checked: NET60\d\d: /);
    }
  });

  it("re-checks open models when the setting changes, and reads a checkpoint again only when it changed", async () => {
    const checkpoint = linearCheckpoint(join(tmp, "ckpt", "live.safetensors"), "fc");
    const client = await start();
    const path = join(tmp, "models/live.net");
    const doc = client.open(path, HEAD);
    expect(await client.publication(doc, 0)).toEqual([]);
    const setting = (weights: unknown) =>
      client.connection.notify("workspace/didChangeConfiguration", { settings: { netc: { weights } } });
    setting({ "models/live.net": "ckpt/live.safetensors" });
    expect((await client.publication(doc, 1)).map((d) => d.code)).toEqual(["NET6020", "NET6020", "NET6021", "NET6021"]);
    expect(client.server.checkpoints.reads).toBe(1);
    for (let i = 0; i < 3; i++) {
      const version = client.change(doc, "return head(x)", `return head(x) // edit ${i}`);
      expect(await client.diagnostics(doc, version)).toHaveLength(4);
      client.change(doc, ` // edit ${i}`, "");
    }
    expect(client.server.checkpoints.reads).toBe(1);
    linearCheckpoint(join(tmp, "ckpt", "live.safetensors"), "head"); // rewritten: another size and mtime
    expect(checkpoint).toBe(join(tmp, "ckpt/live.safetensors"));
    const version = client.change(doc, "return head(x)", "return head(x) // checkpoint rewritten");
    expect(await client.diagnostics(doc, version)).toEqual([]);
    expect(client.server.checkpoints.reads).toBe(2);
    const before = client.publications(doc);
    setting({ "models/*.net": 3 });
    const bad = await client.publication(doc, before);
    expect(bad.map((d) => [d.code, d.range.start.line])).toEqual([["NET8071", 2]]);
    // Settings without a netc section (another client's) change nothing; a netc section without weights clears it.
    client.connection.notify("workspace/didChangeConfiguration", { settings: {} });
    setting(undefined);
    expect(await client.publication(doc, before + 1)).toEqual([]);
    expect(client.publications(doc)).toBe(before + 2);
  });
});
