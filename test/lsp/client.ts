// An in-process LSP client for the tests: a server on in-memory streams, the documents it opened kept in step, the
// diagnostics it was sent by version, the settings it answers workspace/configuration with, and the file watchers
// the server registered (file events are sent, as an editor does, only for files they match).
import { readFileSync } from "node:fs";
import { PassThrough } from "node:stream";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { expect } from "vitest";
import { TextDocument } from "../../src/lsp/documents.js";
import type { FileWatcher } from "../../src/lsp/checkpoint-watch.js";
import { Connection, FrameReader, type RpcMessage } from "../../src/lsp/rpc.js";
import { type LanguageServer, startServer } from "../../src/lsp/server.js";

export const uri = (path: string) => pathToFileURL(path).href;

export interface LspDiagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  code: string;
  message: string;
  codeDescription?: { href: string };
}

export class Client {
  readonly connection: Connection;
  readonly server: LanguageServer;
  /** The stream into the server, for bytes that are not well-formed messages. */
  readonly raw: PassThrough;
  /** Every message the server sent, in order. */
  readonly received: RpcMessage[] = [];
  private readonly published = new Map<string, { version?: number; diagnostics: LspDiagnostic[] }[]>();
  private readonly waiters: (() => void)[] = [];
  readonly docs = new Map<string, TextDocument>();
  /** The `netc` section of each folder's settings (by folder uri), as workspace/configuration answers it. */
  readonly settings = new Map<string, unknown>();
  /** The registrations the server made that are in force, by id. */
  readonly registrations = new Map<string, { method: string; registerOptions: { watchers?: FileWatcher[] } }>();

  constructor() {
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    this.server = startServer(toServer, toClient, { debounceMs: 20 });
    this.raw = toServer;
    const reader = new FrameReader((m) => m && this.received.push(m));
    toClient.on("data", (chunk: Buffer) => reader.push(chunk));
    this.connection = new Connection(toClient, toServer);
    this.connection.onNotification(
      "textDocument/publishDiagnostics",
      (p: { uri: string; version?: number; diagnostics: LspDiagnostic[] }) => {
        this.published.set(p.uri, [...(this.published.get(p.uri) ?? []), p]);
        this.wake();
      },
    );
    this.connection.onRequest("workspace/configuration", (p: { items: { scopeUri?: string; section?: string }[] }) =>
      p.items.map((item) =>
        item.section === "netc" && item.scopeUri ? (this.settings.get(item.scopeUri) ?? null) : null,
      ),
    );
    this.connection.onRequest(
      "client/registerCapability",
      (p: { registrations: { id: string; method: string; registerOptions: { watchers?: FileWatcher[] } }[] }) => {
        for (const r of p.registrations) this.registrations.set(r.id, r);
        this.wake();
        return null;
      },
    );
    this.connection.onRequest("client/unregisterCapability", (p: { unregisterations: { id: string }[] }) => {
      for (const r of p.unregisterations) this.registrations.delete(r.id);
      this.wake();
      return null;
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until `probe` gives a value (checked again whenever the server sends something). */
  async until<T>(probe: () => T | undefined): Promise<T> {
    for (;;) {
      const found = probe();
      if (found !== undefined) return found;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** The file watchers in force. */
  watchers(): FileWatcher[] {
    return [...this.registrations.values()]
      .filter((r) => r.method === "workspace/didChangeWatchedFiles")
      .flatMap((r) => r.registerOptions.watchers ?? []);
  }

  /**
   * Tells the server that files changed on disk (type 1 created, 2 changed, 3 deleted), as an editor's watcher
   * does: each must match a watcher the server registered. Only literal names are understood here (a `[c]` class
   * is the character c), which is all the server asks for.
   */
  filesChanged(paths: string[], type: 1 | 2 | 3): void {
    const literal = (glob: string) => glob.replace(/\[(.)\]/g, "$1");
    const watched = (path: string) =>
      this.watchers().some((w) =>
        typeof w.globPattern === "string"
          ? literal(w.globPattern) === path
          : join(fileURLToPath(w.globPattern.baseUri), literal(w.globPattern.pattern)) === path,
      );
    for (const path of paths) expect(watched(path), `${path} is watched`).toBe(true);
    this.connection.notify("workspace/didChangeWatchedFiles", { changes: paths.map((p) => ({ uri: uri(p), type })) });
  }

  /** The first diagnostics published for a document version (waits for them). */
  async diagnostics(docUri: string, version: number): Promise<LspDiagnostic[]> {
    for (;;) {
      const found = this.published.get(docUri)?.find((p) => p.version === version);
      if (found) return found.diagnostics;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** How many times diagnostics were published for a document. */
  publications(docUri: string): number {
    return this.published.get(docUri)?.length ?? 0;
  }

  /** The diagnostics of a document's publication number `index` (from 0; waits for it). */
  async publication(docUri: string, index: number): Promise<LspDiagnostic[]> {
    for (;;) {
      const found = this.published.get(docUri)?.[index];
      if (found) return found.diagnostics;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Applies text edits (a code action's, say) to a document as the editor does, and sends them; the new version. */
  applyEdits(docUri: string, edits: { range: LspDiagnostic["range"]; newText: string }[]): number {
    const doc = this.docs.get(docUri)!;
    const version = doc.version + 1;
    const changes = edits.map((e) => ({ range: e.range, text: e.newText }));
    doc.apply(changes, version);
    this.connection.notify("textDocument/didChange", {
      textDocument: { uri: docUri, version },
      contentChanges: changes,
    });
    return version;
  }

  open(path: string, text = readFileSync(path, "utf8")): string {
    const u = uri(path);
    this.docs.set(u, new TextDocument(u, 1, text));
    this.connection.notify("textDocument/didOpen", { textDocument: { uri: u, languageId: "netc", version: 1, text } });
    return u;
  }

  /** Replaces the first occurrence of `from` with `to`, sent as an incremental change; returns the new version. */
  change(docUri: string, from: string, to: string): number {
    const doc = this.docs.get(docUri)!;
    const start = doc.text.indexOf(from);
    expect(start).toBeGreaterThanOrEqual(0);
    const range = { start: doc.positionAt(start), end: doc.positionAt(start + from.length) };
    const version = doc.version + 1;
    doc.apply([{ range, text: to }], version);
    this.connection.notify("textDocument/didChange", {
      textDocument: { uri: docUri, version },
      contentChanges: [{ range, text: to }],
    });
    return version;
  }

  /** The position of the `nth` character of the first occurrence of `needle` (after `after`, when given). */
  position(docUri: string, needle: string, nth = 0, after = "") {
    const text = this.docs.get(docUri)!.text;
    const at = text.indexOf(needle, after ? text.indexOf(after) : 0);
    expect(at).toBeGreaterThanOrEqual(0);
    return this.docs.get(docUri)!.positionAt(at + nth);
  }

  async hover(docUri: string, needle: string, nth = 0, after = ""): Promise<string | undefined> {
    const r = (await this.connection.request("textDocument/hover", {
      textDocument: { uri: docUri },
      position: this.position(docUri, needle, nth, after),
    })) as { contents: { value: string } } | null;
    return r?.contents.value;
  }
}
