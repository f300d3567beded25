// The clips a command was given: frame folders, video files, a folder of clip folders, or manifests (CSV with a
// header row, or JSON) naming clips with optional labels and folds. DFEW's fold CSVs (video_name,label) read as is.
import { readdirSync, statSync } from "node:fs";
import { basename, dirname, extname, isAbsolute, join } from "node:path";
import { makeDiagnostic } from "../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError } from "../diagnostics/diagnostics.js";
import { InputFileError, readSourceFile } from "../util/input-file.js";
import { DatasetCodes } from "../diagnostics/dataset-codes.js";
import { IMAGE_EXTENSIONS, isVideoFile } from "./frames.js";

export interface ClipEntry {
  /** The name results are keyed by: the path as the manifest or command line gives it. */
  id: string;
  /** The frame folder or video of each model input (one entry feeds every video input). */
  paths: Record<string, string>;
  label?: string;
  /** The manifest it came from (a fold), or the fold column. */
  fold?: string;
}

const PATH_COLUMNS = ["path", "clip", "video_name", "video", "file", "folder"];
const LABEL_COLUMNS = ["label", "emotion", "class"];
/** The key of `paths` for a clip that feeds whatever video input the model has. */
export const ANY_INPUT = "*";

const bad = (message: string): never => {
  throw new DiagnosticError([makeDiagnostic(DatasetCodes.BadManifest, message)]);
};

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. */
export function parseCsv(text: string, file: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else {
        if (c === "\n") line++;
        field += c;
      }
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") row.push(field), (field = "");
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      if (row.some((f) => f !== "")) rows.push(row);
      [row, field] = [[], ""];
      line++;
    } else field += c;
  }
  if (quoted) bad(`${file}:${line}: a quoted field is not closed`);
  row.push(field);
  if (row.some((f) => f !== "")) rows.push(row);
  return rows;
}

function resolvePath(path: string, root: string): string {
  return isAbsolute(path) ? path : join(root, path);
}

/** Rows of a CSV manifest as records keyed by the header's lower-cased column names. */
function csvRecords(text: string, file: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text, file);
  if (!header) return bad(`${file} is empty (a header row such as path,label is expected)`);
  const names = header.map((h) => h.trim().toLowerCase());
  return rows.map((r, i) => {
    if (r.length !== names.length) bad(`${file}: row ${i + 2} has ${r.length} fields, the header ${names.length}`);
    return Object.fromEntries(names.map((n, j) => [n, r[j].trim()]));
  });
}

function jsonRecords(text: string, file: string): Record<string, string>[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return bad(`${file} is not JSON: ${(e as Error).message}`);
  }
  const list = Array.isArray(parsed)
    ? parsed
    : typeof parsed === "object" && parsed !== null && Array.isArray((parsed as { clips?: unknown }).clips)
      ? (parsed as { clips: unknown[] }).clips
      : undefined;
  if (!list) return bad(`${file} is neither a JSON list of clips nor an object with a "clips" list`);
  return list.map((item, i) => {
    if (typeof item === "string") return { path: item };
    if (typeof item !== "object" || item === null || Array.isArray(item))
      return bad(`${file}: clip ${i} is neither a path nor an object`);
    return Object.fromEntries(
      Object.entries(item).map(([k, v]) => {
        if (typeof v !== "string" && typeof v !== "number")
          bad(`${file}: clip ${i} field '${k}' is neither a string nor a number`);
        return [k.toLowerCase(), String(v)];
      }),
    );
  });
}

export interface ClipListOptions {
  /** Folder that relative clip paths of manifests are resolved against (default: the manifest's folder). */
  root?: string;
  /** Names of the model's video inputs: manifest columns named so feed that input. */
  inputNames: readonly string[];
}

/** The clips of one manifest file; its name is the fold unless rows give their own. */
function manifestClips(file: string, opts: ClipListOptions): ClipEntry[] {
  let text: string;
  try {
    text = readSourceFile(file);
  } catch (e) {
    if (e instanceof InputFileError) throw new DiagnosticError([e.diagnostic]);
    throw e;
  }
  const records = extname(file).toLowerCase() === ".json" ? jsonRecords(text, file) : csvRecords(text, file);
  const root = opts.root ?? dirname(file);
  // the fold is named by the file (set_1.csv), or by its folder for DFEW-style set_1/test.csv
  const stem = basename(file, extname(file));
  const fold = (stem === "test" || stem === "train") && basename(dirname(file)) ? basename(dirname(file)) : stem;
  return records.map((r, i) => {
    const inputColumns = opts.inputNames.filter((n) => r[n.toLowerCase()]);
    const pathColumn = PATH_COLUMNS.find((c) => r[c]);
    if (!pathColumn && inputColumns.length === 0)
      bad(
        `${file}: clip ${i + 1} has no path (a column named ` +
          `${PATH_COLUMNS.join(", ")}${opts.inputNames.length > 1 ? ` or ${opts.inputNames.join(", ")}` : ""})`,
      );
    const paths: Record<string, string> = pathColumn ? { [ANY_INPUT]: resolvePath(r[pathColumn], root) } : {};
    for (const n of inputColumns) paths[n] = resolvePath(r[n.toLowerCase()], root);
    const label = LABEL_COLUMNS.map((c) => r[c]).find((v) => v !== undefined && v !== "");
    return {
      id: r.id || (pathColumn ? r[pathColumn] : inputColumns.map((n) => r[n.toLowerCase()]).join("+")),
      paths,
      ...(label !== undefined ? { label } : {}),
      fold: r.fold || fold,
    };
  });
}

const isManifest = (path: string) => [".csv", ".json"].includes(extname(path).toLowerCase());

function holdsFrames(dir: string): boolean {
  return readdirSync(dir).some((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase()));
}

/** Every clip the arguments name, in order, each once (a later duplicate id is an error). */
export function listClips(args: readonly string[], opts: ClipListOptions): ClipEntry[] {
  const clips: ClipEntry[] = [];
  for (const arg of args) {
    if (isManifest(arg)) {
      clips.push(...manifestClips(arg, opts));
      continue;
    }
    let stat;
    try {
      stat = statSync(arg);
    } catch {
      // a missing clip is recorded as that clip's error when it is read
      clips.push({ id: arg, paths: { [ANY_INPUT]: arg } });
      continue;
    }
    if (stat.isDirectory() && !holdsFrames(arg)) {
      // a dataset folder: each sub-folder (or video) is a clip
      const names = readdirSync(arg).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
      for (const n of names) {
        const path = join(arg, n);
        if (isVideoFile(n) || statSync(path).isDirectory()) clips.push({ id: path, paths: { [ANY_INPUT]: path } });
      }
    } else clips.push({ id: arg, paths: { [ANY_INPUT]: arg } });
  }
  const seen = new Set<string>();
  const duplicates: Diagnostic[] = [];
  for (const c of clips) {
    const key = `${c.fold ?? ""}\u0000${c.id}`;
    if (seen.has(key))
      duplicates.push(
        makeDiagnostic(DatasetCodes.BadManifest, `the clip ${c.id} is listed twice${c.fold ? ` in ${c.fold}` : ""}`),
      );
    seen.add(key);
  }
  if (duplicates.length) throw new DiagnosticError(duplicates.slice(0, 10));
  return clips;
}
