// The checkpoint files the client watches for the server: registered with client/registerCapability for
// workspace/didChangeWatchedFiles (only where the client supports dynamic registration), one watcher per file, and
// registered again when the set of files changes (another setting, a sharded checkpoint's shards once read).
import { basename, dirname, sep } from "node:path";
import { pathToFileURL } from "node:url";
import type { Connection } from "./rpc.js";

/** LSP's FileSystemWatcher: a glob, or (relativePatternSupport) a glob under a base folder; every kind of change. */
export interface FileWatcher {
  globPattern: string | { baseUri: string; pattern: string };
}

/**
 * A file name (or a path of `/`-separated names) as a glob of LSP 3.17's syntax that matches it. The syntax has no
 * escape, and clients read it differently, so each special character is written the way every reading agrees on:
 * - `*`, `?`, `[`, `{`, `}` as a one-character range `[c-c]` (Neovim's matcher reads a class of ranges only, so not
 *   `[c]`; VS Code's drops a `}` outside braces);
 * - `]` cannot be written exactly: a class ends at its first `]` (Neovim's ranges cannot end with it) and VS Code
 *   reads a `]` outside a class as an empty class that matches nothing. It is the range `[\-^]`, which matches `\`
 *   and `^` there too: such a sibling's events may come, and the server ignores them (CheckpointCache.forget
 *   compares exact paths);
 * - `,` (special only inside braces), `!` (only first in a class), `-`, `^` and backslash (no escape in this
 *   syntax) are literal as they are.
 */
function literalGlob(name: string): string {
  return name.replace(/[*?[{}\]]/g, (c) => (c === "]" ? "[\\-^]" : `[${c}-${c}]`));
}

/**
 * Watchers for `files` (absolute): with relative patterns, the file's name under its folder (a folder outside the
 * workspace is watched too); without, the absolute path as a glob (clients match those within the workspace).
 */
export function checkpointWatchers(files: readonly string[], relativePatterns: boolean): FileWatcher[] {
  return [...new Set(files)]
    .sort()
    .map((f) =>
      relativePatterns
        ? { globPattern: { baseUri: pathToFileURL(dirname(f)).href, pattern: literalGlob(basename(f)) } }
        : { globPattern: literalGlob(f.split(sep).join("/")) },
    );
}

const METHOD = "workspace/didChangeWatchedFiles";

export class WatchRegistration {
  private registered?: { id: string; key: string };
  private count = 0;
  /** Registration requests in order: an update waits for the one before it. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly connection: Connection,
    private readonly log: (message: string) => void,
  ) {}

  /** Asks the client to watch `watchers` instead of what it watched (nothing when the list is empty). */
  update(watchers: FileWatcher[]): void {
    const key = JSON.stringify(watchers);
    if (key === (this.registered?.key ?? "[]")) return;
    const previous = this.registered;
    const next = watchers.length > 0 ? { id: `netc-checkpoints-${++this.count}`, key } : undefined;
    this.registered = next;
    this.queue = this.queue.then(async () => {
      try {
        if (previous)
          await this.connection.request("client/unregisterCapability", {
            unregisterations: [{ id: previous.id, method: METHOD }],
          });
        if (next)
          await this.connection.request("client/registerCapability", {
            registrations: [{ id: next.id, method: METHOD, registerOptions: { watchers } }],
          });
      } catch (e) {
        this.log(`netc lsp: the client did not watch the checkpoints: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  }
}
