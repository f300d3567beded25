// What checking a model's weights as you type costs: models/ifdd.net open in two language servers, one with the
// `netc.weights` setting naming the IFDD checkpoint (../shared/fixtures/ifdd, 150 MB), one without; an edit to each,
// interleaved, to its diagnostics. The checkpoint's listing is read once (the servers' read counts are checked), so
// the difference is mapping ~300 weights by name and shape per analysis. The clients say what VS Code's says (they
// answer workspace/configuration and watch files for the server): the checkpoint is watched, registered once.
import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Connection } from "../src/lsp/rpc.js";
import { type LanguageServer, startServer } from "../src/lsp/server.js";
import { formatSpread, interleaved, type Spread } from "./measure.js";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const IFDD = `${ROOT}/models/ifdd.net`;
const CHECKPOINT = `${ROOT}/../shared/fixtures/ifdd/ifdd_dfew_random.pth`;
const ROUNDS = 7;

export interface LspWeightsResult {
  withCheckpointMs: Spread;
  withoutMs: Spread;
  ratio: number;
  /** Diagnostics the checked server published on the last edit (the NET6025 note for IFDD's unused weights). */
  weightDiagnostics: string[];
  checkpointReads: number;
  /** How many times the checked server asked for its file watchers (once: not per edit). */
  watcherRegistrations: number;
}

/** A server with IFDD open; `edit()` changes a trailing comment and resolves with the new version's diagnostics. */
async function session(weights: unknown) {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const server: LanguageServer = startServer(toServer, toClient, { debounceMs: 0 });
  const client = new Connection(toClient, toServer);
  const waiting = new Map<number, (codes: string[]) => void>();
  client.onNotification("textDocument/publishDiagnostics", (p: { version: number; diagnostics: { code: string }[] }) =>
    waiting.get(p.version)?.(p.diagnostics.map((d) => d.code)),
  );
  let registrations = 0;
  client.onRequest("workspace/configuration", (p: { items: unknown[] }) => p.items.map(() => ({ weights })));
  client.onRequest("client/registerCapability", () => {
    registrations++;
    return null;
  });
  await client.request("initialize", {
    processId: null,
    rootUri: pathToFileURL(ROOT).href,
    capabilities: {
      workspace: {
        configuration: true,
        didChangeWatchedFiles: { dynamicRegistration: true, relativePatternSupport: true },
      },
    },
    initializationOptions: { weights },
  });
  client.notify("initialized", {});
  const uri = pathToFileURL(IFDD).href;
  const text = readFileSync(IFDD, "utf8");
  const lines = text.split("\n").length;
  let version = 1;
  let last = "";
  const published = (v: number) => new Promise<string[]>((r) => waiting.set(v, r));
  const first = published(1);
  client.notify("textDocument/didOpen", { textDocument: { uri, languageId: "netc", version, text } });
  await first;
  return {
    server,
    client,
    registrations: () => registrations,
    async edit(): Promise<string[]> {
      version++;
      const next = `// edit ${version}`;
      const range = { start: { line: lines - 1, character: 0 }, end: { line: lines - 1, character: last.length } };
      last = next;
      const done = published(version);
      client.notify("textDocument/didChange", {
        textDocument: { uri, version },
        contentChanges: [{ range, text: next }],
      });
      return done;
    },
  };
}

export async function benchLspWeights(): Promise<LspWeightsResult> {
  if (!existsSync(CHECKPOINT)) throw new Error(`${CHECKPOINT} is missing (../shared/fixtures/ifdd)`);
  const checked = await session({ "models/ifdd.net": "../shared/fixtures/ifdd/ifdd_dfew_random.pth" });
  const plain = await session(undefined);
  let weightDiagnostics: string[] = [];
  const times = await interleaved(ROUNDS, {
    withCheckpoint: async () => {
      weightDiagnostics = await checked.edit();
    },
    without: async () => {
      await plain.edit();
    },
  });
  for (const s of [checked, plain]) await s.client.request("shutdown", null);
  if (!weightDiagnostics.includes("NET6025")) throw new Error(`weights not checked: ${weightDiagnostics.join(", ")}`);
  if (checked.registrations() !== 1) throw new Error(`watchers registered ${checked.registrations()} times`);
  return {
    withCheckpointMs: times.withCheckpoint,
    withoutMs: times.without,
    ratio: times.withCheckpoint.median / times.without.median,
    weightDiagnostics,
    checkpointReads: checked.server.checkpoints.reads,
    watcherRegistrations: checked.registrations(),
  };
}

export function formatLspWeights(r: LspWeightsResult): string {
  return (
    `lsp-weights: models/ifdd.net edit to diagnostics with its checkpoint in netc.weights ` +
    `${formatSpread(r.withCheckpointMs)}, without ${formatSpread(r.withoutMs)}: ${r.ratio.toFixed(2)}x ` +
    `(checkpoint listing read ${r.checkpointReads} time${r.checkpointReads === 1 ? "" : "s"}, watched from the ` +
    `first analysis: ${r.watcherRegistrations} registration; median of ${ROUNDS} ` +
    `interleaved)`
  );
}
