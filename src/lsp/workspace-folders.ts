// The workspace folders and the `netc.weights` setting of each. A document uses the setting of the innermost folder
// that contains it, with the paths in it relative to that folder; a document outside every folder uses the first
// folder's. A client that names no folder has one setting, with paths relative to each document's folder (the
// folder the server runs in only holds that setting: the editor chose it). File names the server shows are
// relative to the innermost folder the client named that holds the document, else to the document's folder.
import { dirname, isAbsolute, relative } from "node:path";
import { WeightsSetting } from "./checkpoints.js";

export class WorkspaceFolders {
  /** Folder path -> its setting, in the client's order. */
  private readonly settings = new Map<string, WeightsSetting>();
  /** The folders the client named (not the working folder a server without any falls back to). */
  private readonly named = new Set<string>();

  /**
   * `folders` absolute paths; `initial` the setting the client gave at start, for every folder until it says more;
   * `named` whether the client named them (a client that names none gets the folder the server runs in, which only
   * holds the one setting: neither its paths nor the names shown depend on where the editor started the server).
   */
  constructor(
    folders: readonly string[],
    private readonly initial: unknown,
    named = true,
  ) {
    for (const folder of folders) this.add(folder, named);
  }

  get paths(): string[] {
    return [...this.settings.keys()];
  }

  /** The settings of the folders the client named. */
  all(): WeightsSetting[] {
    return [...this.named].map((f) => this.settings.get(f)!);
  }

  /** `named`: the client named it (see namesBaseFor). */
  add(folder: string, named = true): void {
    if (!this.settings.has(folder)) this.settings.set(folder, new WeightsSetting(this.initial, folder));
    if (named) this.named.add(folder);
  }

  remove(folder: string): void {
    this.settings.delete(folder);
    this.named.delete(folder);
  }

  /** The setting of one folder (`undefined`: every folder) is now `value`. */
  set(value: unknown, folder?: string): void {
    for (const f of folder === undefined ? this.paths : [folder])
      if (this.settings.has(f)) this.settings.set(f, new WeightsSetting(value, f));
  }

  /** The innermost folder the client named that holds the file at `path` (absolute), if any. */
  private holding(path: string): string | undefined {
    let best: string | undefined;
    for (const folder of this.named) {
      const rel = relative(folder, path);
      const inside = !rel.startsWith("..") && !isAbsolute(rel);
      if (inside && (best === undefined || folder.length > best.length)) best = folder;
    }
    return best;
  }

  /**
   * The folder the file names of the document at `path` (its imports', its checkpoints') are shown relative to: the
   * innermost workspace folder holding it, else the document's own folder. One base for all of a document's names,
   * so that each leads back to one file (`../lib/x.net` for an import from outside, as `netc check` names it).
   */
  namesBaseFor(path: string): string {
    return this.holding(path) ?? dirname(path);
  }

  /** The setting for the document at `path` (absolute). */
  settingFor(path: string): WeightsSetting {
    const folder = this.holding(path) ?? [...this.named][0];
    if (folder !== undefined) return this.settings.get(folder)!;
    const value = this.paths.length ? this.settings.get(this.paths[0])!.value : this.initial;
    return new WeightsSetting(value, dirname(path));
  }
}
