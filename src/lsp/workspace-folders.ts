// The workspace folders and the `netc.weights` setting of each. A document uses the setting of the innermost folder
// that contains it, with the paths in it relative to that folder; a document outside every folder uses the first
// folder's (a server started without folders has one: the folder it runs in).
import { isAbsolute, relative } from "node:path";
import { WeightsSetting } from "./checkpoints.js";

export class WorkspaceFolders {
  /** Folder path -> its setting, in the client's order. */
  private readonly settings = new Map<string, WeightsSetting>();

  /** `folders` absolute paths; `initial` the setting the client gave at start, for every folder until it says more. */
  constructor(
    folders: readonly string[],
    private readonly initial: unknown,
  ) {
    for (const folder of folders) this.add(folder);
  }

  get paths(): string[] {
    return [...this.settings.keys()];
  }

  all(): WeightsSetting[] {
    return [...this.settings.values()];
  }

  add(folder: string): void {
    if (!this.settings.has(folder)) this.settings.set(folder, new WeightsSetting(this.initial, folder));
  }

  remove(folder: string): void {
    this.settings.delete(folder);
  }

  /** The setting of one folder (`undefined`: every folder) is now `value`. */
  set(value: unknown, folder?: string): void {
    for (const f of folder === undefined ? this.paths : [folder])
      if (this.settings.has(f)) this.settings.set(f, new WeightsSetting(value, f));
  }

  /** The setting for the document at `path` (absolute). */
  settingFor(path: string): WeightsSetting {
    let best: string | undefined;
    for (const folder of this.settings.keys()) {
      const rel = relative(folder, path);
      const inside = !rel.startsWith("..") && !isAbsolute(rel);
      if (inside && (best === undefined || folder.length > best.length)) best = folder;
    }
    const folder = best ?? this.paths[0];
    return this.settings.get(folder) ?? new WeightsSetting(this.initial, process.cwd());
  }
}
