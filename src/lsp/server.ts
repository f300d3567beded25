// `netc lsp`: the language server. Documents sync incrementally; each change re-analyses its document after a short
// pause (debounce) and publishes diagnostics; hover, definition, symbols, completion and formatting answer from the
// latest analysis, re-running it first when the document changed since. Models are checked against the checkpoints
// their workspace folder's `netc.weights` names, and again when the client's watcher sees one change on disk.
import { fileURLToPath, pathToFileURL } from "node:url";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import type { Diagnostic, Span } from "../diagnostics/diagnostics.js";
import { formatSource } from "../dsl/format/index.js";
import { packageFolder } from "../util/package-folder.js";
import { type Analysis, analyse, diskPath, readerOf } from "./analysis.js";
import { AnalysisHistory, ParseCache } from "./reuse.js";
import { type ContentChange, type Position, positionIn, type Range, TextDocument } from "./documents.js";
import {
  completionsAt,
  definitionAt,
  documentSymbols,
  hoverAt,
  letShapeHints,
  referencesAt,
  type SymbolInfo,
} from "./features.js";
import { CheckpointCache, withWeightDiagnostics } from "./checkpoints.js";
import { checkpointWatchers, WatchRegistration } from "./checkpoint-watch.js";
import { Connection } from "./rpc.js";
import { encodeTokens, semanticTokens, TOKEN_MODIFIERS, TOKEN_TYPES } from "./semantic-tokens.js";
import { signatureHelpAt } from "./signature-help.js";
import { WorkspaceFolders } from "./workspace-folders.js";

export interface ServerOptions {
  /** Milliseconds between the last change and the analysis it triggers. */
  debounceMs?: number;
  /** Called on the `exit` notification (the command exits the process). */
  onExit?: (code: number) => void;
}

// LSP enumerations used here (numbers fixed by the protocol).
const SEVERITY = { error: 1, warning: 2, note: 3 } as const;
/** How long the first documents wait for the client's answer to workspace/configuration. */
const SETTINGS_WAIT_MS = 2000;
const SYMBOL_KIND = { block: 5, fn: 12, model: 2, layer: 8 } as const; // Class, Function, Module, Field
const COMPLETION_KIND = {
  keyword: 14,
  builtin: 3,
  block: 7,
  fn: 3,
  model: 9,
  variable: 6,
  layer: 5,
  parameter: 6,
} as const;

const diagnosticsDoc = () => pathToFileURL(join(packageFolder("docs", "diagnostics.md"), "diagnostics.md")).href;

export function uriToPath(uri: string): string {
  return uri.startsWith("file:") ? fileURLToPath(uri) : uri;
}

export class LanguageServer {
  private readonly connection: Connection;
  private readonly documents = new Map<string, TextDocument>();
  private readonly analyses = new Map<string, { version: number; analysis: Analysis }>();
  private readonly histories = new Map<string, AnalysisHistory>();
  /** Every file's last parse, shared by the documents (the standard library is parsed once). */
  readonly parses = new ParseCache();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** The workspace folders with the checkpoints each pairs with models (`netc.weights`), and their listings. */
  private folders = new WorkspaceFolders([process.cwd()], undefined, false);
  readonly checkpoints = new CheckpointCache();
  /** What the client can do: ask it for each folder's settings, watch files for us (and under a base folder). */
  private client = { pullsSettings: false, watchesFiles: false, relativePatterns: false };
  /** The first settings asked of the client have not come: nothing is published until they do (or for 2 s). */
  private settingsPending = false;
  /** Answers to older settings requests are dropped. */
  private settingsRequests = 0;
  private readonly watches: WatchRegistration;
  private shuttingDown = false;
  private readonly debounceMs: number;

  constructor(input: Readable, output: Writable, options: ServerOptions = {}) {
    this.debounceMs = options.debounceMs ?? 150;
    const c = (this.connection = new Connection(input, output));
    this.watches = new WatchRegistration(c, (message) => c.notify("window/logMessage", { type: 2, message }));
    c.onRequest("initialize", (p: InitializeParams) => {
      const uris = Array.isArray(p?.workspaceFolders) ? p.workspaceFolders.map((f) => f?.uri) : [p?.rootUri];
      const folders = uris.filter((u): u is string => typeof u === "string").map(uriToPath);
      this.folders = new WorkspaceFolders(
        folders.length ? folders : [process.cwd()],
        p?.initializationOptions?.weights,
        folders.length > 0,
      );
      const workspace = p?.capabilities?.workspace;
      this.client = {
        pullsSettings: workspace?.configuration === true,
        watchesFiles: workspace?.didChangeWatchedFiles?.dynamicRegistration === true,
        relativePatterns: workspace?.didChangeWatchedFiles?.relativePatternSupport === true,
      };
      this.settingsPending = this.client.pullsSettings;
      return {
        capabilities: {
          workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
          textDocumentSync: { openClose: true, change: 2 },
          hoverProvider: true,
          definitionProvider: true,
          referencesProvider: true,
          inlayHintProvider: true,
          documentSymbolProvider: true,
          completionProvider: { triggerCharacters: [] },
          documentFormattingProvider: true,
          codeActionProvider: { codeActionKinds: ["quickfix"] },
          signatureHelpProvider: { triggerCharacters: ["(", ","], retriggerCharacters: [","] },
          semanticTokensProvider: { legend: { tokenTypes: TOKEN_TYPES, tokenModifiers: TOKEN_MODIFIERS }, full: true },
        },
        serverInfo: { name: "netc" },
      };
    });
    // `netc.weights` changed: every open model is checked again against the checkpoints it now names. A client
    // that answers workspace/configuration is asked for each folder's setting; another's one setting applies to
    // every folder. Settings without a `netc` section (a client that sends none) leave it as it is.
    c.onNotification("workspace/didChangeConfiguration", (p: { settings?: { netc?: { weights?: unknown } } }) => {
      if (this.client.pullsSettings) return this.pullSettings();
      const settings = p?.settings;
      if (typeof settings !== "object" || settings === null || !("netc" in settings)) return;
      this.folders.set(settings.netc?.weights);
      this.publishAll();
    });
    // (VS Code's client may have sent its settings, and been asked for them, before `initialized`.)
    c.onNotification("initialized", () => {
      if (!this.client.pullsSettings) this.watchCheckpoints();
      else if (this.settingsRequests === 0) this.pullSettings();
    });
    c.onNotification(
      "workspace/didChangeWorkspaceFolders",
      (p: { event: { added: { uri: string }[]; removed: { uri: string }[] } }) => {
        for (const f of p.event.removed) this.folders.remove(uriToPath(f.uri));
        for (const f of p.event.added) this.folders.add(uriToPath(f.uri));
        if (this.client.pullsSettings) this.pullSettings();
        else this.publishAll();
      },
    );
    // A watched checkpoint was written, replaced, deleted or created: its listing is read again, and the open models
    // paired with it are checked again after the same pause as an edit (a training run writing it is one re-check).
    c.onNotification("workspace/didChangeWatchedFiles", (p: { changes: { uri: string }[] }) => {
      const affected = this.checkpoints.forget(p.changes.map((change) => uriToPath(change.uri)));
      const checkpointsOf = (path: string) => this.folders.settingFor(path).checkpointsFor(path);
      for (const uri of this.documents.keys())
        if (checkpointsOf(uriToPath(uri)).some((f) => affected.has(f.path))) this.schedule(uri);
    });
    c.onRequest("shutdown", () => {
      this.shuttingDown = true;
      for (const t of this.timers.values()) clearTimeout(t);
      return null;
    });
    c.onNotification("exit", () => options.onExit?.(this.shuttingDown ? 0 : 1));
    c.onNotification("textDocument/didOpen", (p: { textDocument: { uri: string; version: number; text: string } }) => {
      this.documents.set(
        p.textDocument.uri,
        new TextDocument(p.textDocument.uri, p.textDocument.version, p.textDocument.text),
      );
      this.publish(p.textDocument.uri);
    });
    c.onNotification(
      "textDocument/didChange",
      (p: { textDocument: { uri: string; version: number }; contentChanges: ContentChange[] }) => {
        const doc = this.documents.get(p.textDocument.uri);
        if (!doc) return;
        doc.apply(p.contentChanges, p.textDocument.version);
        this.schedule(p.textDocument.uri);
      },
    );
    c.onNotification("textDocument/didClose", (p: { textDocument: { uri: string } }) => {
      const uri = p.textDocument.uri;
      clearTimeout(this.timers.get(uri));
      this.documents.delete(uri);
      this.analyses.delete(uri);
      this.histories.delete(uri);
      this.connection.notify("textDocument/publishDiagnostics", { uri, diagnostics: [] });
    });
    c.onRequest("textDocument/hover", (p: PositionParams) =>
      this.at(p, (a, file, offset) => {
        const h = hoverAt(a, file, offset);
        return h ? { contents: { kind: "markdown", value: h.markdown }, range: this.range(a, h.span) } : null;
      }),
    );
    c.onRequest("textDocument/definition", (p: PositionParams) =>
      this.at(p, (a, file, offset) => {
        const d = definitionAt(a, file, offset);
        return d ? this.location(a, d.span) : null;
      }),
    );
    c.onRequest("textDocument/references", (p: PositionParams & { context?: { includeDeclaration?: boolean } }) =>
      this.at(p, (a, file, offset) =>
        referencesAt(a, file, offset, p.context?.includeDeclaration ?? true).map((s) => this.location(a, s)),
      ),
    );
    c.onRequest("textDocument/inlayHint", (p: { textDocument: { uri: string }; range: Range }) => {
      const a = this.current(p.textDocument.uri);
      if (!a) return [];
      const text = a.sources.text(a.file) ?? "";
      return letShapeHints(a, a.file)
        .map((h) => ({ position: positionIn(text, h.offset), label: h.label, kind: 1, paddingLeft: false }))
        .filter((h) => h.position.line >= p.range.start.line && h.position.line <= p.range.end.line);
    });
    c.onRequest("textDocument/documentSymbol", (p: { textDocument: { uri: string } }) => {
      const a = this.current(p.textDocument.uri);
      if (!a) return [];
      const convert = (s: SymbolInfo): unknown => ({
        name: s.name,
        kind: SYMBOL_KIND[s.kind],
        range: this.range(a, s.span),
        selectionRange: this.range(a, s.selection),
        children: s.children.map(convert),
      });
      return documentSymbols(a, a.file).map(convert);
    });
    c.onRequest("textDocument/completion", (p: PositionParams) =>
      this.at(p, (a, file, offset) =>
        completionsAt(a, file, offset).map((e) => ({
          label: e.label,
          kind: COMPLETION_KIND[e.kind],
          ...(e.detail ? { detail: e.detail } : {}),
        })),
      ),
    );
    c.onRequest(
      "textDocument/codeAction",
      (p: { textDocument: { uri: string }; context: { diagnostics: { data?: { fixes?: LspFix[] } }[] } }) =>
        (p.context?.diagnostics ?? []).flatMap((d) =>
          (Array.isArray(d.data?.fixes) ? d.data.fixes : []).map((fix, i) => ({
            title: fix.title,
            kind: "quickfix",
            isPreferred: i === 0,
            diagnostics: [d],
            edit: { changes: fix.changes },
          })),
        ),
    );
    c.onRequest("textDocument/signatureHelp", (p: PositionParams) =>
      this.at(p, (a, file, offset) => {
        const help = signatureHelpAt(a, file, offset);
        if (!help) return null;
        return {
          signatures: [
            {
              label: help.label,
              parameters: help.parameters.map((label) => ({ label })),
              ...(help.documentation ? { documentation: { kind: "markdown", value: help.documentation } } : {}),
            },
          ],
          activeSignature: 0,
          activeParameter: help.activeParameter,
        };
      }),
    );
    c.onRequest("textDocument/semanticTokens/full", (p: { textDocument: { uri: string } }) => {
      const a = this.current(p.textDocument.uri);
      if (!a) return null;
      return { data: encodeTokens(a.sources.text(a.file) ?? "", semanticTokens(a, a.file)) };
    });
    c.onNotificationError = (method, e) =>
      c.notify("window/logMessage", {
        type: 1,
        message: `netc lsp: ${method} failed: ${e instanceof Error ? e.message : String(e)}`,
      });
    c.onRequest("textDocument/formatting", (p: { textDocument: { uri: string } }) => {
      const doc = this.documents.get(p.textDocument.uri);
      if (!doc) return null;
      const formatted = formatSource(uriToPath(doc.uri), doc.text);
      // A file that does not parse is left as it is; its diagnostics already say why.
      if (formatted.text === undefined || formatted.text === doc.text) return [];
      return [
        { range: { start: { line: 0, character: 0 }, end: doc.positionAt(doc.text.length) }, newText: formatted.text },
      ];
    });
  }

  /** The analysis of a document's current text, made now if the document changed since the last one. */
  private current(uri: string): Analysis | undefined {
    const doc = this.documents.get(uri);
    if (!doc) return undefined;
    const have = this.analyses.get(uri);
    if (have && have.version === doc.version) return have.analysis;
    const openTexts = new Map(
      [...this.documents.values()]
        .filter((d) => d.uri.startsWith("file:"))
        .map((d) => [uriToPath(d.uri), d.text] as const),
    );
    let history = this.histories.get(uri);
    if (!history) this.histories.set(uri, (history = new AnalysisHistory()));
    const path = uriToPath(uri);
    const namesBase = this.folders.namesBaseFor(path);
    const earlier = history.find(doc.text, readerOf(openTexts), namesBase, (f) => diskPath(namesBase, f));
    const analysis = earlier ?? analyse(path, doc.text, openTexts, this.parses, history.layerCalls, namesBase);
    if (!earlier) history.add(analysis);
    this.analyses.set(uri, { version: doc.version, analysis });
    return analysis;
  }

  private at(p: PositionParams, answer: (a: Analysis, file: string, offset: number) => unknown): unknown {
    const doc = this.documents.get(p.textDocument.uri);
    const a = this.current(p.textDocument.uri);
    if (!doc || !a) return null;
    return answer(a, a.file, doc.offsetAt(p.position));
  }

  /**
   * Asks the client for the `netc` settings of every workspace folder (scopeUri: the folder), then checks every
   * open model again. A folder whose answer has no `netc` section keeps what it had (initialization options).
   */
  private pullSettings(): void {
    const request = ++this.settingsRequests;
    const folders = this.folders.paths;
    const items = folders.map((f) => ({ scopeUri: pathToFileURL(f).href, section: "netc" }));
    // A client that never answers must not leave the documents without diagnostics: after a while they are
    // checked with the initialization options, and a late answer still applies.
    const waited = setTimeout(() => {
      if (request !== this.settingsRequests || !this.settingsPending || this.shuttingDown) return;
      this.connection.notify("window/logMessage", {
        type: 2,
        message:
          `netc lsp: no answer to workspace/configuration in ${SETTINGS_WAIT_MS} ms: ` +
          "using the initialization options",
      });
      this.settingsPending = false;
      this.publishAll();
    }, SETTINGS_WAIT_MS).unref();
    const done = (values: unknown) => {
      clearTimeout(waited);
      if (request !== this.settingsRequests || this.shuttingDown) return;
      folders.forEach((folder, i) => {
        const netc: unknown = Array.isArray(values) ? values[i] : undefined;
        if (typeof netc === "object" && netc !== null)
          this.folders.set((netc as { weights?: unknown }).weights, folder);
      });
      this.settingsPending = false;
      this.publishAll();
      this.watchCheckpoints();
    };
    this.connection.request("workspace/configuration", { items }).then(done, (e) => {
      this.connection.notify("window/logMessage", {
        type: 2,
        message: `netc lsp: the client did not give the netc settings: ${e instanceof Error ? e.message : String(e)}`,
      });
      done(undefined);
    });
  }

  private publishAll(): void {
    for (const uri of this.documents.keys()) this.publish(uri);
  }

  /**
   * Has the client watch every checkpoint the settings name (and the shards of those read), where it can: the
   * workspace folders' settings, and the open documents' (a client without folders: relative to each document).
   */
  private watchCheckpoints(): void {
    if (!this.client.watchesFiles || this.shuttingDown) return;
    const open = [...this.documents.keys()].filter((u) => u.startsWith("file:")).map(uriToPath);
    const settings = [...this.folders.all(), ...open.map((p) => this.folders.settingFor(p))];
    const files = settings.flatMap((s) => s.checkpointFiles().flatMap((f) => this.checkpoints.filesOf(f)));
    this.watches.update(checkpointWatchers(files, this.client.relativePatterns));
  }

  private schedule(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.set(
      uri,
      setTimeout(() => {
        this.timers.delete(uri);
        if (this.documents.has(uri)) this.publish(uri);
      }, this.debounceMs),
    );
  }

  private publish(uri: string): void {
    if (this.settingsPending) return;
    let a: Analysis | undefined;
    try {
      a = this.current(uri);
    } catch (e) {
      // A compiler bug: the editor's log says so (as `netc check`'s exit 70 would); the server goes on.
      this.connection.notify("window/logMessage", {
        type: 1,
        message: `netc lsp: internal error analysing ${uri}: ${e instanceof Error ? (e.stack ?? e.message) : e}`,
      });
      return;
    }
    const doc = this.documents.get(uri);
    if (!a || !doc) return;
    const analysis = a;
    let diagnostics = a.diagnostics;
    try {
      const path = uriToPath(uri);
      diagnostics = withWeightDiagnostics(a, path, this.folders.settingFor(path), this.checkpoints);
    } catch (e) {
      this.connection.notify("window/logMessage", {
        type: 1,
        message: `netc lsp: internal error checking weights of ${uri}: ${e instanceof Error ? e.stack : e}`,
      });
    }
    this.connection.notify("textDocument/publishDiagnostics", {
      uri,
      version: doc.version,
      diagnostics: diagnostics.map((d) => this.diagnostic(analysis, d)),
    });
    // A sharded checkpoint read for the first time names its shards: they are watched too.
    this.watchCheckpoints();
  }

  private position(a: Analysis, file: string, offset: number): Position {
    return positionIn(a.sources.text(file) ?? "", offset);
  }

  private range(a: Analysis, span: Span): Range {
    return { start: this.position(a, span.file, span.start), end: this.position(a, span.file, span.end) };
  }

  private location(a: Analysis, span: Span): { uri: string; range: Range } {
    return { uri: pathToFileURL(diskPath(a.namesBase, span.file)).href, range: this.range(a, span) };
  }

  /** A netc Diagnostic as an LSP one; one about another file (an import) sits at the top of this document. */
  private diagnostic(a: Analysis, d: Diagnostic): unknown {
    const here = d.span?.file === a.file;
    const where = d.span && !here ? `${d.span.file}:${d.span.line}:${d.span.col}: ` : "";
    const related = [...(d.span && !here ? [{ message: "reported here", span: d.span }] : []), ...d.related];
    return {
      range:
        here && d.span ? this.range(a, d.span) : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      severity: SEVERITY[d.severity],
      code: d.code,
      codeDescription: { href: `${diagnosticsDoc()}#${d.code.toLowerCase()}-${d.severity}` },
      source: "netc",
      message: where + d.message + (d.hint ? `\nhint: ${d.hint}` : ""),
      relatedInformation: related
        .filter((r) => r.span)
        .map((r) => ({ location: this.location(a, r.span!), message: r.message })),
      ...this.fixData(a, d, here),
    };
  }

  /**
   * The diagnostic's fixes as workspace edits, kept in its `data`, which the client hands back for code actions: the
   * compiler's (Diagnostic.fixes), and a "did you mean 'x'?" hint on a diagnostic whose span is exactly a name (the
   * name replaced by x: unknown names, preprocess fields).
   */
  private fixData(a: Analysis, d: Diagnostic, here: boolean): { data: { fixes: LspFix[] } } | {} {
    const fixes: LspFix[] = [];
    for (const fix of d.fixes ?? []) {
      const changes: LspFix["changes"] = {};
      for (const e of fix.edits) {
        const target = e.span.file === a.file ? this.documentUri(a) : this.location(a, e.span).uri;
        (changes[target] ??= []).push({ range: this.range(a, e.span), newText: e.text });
      }
      fixes.push({ title: fix.title, changes });
    }
    const suggestion = d.hint && /^did you mean '([A-Za-z_][A-Za-z0-9_]*)'\?$/.exec(d.hint);
    const written = d.span ? (a.sources.text(d.span.file)?.slice(d.span.start, d.span.end) ?? "") : "";
    if (here && d.span && suggestion && /^[A-Za-z_][A-Za-z0-9_]*$/.test(written))
      fixes.push({
        title: `Change to '${suggestion[1]}'`,
        changes: { [this.documentUri(a)]: [{ range: this.range(a, d.span), newText: suggestion[1] }] },
      });
    return fixes.length ? { data: { fixes } } : {};
  }

  /** The uri the editor opened an analysed document under. */
  private documentUri(a: Analysis): string {
    for (const [uri, entry] of this.analyses) if (entry.analysis === a) return uri;
    return pathToFileURL(diskPath(a.namesBase, a.file)).href;
  }
}

interface LspFix {
  title: string;
  changes: Record<string, { range: Range; newText: string }[]>;
}

interface InitializeParams {
  rootUri?: string | null;
  workspaceFolders?: { uri: string }[] | null;
  capabilities?: {
    workspace?: {
      configuration?: boolean;
      didChangeWatchedFiles?: { dynamicRegistration?: boolean; relativePatternSupport?: boolean };
    };
  };
  /** `{ weights }`: the `netc.weights` setting when the client starts the server. */
  initializationOptions?: { weights?: unknown };
}

interface PositionParams {
  textDocument: { uri: string };
  position: Position;
}

export function startServer(input: Readable, output: Writable, options: ServerOptions = {}): LanguageServer {
  return new LanguageServer(input, output, options);
}
