// The language server's responsiveness on models/ifdd.net: from an edit (sent over JSON-RPC, debounce 0) to its
// diagnostics, for edits in four places, and from an edit to the answer of a hover; against the cold path, the same
// analysis with nothing kept from earlier edits (no parse, no layer call reused), and the front end `netc check` runs
// (`compileToGraph`), both on the same text, interleaved. The goal is 200 ms. The server reuses the parse of
// unchanged declarations and replays the layer calls whose blocks and inputs did not change (src/lsp/reuse.ts,
// src/compiler/3-elaborate/layer-memo.ts): how much it replays depends on where the edit is.
import { readFileSync } from "node:fs";
import { PassThrough } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { compileToGraph } from "../src/driver.js";
import { analyse } from "../src/lsp/analysis.js";
import { ParseCache } from "../src/lsp/reuse.js";
import { Connection } from "../src/lsp/rpc.js";
import { startServer } from "../src/lsp/server.js";
import { formatSpread, interleaved, type Spread, spread } from "./measure.js";

const IFDD = fileURLToPath(new URL("../models/ifdd.net", import.meta.url));
const ROUNDS = 7;

/**
 * Where the edits are, each a comment rewritten with the version number on a line of its own, from the cheapest to
 * the dearest: after the model (every layer call replayed), inside the classifier head, inside WaveLift (the
 * backbone's second half and what follows it move), inside MultiscaleAttention (every later declaration moves: only
 * the attention pooling and the standard library's calls are replayed).
 */
const PLACES = {
  end: undefined,
  head: "block Head(",
  waveLift: "block WaveLift(",
  attention: "block MultiscaleAttention(",
} as const;
type Place = keyof typeof PLACES;

export interface LspResult {
  editToDiagnosticsMs: Record<Place, Spread>;
  /** Every edit of the sequence above together: the median and the worst. */
  allEditsMs: Spread;
  editToHoverMs: Spread;
  /** The same analysis from nothing (fresh parse cache and layer calls) on the edited text. */
  coldAnalysisMs: Spread;
  frontEndMs: Spread;
}

export async function benchLsp(): Promise<LspResult> {
  const lines = readFileSync(IFDD, "utf8").split("\n");
  // A comment line opening each edited block (and one at the end), rewritten by the edits.
  const slots = {} as Record<Place, number>;
  for (const [place, opening] of Object.entries(PLACES) as [Place, string | undefined][]) {
    const at = opening === undefined ? lines.length : lines.findIndex((l) => l.startsWith(opening));
    const body = opening === undefined ? at : lines.findIndex((l, i) => i >= at && l.trimEnd().endsWith("{")) + 1;
    lines.splice(body, 0, "  //");
    for (const p of Object.keys(slots) as Place[]) if (slots[p] >= body) slots[p]++;
    slots[place] = body;
  }
  let text = lines.join("\n");
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
  // Every version's text is new (no earlier analysis can be reused whole).
  const edit = (place: Place) => {
    version++;
    const line = slots[place];
    const old = text.split("\n")[line];
    const next = `  // edit ${version}`;
    const range = { start: { line, character: 0 }, end: { line, character: old.length } };
    const all = text.split("\n");
    all[line] = next;
    text = all.join("\n");
    client.notify("textDocument/didChange", {
      textDocument: { uri, version },
      contentChanges: [{ range, text: next }],
    });
    return version;
  };
  const diagnosticsAfter = (place: Place) => async () => {
    const done = published(version + 1);
    edit(place);
    await done;
  };
  const hoverPosition = () => {
    const before = text.slice(0, text.indexOf("let feature") + 4).split("\n");
    return { line: before.length - 1, character: before[before.length - 1].length };
  };
  const times = await interleaved(ROUNDS, {
    end: diagnosticsAfter("end"),
    head: diagnosticsAfter("head"),
    waveLift: diagnosticsAfter("waveLift"),
    attention: diagnosticsAfter("attention"),
    editToHover: async () => {
      edit("end");
      const hover = (await client.request("textDocument/hover", {
        textDocument: { uri },
        position: hoverPosition(),
      })) as {
        contents: { value: string };
      } | null;
      if (!hover?.contents.value.includes("f32[B, 768]")) throw new Error(`unexpected hover: ${JSON.stringify(hover)}`);
    },
    coldAnalysis: () => {
      const a = analyse(IFDD, text, new Map(), new ParseCache());
      if (!a.graph) throw new Error("models/ifdd.net did not analyse");
    },
    frontEnd: () => {
      const r = compileToGraph(text, { file: IFDD, requireModel: false });
      if (!r.graph) throw new Error("models/ifdd.net did not compile");
    },
  });
  await client.request("shutdown", null);
  const places = Object.keys(PLACES) as Place[];
  return {
    editToDiagnosticsMs: Object.fromEntries(places.map((p) => [p, times[p]])) as Record<Place, Spread>,
    allEditsMs: spread(places.flatMap((p) => times[p].runs)),
    editToHoverMs: times.editToHover,
    coldAnalysisMs: times.coldAnalysis,
    frontEndMs: times.frontEnd,
  };
}

export function formatLsp(r: LspResult): string {
  const ratio = (s: Spread) => `${(s.median / r.coldAnalysisMs.median).toFixed(2)}x`;
  const places = Object.entries(r.editToDiagnosticsMs).map(([p, s]) => `${p} ${formatSpread(s)} = ${ratio(s)}`);
  const all = r.allEditsMs;
  return (
    `lsp: models/ifdd.net edit to diagnostics, by place: ${places.join(", ")} the cold analysis; all ` +
    `${all.runs.length} edits median ${all.median.toFixed(1)} ms (${ratio(all)}), max ${all.max.toFixed(1)} ms; ` +
    `edit to hover ${formatSpread(r.editToHoverMs)}; cold analysis ${formatSpread(r.coldAnalysisMs)}; the front ` +
    `end alone (netc check's) ${formatSpread(r.frontEndMs)} (medians of ${ROUNDS} interleaved; goal 200 ms)`
  );
}
