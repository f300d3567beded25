// The checkpoints the editor pairs with models: the `netc.weights` setting (a map from a .net path or glob, relative
// to the workspace folder, to checkpoint files, `[name=]file` as --weights), and the checkpoints' listings (names,
// shapes, dtypes: no tensor data), cached by (path, size, mtime) so that an edit re-checks a model's weights without
// reading a checkpoint again.
import { statSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import type * as A from "../dsl/1-parse/ast.js";
import { CheckCodes, CliCodes, makeDiagnostic } from "../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError, type Span } from "../diagnostics/diagnostics.js";
import { type Checkpoint, openCheckpoint } from "../weights/checkpoint.js";
import { checkWeights, withDimensionHints } from "../weights/model-check.js";
import { parseWeightSpec, type WeightFileSpec } from "../weights/model-weights.js";
import type { Analysis } from "./analysis.js";

/** One entry of the setting: which models, and their checkpoints as written. */
interface WeightsEntry {
  pattern: string;
  matches: RegExp;
  checkpoints: string[];
}

/** `**` any folders, `*` and `?` within one path segment; anything else literally. */
function globRegExp(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      const slash = glob[i + 2] === "/";
      out += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else out += c.replace(/[\\^$.|+(){}[\]]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}

const posix = (path: string) => path.split(sep).join("/");

export class WeightsSetting {
  private readonly entries: WeightsEntry[] = [];
  /** What in the setting was not understood, one line each (NET8071). */
  readonly problems: string[] = [];

  /**
   * `value` as the client sent it; `root` the folder paths in it are relative to: a workspace folder, or the model's
   * own folder for a client that names none.
   */
  constructor(
    readonly value: unknown,
    readonly root: string,
  ) {
    if (value === undefined || value === null) return;
    if (typeof value !== "object" || Array.isArray(value)) {
      this.problems.push(`netc.weights is ${Array.isArray(value) ? "a list" : typeof value}, not a map`);
      return;
    }
    for (const [pattern, files] of Object.entries(value)) {
      const list = typeof files === "string" ? [files] : files;
      if (!Array.isArray(list) || list.length === 0 || !list.every((f) => typeof f === "string" && f !== "")) {
        this.problems.push(`netc.weights["${pattern}"] is not a checkpoint file or a list of them`);
        continue;
      }
      this.entries.push({ pattern, matches: globRegExp(posix(pattern)), checkpoints: list });
    }
  }

  /**
   * The checkpoints of the model at `path` (absolute), as --weights specs with paths resolved against the workspace
   * folder: an entry naming the file exactly wins, else the first glob that matches (in the setting's order).
   */
  checkpointsFor(path: string): WeightFileSpec[] {
    const rel = posix(relative(this.root, path));
    const exact = this.entries.find((e) => posix(e.pattern).replace(/^\.\//, "") === rel);
    const entry = exact ?? this.entries.find((e) => e.matches.test(rel));
    return (entry?.checkpoints ?? []).map((spec) => {
      const { path: file, prefix } = parseWeightSpec(spec);
      return { path: resolve(this.root, file), ...(prefix ? { prefix } : {}) };
    });
  }

  /** Every checkpoint the setting names, resolved (the files to watch). */
  checkpointFiles(): string[] {
    return this.entries.flatMap((e) => e.checkpoints.map((spec) => resolve(this.root, parseWeightSpec(spec).path)));
  }

  /** The setting's problems, as diagnostics at `span` (the model's line). */
  diagnostics(span: Span): Diagnostic[] {
    return this.problems.map((p) => makeDiagnostic(CliCodes.LspBadWeightsSetting, p, span));
  }
}

/** A checkpoint's listing, or why it cannot be read, with the files it was read from and their (size, mtime). */
interface Listing {
  files: string[];
  stamp: string;
  checkpoint?: Checkpoint;
  error?: DiagnosticError;
}

/** The files' sizes and modification times, as one string: another string means one of them changed. */
function stampOf(files: readonly string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${s.size}:${s.mtimeMs}`;
      } catch {
        return "absent";
      }
    })
    .join(" ");
}

export class CheckpointCache {
  private readonly listings = new Map<string, Listing>();
  /** How many times a checkpoint's structure was read (tests check an edit reads none). */
  reads = 0;

  /**
   * The checkpoint at `path` (absolute) with its structure read, the file closed: read again only when the size or
   * mtime of the file, or of a shard its index names, changed. Opened by its absolute path, which the reader's
   * messages name (withWeightDiagnostics shows it as the model's names are): one listing serves every folder.
   */
  open(path: string): Checkpoint | DiagnosticError {
    const known = this.listings.get(path);
    if (known && stampOf(known.files) === known.stamp) return known.checkpoint ?? known.error!;
    this.reads++;
    const stamp = stampOf([path]);
    let listing: Listing;
    try {
      const checkpoint = openCheckpoint(path);
      checkpoint.close();
      const shards = checkpoint.shards.map((s) => resolve(dirname(path), s.name));
      listing = { files: [path, ...shards], stamp: `${stamp} ${stampOf(shards)}`.trim(), checkpoint };
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
      listing = { files: [path], stamp, error: e };
    }
    this.listings.set(path, listing);
    return listing.checkpoint ?? listing.error!;
  }

  /** The files a checkpoint was read from (a sharded one's index and shards); the path alone before it is read. */
  filesOf(path: string): string[] {
    return this.listings.get(path)?.files ?? [path];
  }

  /**
   * Forgets the listings read from any of the `changed` files (the client's watcher saw them change: a rewrite in
   * the same millisecond with the same size is not missed), so the next analysis reads them again. Returns the
   * checkpoints that may now read differently: the changed files themselves and the checkpoints forgotten.
   */
  forget(changed: readonly string[]): Set<string> {
    const files = new Set(changed);
    const affected = new Set(changed);
    for (const [path, listing] of this.listings)
      if (listing.files.some((f) => files.has(f))) {
        this.listings.delete(path);
        affected.add(path);
      }
    return affected;
  }
}

/**
 * A checkpoint's path as diagnostics show it: relative to the folder the model's names are relative to (see
 * WorkspaceFolders.namesBaseFor), as the model's imports are named; absolute only where no relative path leads
 * there (another drive).
 */
function displayed(path: string, namesBase: string): string {
  const rel = relative(namesBase, path);
  return rel !== "" && !isAbsolute(rel) ? rel : path;
}

/**
 * A diagnostic about checkpoints with each of `files` (absolute: the reader names a file by the path it opened)
 * named as the model's names are (see displayed); the longest first, so that an index's path does not cut a shard's.
 */
function named(d: Diagnostic, files: readonly string[], namesBase: string): Diagnostic {
  const ordered = [...new Set(files)].sort((a, b) => b.length - a.length);
  const rename = (text: string) => ordered.reduce((t, f) => t.split(f).join(displayed(f, namesBase)), text);
  return {
    ...d,
    message: rename(d.message),
    ...(d.hint === undefined ? {} : { hint: rename(d.hint) }),
    related: d.related.map((r) => ({ ...r, message: rename(r.message) })),
  };
}

/** A checkpoint the setting names but that cannot be read: one warning at the model's line. */
export function unreadableCheckpoint(path: string, error: DiagnosticError, span: Span, namesBase: string): Diagnostic {
  const [first] = error.diagnostics;
  const why = first ? `${first.code}: ${first.message}` : error.message;
  return makeDiagnostic(
    CliCodes.LspCheckpointUnreadable,
    `the checkpoint ${displayed(path, namesBase)} (netc.weights) cannot be read, so the weights are not checked: ` +
      why,
    span,
    first?.hint ? { hint: first.hint } : {},
  );
}

/**
 * An analysis's diagnostics with its model's weights checked against the checkpoints the setting pairs with the
 * document at `path`: the weight report (unused weights become its business, as with --weights), the values the
 * checkpoints give to parameters without one, and the setting's problems.
 */
export function withWeightDiagnostics(
  a: Analysis,
  path: string,
  setting: WeightsSetting,
  cache: CheckpointCache,
): Diagnostic[] {
  const model = a.program?.entry.items.find((i): i is A.ModelDecl => i.kind === "Model");
  if (!model) return a.diagnostics;
  const problems = setting.diagnostics(model.name.span);
  const files = setting.checkpointsFor(path);
  if (files.length === 0) return [...a.diagnostics, ...problems];
  const checkpoints: (WeightFileSpec & { checkpoint: Checkpoint })[] = [];
  const unreadable: Diagnostic[] = [];
  for (const f of files) {
    const opened = cache.open(f.path);
    if (opened instanceof DiagnosticError)
      unreadable.push(unreadableCheckpoint(f.path, opened, model.name.span, a.namesBase));
    else checkpoints.push({ ...f, checkpoint: opened });
  }
  const shown = (ds: Diagnostic[]) =>
    ds.map((d) =>
      named(
        d,
        files.flatMap((f) => cache.filesOf(f.path)),
        a.namesBase,
      ),
    );
  if (unreadable.length > 0 || (!a.graph && !a.symbolicWeights))
    return [...a.diagnostics, ...problems, ...shown(unreadable)];
  const checked = checkWeights({
    model,
    sources: a.sources,
    graph: a.graph,
    symbolicWeights: a.symbolicWeights,
    rules: a.weightRules,
    checkpoints,
  });
  const front = withDimensionHints(a.diagnostics, model, a.sources, checked.dimensions);
  return [
    ...front.filter((d) => d.code !== CheckCodes.UnusedParameter.code),
    ...problems,
    ...shown(checked.diagnostics),
  ];
}
