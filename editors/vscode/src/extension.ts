// The netc extension: starts `netc lsp` over stdio for `.net` files and hands the editor's requests to it
// (vscode-languageclient does the protocol; this file only finds the command and restarts it when its setting changes).
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import { LanguageClient, type LanguageClientOptions, type ServerOptions, TransportKind } from "vscode-languageclient/node";

let client: LanguageClient | undefined;

/** The netc command: the `netc.path` setting, else the workspace's installed CLI, else `netc` on PATH. */
export function netcCommand(): string {
  const configured = vscode.workspace.getConfiguration("netc").get<string>("path")?.trim();
  if (configured) return configured;
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const local = join(folder.uri.fsPath, "node_modules", ".bin", process.platform === "win32" ? "netc.cmd" : "netc");
    if (existsSync(local)) return local;
  }
  return "netc";
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const command = netcCommand();
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  // `netc lsp` names files relative to the folder it runs in, as `netc check` does: the workspace's root.
  const server: ServerOptions = {
    command,
    args: ["lsp"],
    transport: TransportKind.stdio,
    options: { cwd, shell: process.platform === "win32" },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: "netc" }],
    outputChannelName: "netc",
    // The checkpoints paired with models: given at start, and sent again when the settings change.
    initializationOptions: { weights: vscode.workspace.getConfiguration("netc").get("weights") },
    synchronize: { configurationSection: "netc" },
  };
  client = new LanguageClient("netc", "netc language server", server, clientOptions);
  try {
    await client.start();
  } catch (e) {
    void vscode.window.showErrorMessage(
      `netc: could not start '${command} lsp' (${e instanceof Error ? e.message : String(e)}); set netc.path to the netc command.`,
    );
  }
  context.subscriptions.push({ dispose: () => void client?.stop() });
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  await start(context);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration("netc.path")) return;
      await client?.stop();
      await start(context);
    }),
  );
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
