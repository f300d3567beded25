// The language server has the client watch the checkpoints `netc.weights` names, and checks the open models paired
// with one again when it changes on disk (rewritten, deleted, created), without an edit; in a workspace of several
// folders each document uses its own folder's setting.
import { cpSync, mkdtempSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { linearCheckpoint } from "./checkpoints.js";
import { Client, type LspDiagnostic, uri } from "./client.js";

const ROOT = resolve(__dirname, "../..");

/** What a client that can watch files and answer workspace/configuration says it can do (as VS Code's does). */
const WATCHING = {
  workspace: {
    configuration: true,
    workspaceFolders: true,
    didChangeWatchedFiles: { dynamicRegistration: true, relativePatternSupport: true },
  },
};

let tmp: string;
const clients: Client[] = [];

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "netc-lsp-watch-"));
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.connection.request("shutdown", null);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HEAD =
  'import "std/nn.net"\n\nmodel M(dim: int = 4)(x: f32[B, dim]) -> f32[B, 3] {\n' +
  "  layer head = Linear(dim, 3)\n  return head(x)\n}\n";

/**
 * A client with `capabilities`, the workspace `folders`, each folder's `netc` settings as workspace/configuration
 * answers them, and the setting of the initialization options (if any); initialized.
 */
async function start(
  capabilities: object,
  folders: string[],
  settings: Record<string, unknown> = {},
  initial?: unknown,
): Promise<Client> {
  const client = new Client();
  clients.push(client);
  for (const [folder, netc] of Object.entries(settings)) client.settings.set(uri(folder), netc);
  await client.connection.request("initialize", {
    processId: null,
    rootUri: uri(folders[0]),
    workspaceFolders: folders.map((f) => ({ uri: uri(f), name: f })),
    capabilities,
    ...(initial === undefined ? {} : { initializationOptions: { weights: initial } }),
  });
  client.connection.notify("initialized", {});
  return client;
}

/** The code of each diagnostic, and the first quoted checkpoint tensor of the unexpected ones (NET6021). */
function summary(found: LspDiagnostic[]): string[] {
  return found.map((d) => {
    const tensor = d.code === "NET6021" ? / tensor '([^']+)'/.exec(d.message)?.[1] : undefined;
    return tensor ? `${d.code} ${tensor}` : d.code;
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("checkpoints watched for the server", () => {
  it("checks the open model again when its checkpoint is rewritten, deleted or created, without an edit", async () => {
    const folder = join(tmp, "single");
    const checkpoint = linearCheckpoint(join(folder, "ckpt/live.safetensors"), "fc");
    const client = await start(WATCHING, [folder], {
      [folder]: { weights: { "models/*.net": "ckpt/live.safetensors" } },
    });
    expect(await client.until(() => (client.watchers().length ? client.watchers() : undefined))).toEqual([
      { globPattern: { baseUri: uri(join(folder, "ckpt")), pattern: "live.safetensors" } },
    ]);
    const doc = client.open(join(folder, "models/live.net"), HEAD);
    // A model the setting pairs with nothing: never checked again.
    const other = client.open(join(folder, "other.net"), HEAD);
    expect(await client.diagnostics(other, 1)).toEqual([]);
    const publications = () => client.publications(doc);
    const next = async (change: () => void): Promise<LspDiagnostic[]> => {
      const index = publications();
      change();
      return client.publication(doc, index);
    };
    expect(summary(await client.diagnostics(doc, 1))).toEqual([
      "NET6020",
      "NET6020",
      "NET6021 fc.weight",
      "NET6021 fc.bias",
    ]);
    expect(client.server.checkpoints.reads).toBe(1);

    // Rewritten by training with another tensor name: the diagnostics change, the document's version does not.
    const stamp = new Date(Date.UTC(2026, 0, 1));
    let found = await next(() => {
      linearCheckpoint(checkpoint, "proj");
      utimesSync(checkpoint, stamp, stamp);
      client.filesChanged([checkpoint], 2);
    });
    expect(summary(found)).toEqual(["NET6020", "NET6020", "NET6021 proj.weight", "NET6021 proj.bias"]);
    expect(client.docs.get(doc)!.version).toBe(1);
    expect(client.server.checkpoints.reads).toBe(2);

    // Rewritten with the same size and modification time as the listing read: only the watcher's event says so.
    const before = statSync(checkpoint);
    found = await next(() => {
      linearCheckpoint(checkpoint, "conv");
      utimesSync(checkpoint, stamp, stamp);
      expect(statSync(checkpoint).size).toBe(before.size);
      expect(statSync(checkpoint).mtimeMs).toBe(before.mtimeMs);
      client.filesChanged([checkpoint], 2);
    });
    expect(summary(found)).toEqual(["NET6020", "NET6020", "NET6021 conv.weight", "NET6021 conv.bias"]);
    expect(client.server.checkpoints.reads).toBe(3);

    found = await next(() => {
      rmSync(checkpoint);
      client.filesChanged([checkpoint], 3);
    });
    expect(found.map((d) => [d.code, d.range.start.line])).toEqual([["NET8070", 2]]);
    expect(found[0].message).toContain("live.safetensors");

    found = await next(() => {
      linearCheckpoint(checkpoint, "head");
      client.filesChanged([checkpoint], 1);
    });
    expect(found).toEqual([]);
    expect(client.server.checkpoints.reads).toBe(5);

    // Events in a burst (a training run writing the file) are one check, after the edits' pause.
    const count = publications();
    linearCheckpoint(checkpoint, "fc");
    for (let i = 0; i < 3; i++) client.filesChanged([checkpoint], 2);
    expect(summary(await client.publication(doc, count))).toEqual([
      "NET6020",
      "NET6020",
      "NET6021 fc.weight",
      "NET6021 fc.bias",
    ]);
    await sleep(150);
    expect(publications()).toBe(count + 1);
    expect(client.server.checkpoints.reads).toBe(6);
    expect(client.publications(other)).toBe(1);
  });

  it("watches a sharded checkpoint's shards once read, and checks again when one changes", async () => {
    const folder = join(tmp, "sharded");
    const shards = join(folder, "ckpt");
    cpSync(join(ROOT, "test/fixtures/weights/sharded"), shards, { recursive: true });
    const client = await start(WATCHING, [folder], {
      [folder]: { weights: { "mlp.net": "ckpt/model.safetensors.index.json" } },
    });
    const text =
      'import "std/nn.net"\n\nmodel M(hidden: int)(x: f32[B, 4]) -> f32[B, 3] {\n  layer fc1 = Linear(4, hidden)\n' +
      "  layer norm = LayerNorm(hidden)\n  layer fc2 = Linear(hidden, 3)\n  return fc2(norm(fc1(x)))\n}\n";
    const doc = client.open(join(folder, "mlp.net"), text);
    expect((await client.diagnostics(doc, 1))[0].message).toContain("--set hidden=8");
    const watched = await client.until(() => (client.watchers().length === 3 ? client.watchers() : undefined));
    expect(watched.map((w) => (typeof w.globPattern === "string" ? w.globPattern : w.globPattern.pattern))).toEqual([
      "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors",
      "model.safetensors.index.json",
    ]);
    const count = client.publications(doc);
    client.filesChanged([join(shards, "model-00002-of-00002.safetensors")], 2);
    expect((await client.publication(doc, count))[0].message).toContain("--set hidden=8");
    expect(client.server.checkpoints.reads).toBe(2);
  });

  it("registers no watcher with a client that cannot register them dynamically", async () => {
    const folder = join(tmp, "static");
    linearCheckpoint(join(folder, "ckpt.safetensors"), "head");
    const client = await start({}, [folder], {}, { "model.net": "ckpt.safetensors" });
    const doc = client.open(join(folder, "model.net"), HEAD);
    expect(await client.diagnostics(doc, 1)).toEqual([]);
    expect(client.received.filter((m) => m.method === "client/registerCapability")).toEqual([]);
  });
});

describe("clients that misbehave", () => {
  it("logs watch and folder notifications whose params do not fit, and goes on", async () => {
    const folder = join(tmp, "malformed");
    linearCheckpoint(join(folder, "ckpt.safetensors"), "fc");
    const client = await start(WATCHING, [folder], { [folder]: { weights: { "model.net": "ckpt.safetensors" } } });
    const doc = client.open(join(folder, "model.net"), HEAD);
    expect(summary(await client.diagnostics(doc, 1))).toHaveLength(4);
    client.connection.notify("workspace/didChangeWatchedFiles", {});
    client.connection.notify("workspace/didChangeWatchedFiles", { changes: [{ uri: 7 }] });
    client.connection.notify("workspace/didChangeWorkspaceFolders", { event: null });
    const logged = await client.until(() => {
      const logs = client.received.filter((m) => m.method === "window/logMessage");
      return logs.length === 3 ? logs.map((m) => (m.params as { message: string }).message) : undefined;
    });
    expect(logged.every((m) => /^netc lsp: workspace\/didChange\w+ failed: /.test(m))).toBe(true);
    expect(await client.hover(doc, "head(x)")).toContain("weights under `head`: 15 parameters");
  });

  /**
   * A client of a folder with ckpt.safetensors (an `fc` Linear) that gives netc.weights as initialization options
   * and answers workspace/configuration with `answer`; returns it initialized, with its folder.
   */
  async function withInitializationOptions(name: string, answer: () => unknown) {
    const folder = join(tmp, name);
    linearCheckpoint(join(folder, "ckpt.safetensors"), "fc");
    const client = new Client();
    clients.push(client);
    client.connection.onRequest("workspace/configuration", answer);
    await client.connection.request("initialize", {
      processId: null,
      workspaceFolders: [{ uri: uri(folder), name }],
      capabilities: WATCHING,
      initializationOptions: { weights: { "model.net": "ckpt.safetensors" } },
    });
    client.connection.notify("initialized", {});
    return { client, folder };
  }
  const logMessages = (client: Client) =>
    client.received
      .filter((m) => m.method === "window/logMessage")
      .map((m) => (m.params as { message: string }).message);

  it("uses the initialization options when the client fails to answer workspace/configuration", async () => {
    const { client, folder } = await withInitializationOptions("unanswered", () => {
      throw new Error("no settings here");
    });
    const doc = client.open(join(folder, "model.net"), HEAD);
    expect(summary(await client.diagnostics(doc, 1))).toContain("NET6021 fc.weight");
    expect(logMessages(client)).toEqual([
      "netc lsp: the client did not give the netc settings: -32603: no settings here",
    ]);
  });
  it("checks with the initialization options when the client never answers workspace/configuration", async () => {
    const { client, folder } = await withInitializationOptions("silent", () => new Promise(() => {}));
    const opened = Date.now();
    const doc = client.open(join(folder, "model.net"), HEAD);
    expect(summary(await client.diagnostics(doc, 1))).toContain("NET6021 fc.weight");
    expect(Date.now() - opened).toBeGreaterThanOrEqual(1900);
    expect(logMessages(client)).toEqual([
      "netc lsp: no answer to workspace/configuration in 2000 ms: using the initialization options",
    ]);
  });
});

describe("netc.weights in a workspace of several folders", () => {
  /** Folders a and b, each with ckpt.safetensors (tensors fc.* in a, proj.* in b). */
  function folders(name: string): { a: string; b: string } {
    const a = join(tmp, name, "a");
    const b = join(tmp, name, "b");
    linearCheckpoint(join(a, "ckpt.safetensors"), "fc");
    linearCheckpoint(join(b, "ckpt.safetensors"), "proj");
    return { a, b };
  }

  it("gives each document its own folder's setting, asked of the client per folder", async () => {
    const { a, b } = folders("pulled");
    const client = await start(WATCHING, [a, b], {
      [a]: { weights: { "model.net": "ckpt.safetensors" } },
      [b]: { weights: { "*.net": ["ckpt.safetensors"] } },
    });
    const inA = client.open(join(a, "model.net"), HEAD);
    const inB = client.open(join(b, "model.net"), HEAD);
    expect(summary(await client.diagnostics(inA, 1))).toEqual([
      "NET6020",
      "NET6020",
      "NET6021 fc.weight",
      "NET6021 fc.bias",
    ]);
    expect(summary(await client.diagnostics(inB, 1))).toEqual([
      "NET6020",
      "NET6020",
      "NET6021 proj.weight",
      "NET6021 proj.bias",
    ]);
    const bases = (await client.until(() => (client.watchers().length === 2 ? client.watchers() : undefined))).map(
      (w) => (typeof w.globPattern === "string" ? w.globPattern : w.globPattern.baseUri),
    );
    expect(bases).toEqual([uri(a), uri(b)]);

    // Settings changed: the server asks again; b now names a checkpoint that is not there.
    client.settings.set(uri(b), { weights: { "*.net": "none.safetensors" } });
    const [countA, countB] = [client.publications(inA), client.publications(inB)];
    client.connection.notify("workspace/didChangeConfiguration", { settings: null });
    const found = await client.publication(inB, countB);
    expect(found.map((d) => d.code)).toEqual(["NET8070"]);
    expect(found[0].message).toContain("none.safetensors");
    expect(summary(await client.publication(inA, countA))).toEqual([
      "NET6020",
      "NET6020",
      "NET6021 fc.weight",
      "NET6021 fc.bias",
    ]);

    // A folder added later is asked for its setting too.
    const c = join(tmp, "pulled", "c");
    linearCheckpoint(join(c, "ckpt.safetensors"), "fc");
    client.settings.set(uri(c), { weights: { "model.net": "ckpt.safetensors" } });
    client.connection.notify("workspace/didChangeWorkspaceFolders", {
      event: { added: [{ uri: uri(c), name: "c" }], removed: [] },
    });
    await client.until(() => (client.watchers().length === 3 ? true : undefined));
    const inC = client.open(join(c, "model.net"), HEAD);
    expect(summary(await client.diagnostics(inC, 1))).toContain("NET6021 fc.weight");
  });

  it("resolves one setting (a client that is not asked per folder) against each document's folder", async () => {
    const { a, b } = folders("pushed");
    const client = await start({}, [a, b], {}, { "model.net": "ckpt.safetensors" });
    const inA = client.open(join(a, "model.net"), HEAD);
    const inB = client.open(join(b, "model.net"), HEAD);
    expect(summary(await client.diagnostics(inA, 1))).toContain("NET6021 fc.weight");
    expect(summary(await client.diagnostics(inB, 1))).toContain("NET6021 proj.weight");
  });

  it("uses the innermost folder when folders nest", async () => {
    const outer = join(tmp, "nested");
    const inner = join(outer, "inner");
    linearCheckpoint(join(outer, "ckpt.safetensors"), "fc");
    linearCheckpoint(join(inner, "ckpt.safetensors"), "head");
    const client = await start({}, [outer, inner], {}, { "**/*.net": "ckpt.safetensors" });
    const inOuter = client.open(join(outer, "model.net"), HEAD);
    expect(summary(await client.diagnostics(inOuter, 1))).toContain("NET6021 fc.weight");
    expect(await client.diagnostics(client.open(join(inner, "model.net"), HEAD), 1)).toEqual([]);
  });
});
