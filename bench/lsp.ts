// The language server's responsiveness on models/ifdd.net: from an edit (sent over JSON-RPC, debounce 0) to its
// diagnostics, and from an edit to the answer of a hover, against the floor of the same front end run directly
// (`compileToGraph`, what `netc check` runs) on the same text, interleaved. The goal is 200 ms. The server
// reuses the standard library's parse and runs dead-code elimination instead of the whole IR pipeline (src/lsp/reuse.ts,
// FrontendOptions.optimize); elaboration runs again on every edit.
import { readFileSync } from "node:fs";
import { PassThrough } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { compileToGraph } from "../src/driver.js";
import { Connection } from "../src/lsp/rpc.js";
import { startServer } from "../src/lsp/server.js";
import { formatSpread, interleaved, type Spread } from "./measure.js";

const IFDD = fileURLToPath(new URL("../models/ifdd.net", import.meta.url));
const ROUNDS = 7;

export interface LspResult {
  editToDiagnosticsMs: Spread;
  editToHoverMs: Spread;
  frontEndMs: Spread;
}

export async function benchLsp(): Promise<LspResult> {
  const text = readFileSync(IFDD, "utf8");
  const uri = pathToFileURL(IFDD).href;
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  startServer(toServer, toClient, { debounceMs: 0 });
  const client = new Connection(toClient, toServer);
  const waiting = new Map<number, () => void>();
  client.onNotification("textDocument/publishDiagnostics", (p: { version: number; diagnostics: unknown[] }) =>
    waiting.get(p.version)?.(),
  );
  await client.request("initialize", { processId: null, capabilities: {} });
  let version = 1;
  const published = (v: number) => new Promise<void>((r) => waiting.set(v, r));
  const first = published(1);
  client.notify("textDocument/didOpen", { textDocument: { uri, languageId: "netc", version, text } });
  await first;
  // Each edit rewrites a comment at the end with the new version number: every version's text is new (no earlier
  // analysis can be reused), and the server re-runs the whole front end on it except the standard library's parse.
  const lines = text.split("\n").length;
  let last = "";
  const edit = () => {
    version++;
    const next = `// edit ${version}`;
    const range = { start: { line: lines - 1, character: 0 }, end: { line: lines - 1, character: last.length } };
    last = next;
    client.notify("textDocument/didChange", {
      textDocument: { uri, version },
      contentChanges: [{ range, text: next }],
    });
    return version;
  };
  const feature = text.indexOf("let feature") + 4;
  const before = text.slice(0, feature).split("\n");
  const position = { line: before.length - 1, character: before[before.length - 1].length };
  const times = await interleaved(ROUNDS, {
    editToDiagnostics: async () => {
      const done = published(version + 1);
      edit();
      await done;
    },
    editToHover: async () => {
      edit();
      const hover = (await client.request("textDocument/hover", { textDocument: { uri }, position })) as {
        contents: { value: string };
      } | null;
      if (!hover?.contents.value.includes("f32[B, 768]")) throw new Error(`unexpected hover: ${JSON.stringify(hover)}`);
    },
    frontEnd: () => {
      const r = compileToGraph(text, { file: IFDD, requireModel: false });
      if (!r.graph) throw new Error("models/ifdd.net did not compile");
    },
  });
  await client.request("shutdown", null);
  return { editToDiagnosticsMs: times.editToDiagnostics, editToHoverMs: times.editToHover, frontEndMs: times.frontEnd };
}

export function formatLsp(r: LspResult): string {
  return `lsp: models/ifdd.net edit to diagnostics ${formatSpread(r.editToDiagnosticsMs)}, edit to hover ${formatSpread(r.editToHoverMs)}; the front end alone (netc check's) ${formatSpread(r.frontEndMs)} (median of ${ROUNDS} interleaved; goal 200 ms)`;
}
