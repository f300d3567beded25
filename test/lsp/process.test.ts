// `netc lsp` as an editor starts it: a process talking over stdin/stdout, that acknowledges `shutdown` before the
// `exit` that follows and then exits with 0.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { expect, it } from "vitest";
import { Connection } from "../../src/lsp/rpc.js";

const ROOT = resolve(__dirname, "../..");
const TSX = resolve(ROOT, "node_modules/tsx/dist/cli.mjs");

it("serves over stdio and exits cleanly after shutdown and exit", async () => {
  const server = spawn(process.execPath, [TSX, "src/cli/bin.ts", "lsp", "--stdio"], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((r) => server.on("exit", (code) => r(code)));
  const client = new Connection(server.stdout, server.stdin);
  const published = new Promise<{ diagnostics: { code: string }[] }>((r) =>
    client.onNotification("textDocument/publishDiagnostics", r),
  );
  const init = (await client.request("initialize", { processId: process.pid, capabilities: {} })) as {
    capabilities: { hoverProvider: boolean };
  };
  expect(init.capabilities.hoverProvider).toBe(true);
  const text = "model M()(x: f32[B, 4]) -> f32[B, 4] {\n  return relu(y)\n}\n";
  client.notify("textDocument/didOpen", {
    textDocument: { uri: pathToFileURL(resolve(ROOT, "untitled.net")).href, languageId: "netc", version: 1, text },
  });
  expect((await published).diagnostics.map((d) => d.code)).toEqual(["NET2001"]);
  expect(await client.request("shutdown", null)).toBeNull();
  client.notify("exit", null);
  expect(await exited).toBe(0);
}, 60_000);
