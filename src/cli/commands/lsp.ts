// `netc lsp`: the language server on stdin/stdout (editors start it; see docs/editors.md).
import { startServer } from "../../lsp/server.js";

export function lspCommand(): void {
  startServer(process.stdin, process.stdout, { onExit: (code) => process.exit(code) });
  // The client closing the pipe without `exit` ends the server too.
  process.stdin.on("end", () => process.exit(0));
}
