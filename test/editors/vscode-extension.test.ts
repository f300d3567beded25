// The VS Code extension as packaged: tools/package-vscode.ts writes a .vsix that is a zip with the manifest VS Code
// reads and the client bundled with vscode-languageclient; that bundled client, loaded in node with a stand-in for
// the `vscode` module (the editor itself cannot be downloaded here), starts `netc lsp`, opens a document, receives
// its diagnostics and answers a hover through the real client library.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { inflateRawSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSafetensors } from "../../src/weights/safetensors.js";
import { packageVscode } from "../../tools/package-vscode.js";
import { random } from "../helpers/ir.js";

const ROOT = resolve(__dirname, "../..");
const TSX = resolve(ROOT, "node_modules/tsx/dist/cli.mjs");
const work = mkdtempSync(join(tmpdir(), "netc-vsix-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A zip's files by name, read from its central directory (stored or deflated entries). */
function unzip(zip: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  expect(eocd).toBeGreaterThan(0);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30);
    const comment = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString("utf8");
    expect(zip.readUInt32LE(local)).toBe(0x04034b50);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataStart, dataStart + compressed);
    files.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    at += 46 + nameLength + extra + comment;
  }
  return files;
}

let files: Map<string, Buffer>;
let vsixPath: string;

beforeAll(async () => {
  vsixPath = await packageVscode(join(work, "out"));
  files = unzip(readFileSync(vsixPath));
}, 240_000);

describe("the .vsix", () => {
  it("is named after the extension's version and holds the manifest VS Code reads", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, "editors/vscode/package.json"), "utf8"));
    expect(vsixPath.endsWith(`netc-${manifest.version}.vsix`)).toBe(true);
    expect(files.has("[Content_Types].xml")).toBe(true);
    const vsixManifest = files.get("extension.vsixmanifest")!.toString("utf8");
    expect(vsixManifest).toContain(`Id="${manifest.name}"`);
    expect(vsixManifest).toContain(`Version="${manifest.version}"`);
    expect(vsixManifest).toContain(`Publisher="${manifest.publisher}"`);
    const packed = JSON.parse(files.get("extension/package.json")!.toString("utf8"));
    expect(packed.main).toBe("./dist/extension.js");
    expect(packed.contributes.languages[0]).toMatchObject({ id: "netc", extensions: [".net"] });
    const grammar = packed.contributes.grammars[0];
    expect(grammar.language).toBe("netc");
    // The grammar is the repository's, copied in; the language configuration is valid JSON.
    expect(files.get(`extension/${grammar.path.replace(/^\.\//, "")}`)!.toString("utf8")).toBe(
      readFileSync(join(ROOT, "editors/netc.tmLanguage.json"), "utf8"),
    );
    JSON.parse(files.get("extension/language-configuration.json")!.toString("utf8"));
  });

  it("is self-contained: the client library is bundled, no node_modules are packed", () => {
    const names = [...files.keys()];
    expect(names.filter((n) => n.includes("node_modules"))).toEqual([]);
    const bundle = files.get("extension/dist/extension.js")!.toString("utf8");
    expect(bundle).not.toMatch(/require\(["']vscode-languageclient/);
    expect(bundle).toContain("textDocument/publishDiagnostics");
  });
});

interface Pos {
  line: number;
  character: number;
}

/** Just enough of the `vscode` module for vscode-languageclient to start, sync one document and convert replies. */
function vscodeStandIn(settings: Record<string, unknown>, document: unknown, events: Record<string, unknown[]>) {
  class Disposable {
    constructor(private readonly f: () => void = () => {}) {}
    static from(...ds: { dispose(): void }[]) {
      return new Disposable(() => ds.forEach((d) => d.dispose()));
    }
    dispose() {
      this.f();
    }
  }
  class EventEmitter {
    private listeners: ((e: unknown) => void)[] = [];
    event = (l: (e: unknown) => void) => {
      this.listeners.push(l);
      return new Disposable();
    };
    fire(e: unknown) {
      for (const l of this.listeners) l(e);
    }
    dispose() {}
  }
  class Position {
    constructor(
      readonly line: number,
      readonly character: number,
    ) {}
  }
  class Range {
    readonly start: Position;
    readonly end: Position;
    constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
      this.start = typeof a === "number" ? new Position(a, b as number) : a;
      this.end = typeof a === "number" ? new Position(c!, d!) : (b as Position);
    }
  }
  class Uri {
    constructor(
      readonly scheme: string,
      readonly fsPath: string,
    ) {}
    static parse(s: string) {
      return new Uri(s.split(":")[0], s.startsWith("file:") ? new URL(s).pathname : s);
    }
    static file(p: string) {
      return new Uri("file", p);
    }
    toString() {
      return this.scheme === "file" ? pathToFileURL(this.fsPath).href : this.fsPath;
    }
  }
  class Plain {
    constructor(...args: unknown[]) {
      Object.assign(this, { args });
    }
  }
  class Diagnostic {
    code?: unknown;
    constructor(
      readonly range: Range,
      readonly message: string,
      readonly severity?: number,
    ) {}
  }
  class CodeActionKind {
    constructor(readonly value: string) {}
    append(part: string) {
      return new CodeActionKind(this.value ? `${this.value}.${part}` : part);
    }
    static Empty = new CodeActionKind("");
    static QuickFix = new CodeActionKind("quickfix");
  }
  class Hover {
    constructor(
      readonly contents: unknown,
      readonly range?: Range,
    ) {}
  }
  class MarkdownString {
    constructor(public value = "") {}
    appendMarkdown(s: string) {
      this.value += s;
      return this;
    }
    appendCodeblock(s: string) {
      this.value += s;
      return this;
    }
  }
  const record =
    (name: string) =>
    (...args: unknown[]) => {
      (events[name] ??= []).push(args);
      return new Disposable();
    };
  const event = () => new Disposable();
  const message =
    (name: string) =>
    async (...args: unknown[]) => {
      (events[name] ??= []).push(args);
      return undefined;
    };
  const base: Record<string, unknown> = {
    version: "1.82.0",
    Disposable,
    EventEmitter,
    Position,
    Range,
    Uri,
    Diagnostic,
    Hover,
    MarkdownString,
    CodeActionKind,
    CancellationError: class extends Error {},
    CancellationTokenSource: class {
      token = { isCancellationRequested: false, onCancellationRequested: event };
      cancel() {}
      dispose() {}
    },
    DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
    DiagnosticTag: { Unnecessary: 1, Deprecated: 2 },
    ProgressLocation: { Window: 10 },
    workspace: {
      getConfiguration: (section?: string) => ({
        get: (key: string, fallback?: unknown) => settings[section ? `${section}.${key}` : key] ?? fallback,
      }),
      workspaceFolders: [{ uri: Uri.file(ROOT), name: "netc", index: 0 }],
      textDocuments: [document],
      onDidChangeConfiguration: event,
      onDidOpenTextDocument: event,
      onDidCloseTextDocument: event,
      onDidChangeTextDocument: event,
      onDidSaveTextDocument: event,
      onWillSaveTextDocument: event,
      onDidChangeWorkspaceFolders: event,
      // The watchers the client makes for the server, with emitters a test fires as the editor would.
      createFileSystemWatcher: (pattern: unknown) => {
        const emitters = { created: new EventEmitter(), changed: new EventEmitter(), deleted: new EventEmitter() };
        (events.watchers ??= []).push([pattern, emitters]);
        const { created, changed, deleted } = emitters;
        return { onDidCreate: created.event, onDidChange: changed.event, onDidDelete: deleted.event, dispose() {} };
      },
    },
    window: {
      createOutputChannel: (name: string) => ({
        name,
        append: (s: string) => (events.output ??= []).push([s]),
        appendLine: (s: string) => (events.output ??= []).push([s]),
        show() {},
        info: (s: string) => (events.output ??= []).push([s]),
        warn: (s: string) => (events.output ??= []).push([s]),
        error: (s: string) => (events.output ??= []).push([s]),
        trace: (s: string) => (events.output ??= []).push([s]),
        debug: (s: string) => (events.output ??= []).push([s]),
        clear() {},
        dispose() {},
        replace() {},
        hide() {},
      }),
      showErrorMessage: message("error"),
      showWarningMessage: message("warning"),
      showInformationMessage: message("info"),
      onDidChangeActiveTextEditor: event,
      activeTextEditor: undefined,
      visibleTextEditors: [],
      tabGroups: { all: [], onDidChangeTabs: event },
    },
    languages: {
      match: (selector: { language?: string }[], doc: { languageId: string }) =>
        selector.some((s) => s.language === doc.languageId) ? 10 : 0,
      createDiagnosticCollection: () => ({
        set: (uri: unknown, diagnostics: Diagnostic[]) => (events.diagnostics ??= []).push([uri, diagnostics]),
        delete() {},
        clear() {},
        dispose() {},
        forEach() {},
        get: () => [],
        has: () => false,
      }),
    },
    commands: { registerCommand: record("command"), executeCommand: async () => undefined },
    env: { language: "en", appName: "stand-in", openExternal: async () => true },
  };
  // Every other `languages.register...Provider` records the provider; other names are plain classes.
  const languages = new Proxy(base.languages as Record<string, unknown>, {
    get: (t, k: string) => (k in t ? t[k] : k.startsWith("register") ? record(k) : undefined),
  });
  return new Proxy(
    { ...base, languages },
    { get: (t, k: string) => (k in t ? (t as Record<string, unknown>)[k] : /^[A-Z]/.test(k) ? Plain : undefined) },
  );
}

describe("the bundled client", () => {
  it("starts `netc lsp`, gets a document's diagnostics and answers a hover", async () => {
    const bundle = join(work, "extension.cjs");
    writeFileSync(bundle, files.get("extension/dist/extension.js")!);
    // The netc command the extension is told to start (its `netc.path` setting): the CLI from source.
    const netc = join(work, "netc");
    writeFileSync(netc, `#!/bin/sh\nexec "${process.execPath}" "${TSX}" "${join(ROOT, "src/cli/bin.ts")}" "$@"\n`);
    chmodSync(netc, 0o755);
    const path = join(ROOT, "untitled-vscode.net");
    const text = "model M()(x: f32[B, 4]) -> f32[B, 4] {\n  let h = relu(x)\n  return matmul(h, h)\n}\n";
    const lines = text.split("\n");
    const document = {
      uri: { scheme: "file", fsPath: path, toString: () => pathToFileURL(path).href },
      fileName: path,
      languageId: "netc",
      version: 1,
      isClosed: false,
      lineCount: lines.length,
      getText: () => text,
    };
    const events: Record<string, unknown[]> = {};
    // A checkpoint that is not there: the server's warning shows the setting reached it as initialization options.
    const checkpoint = join(work, "later.safetensors");
    const weights = { "untitled-vscode.net": checkpoint };
    const vscode = vscodeStandIn({ "netc.path": netc, "netc.weights": weights }, document, events);
    const requireFrom = createRequire(bundle);
    const Module = requireFrom("node:module") as { _load: (r: string, ...rest: unknown[]) => unknown };
    const load = Module._load;
    Module._load = (request: string, ...rest: unknown[]) => (request === "vscode" ? vscode : load(request, ...rest));
    const subscriptions: { dispose(): unknown }[] = [];
    let extension: { activate(c: unknown): Promise<void>; deactivate(): Promise<void> };
    try {
      extension = requireFrom(bundle);
    } finally {
      Module._load = load;
    }
    await extension.activate({ subscriptions, extensionPath: work });
    expect(events.error).toBeUndefined();
    for (let i = 0; i < 600 && !events.diagnostics; i++) await new Promise((r) => setTimeout(r, 50));
    const [uri, diagnostics] = events.diagnostics![0] as [{ toString(): string }, Diagnostic[]];
    expect(uri.toString()).toBe(pathToFileURL(path).href);
    expect(diagnostics.map((d) => [d.code, d.range.start.line, d.range.start.character])).toEqual([
      [expect.objectContaining({ value: "NET3002" }), 2, 9],
      [expect.objectContaining({ value: "NET8070" }), 0, 6],
    ]);
    // The hover provider the client registered, asked for `h`: its shape, from the server over the protocol.
    const [, provider] = events.registerHoverProvider![0] as [unknown, HoverProvider];
    const token = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) };
    const hover = await provider.provideHover(document, { line: 1, character: 6 } satisfies Pos, token);
    expect(JSON.stringify(hover.contents)).toContain("f32[B, 4]");
    // The client watches the checkpoint for the server (its name under its folder); once it is created there, the
    // model is checked again without an edit: the warning goes.
    const [[pattern, watcher]] = events.watchers as [{ args: [{ toString(): string }, string] }, Watchers][];
    expect([pattern.args[0].toString(), pattern.args[1]]).toEqual([pathToFileURL(work).href, "later.safetensors"]);
    writeSafetensors(checkpoint, new Map([["fc.weight", random("f32", [3, 4], 1)]]));
    const published = events.diagnostics!.length;
    watcher.created.fire((vscode as unknown as { Uri: { file(p: string): unknown } }).Uri.file(checkpoint));
    for (let i = 0; i < 600 && events.diagnostics!.length === published; i++)
      await new Promise((r) => setTimeout(r, 50));
    const [, after] = events.diagnostics![published] as [unknown, Diagnostic[]];
    expect(after.map((d) => (d.code as { value: string }).value)).not.toContain("NET8070");
    expect(after.map((d) => (d.code as { value: string }).value)).toContain("NET3002");
    await extension.deactivate();
  }, 120_000);
});

interface Diagnostic {
  code: unknown;
  range: { start: Pos };
}

interface Watchers {
  created: { fire(uri: unknown): void };
}

interface HoverProvider {
  provideHover(doc: unknown, position: Pos, token: unknown): Promise<{ contents: unknown }>;
}
