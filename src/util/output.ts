// Every file or folder netc writes goes through here. The rules, in the order they are checked:
//   1. an output is never one of the command's inputs, nor a folder holding one, nor the working folder or above it;
//   2. netc replaces only what it wrote itself: a regular file, or a bundle folder recognised by its manifest;
//   3. everything is written to a temporary sibling and renamed into place once complete, so a failure leaves the
//      old output (or nothing) behind, never half a new one.
// Violations are diagnostics (NET8008, NET8009) raised before anything is written.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { CliCodes, makeDiagnostic } from "../diagnostics/codes.js";
import { DiagnosticError } from "../diagnostics/diagnostics.js";
import { STDLIB_PREFIX, stdlibDir } from "./source-paths.js";
import { writeAll, writeFailureReason } from "./atomic.js";

export { writeAll };

/** The entries a netc WGSL bundle folder has (older bundles' too); a folder with anything else is not replaced. */
const BUNDLE_ENTRIES = new Set([
  "manifest.json",
  "kernels",
  "weights.safetensors",
  "model.js",
  "model.d.ts",
  "model.onnx",
]);
/** The content-named files of a bundle: weight shards, the shader file, the ONNX fallback. */
const CONTENT_NAMED = /^(weights-[0-9a-f]{16}\.bin|shaders-[0-9a-f]{16}\.wgsl|model-[0-9a-f]{16}\.onnx)$/;
const MAX_MANIFEST_BYTES = 64 << 20;

const fail = (info: typeof CliCodes.OutputIsInput, message: string, hint?: string): never => {
  throw new DiagnosticError([makeDiagnostic(info, message, undefined, hint ? { hint } : {})]);
};

function lstat(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

/** The real path of `p`, or of its nearest existing ancestor joined with the rest. */
function realish(p: string): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(realish(parent), path.basename(abs));
  }
}

/** An input as messages name it: a file of the standard library as `std/...`, never by its machine path. */
function shownInput(input: string, realInput: string): string {
  const std = realish(stdlibDir());
  return inside(realInput, std) && realInput !== std
    ? STDLIB_PREFIX + path.relative(std, realInput).split(path.sep).join("/")
    : input;
}

const inside = (child: string, parent: string) =>
  child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

/** A sibling name for a temporary copy of `target` that no other writer picks. */
export function temporarySibling(target: string): string {
  // A name may take up to 255 bytes; the temporary one adds about 25, so a long name is cut (it is renamed anyway).
  let base = path.basename(target) || "out";
  while (Buffer.byteLength(base) > 200) base = base.slice(0, -1);
  return path.join(path.dirname(target), `.${base}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

/**
 * Refuses an output `target` that is empty, is or holds one of `inputs`, is the working folder or one above it, or
 * whose folder is not a folder. `what` names the output in messages ("the ONNX model", "the bundle").
 */
export function checkOutputPlace(
  target: string,
  inputs: readonly string[],
  what: string,
  into: "replace" | "add-files" = "replace",
): void {
  if (target.trim() === "") fail(CliCodes.OutputNotReplaceable, `${what}: the output path is empty`);
  const real = realish(target);
  const cwd = realish(process.cwd());
  if (inside(cwd, real))
    fail(
      CliCodes.OutputNotReplaceable,
      `${what} cannot be written to ${target}: it is the working folder or a folder above it`,
      "name a new folder or file for the output",
    );
  for (const input of inputs) {
    // A folder that files are added to may hold inputs; each added file is checked on its own.
    const realInput = realish(input);
    if (into === "replace" ? inside(realInput, real) : realInput === real)
      fail(
        CliCodes.OutputIsInput,
        `${what} would be written over the input ` +
          `${shownInput(input, realInput)}${input === target ? "" : ` (the output is ${target})`}`,
        "write the output to another path",
      );
  }
  const parent = path.dirname(real);
  const parentStat = lstat(parent);
  if (!parentStat)
    fail(CliCodes.WriteFailed, `cannot write ${target}: the folder ${path.dirname(target)} does not exist`);
  if (!parentStat!.isDirectory())
    fail(CliCodes.WriteFailed, `cannot write ${target}: ${path.dirname(target)} is not a folder`);
}

/** checkOutputPlace for a single file: an existing target must be a regular file (or a link, which is replaced). */
export function checkFileOutput(target: string, inputs: readonly string[], what: string): void {
  checkOutputPlace(target, inputs, what);
  const st = lstat(target);
  if (st && !st.isFile() && !st.isSymbolicLink())
    fail(
      CliCodes.OutputNotReplaceable,
      `${what} cannot replace ${target}: it is ${st.isDirectory() ? "a folder" : "not a regular file"}`,
      "name a new file for the output",
    );
}

/** A file to write: its final path and what to write into its (temporary) descriptor. */
export interface FileOutput {
  target: string;
  write: (fd: number) => void;
}

/**
 * Writes every file to a temporary sibling, then renames them all into place. If any write fails, every temporary
 * file is removed and no target changes.
 */
export function writeFilesAtomic(files: readonly FileOutput[]): void {
  const temps: string[] = [];
  let current = files[0]?.target ?? "";
  try {
    for (const f of files) {
      current = f.target;
      const temp = temporarySibling(f.target);
      const fd = fs.openSync(temp, "wx", 0o644);
      temps.push(temp);
      try {
        f.write(fd);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    files.forEach((f, i) => {
      current = f.target;
      fs.renameSync(temps[i], f.target);
    });
  } catch (e) {
    for (const t of temps) fs.rmSync(t, { force: true });
    if (e instanceof DiagnosticError) throw e;
    fail(CliCodes.WriteFailed, `cannot write ${current}: ${writeFailureReason(e, current)}`);
  }
}

/** Checks the place, then writes one file atomically. */
export function writeFileOutput(
  target: string,
  inputs: readonly string[],
  what: string,
  write: (fd: number) => void,
): void {
  checkFileOutput(target, inputs, what);
  writeFilesAtomic([{ target, write }]);
}

/** Why the existing folder `dir` is not a netc bundle that may be replaced, or undefined when it is one. */
function notABundle(dir: string): string | undefined {
  const manifestPath = path.join(dir, "manifest.json");
  const st = lstat(manifestPath);
  if (!st?.isFile()) return "it has no manifest.json";
  if (st.size > MAX_MANIFEST_BYTES) return "its manifest.json is too large to be a netc manifest";
  let format: unknown;
  try {
    format = (JSON.parse(fs.readFileSync(manifestPath, "utf8")) as { format?: unknown } | null)?.format;
  } catch {
    return "its manifest.json is not JSON";
  }
  if (format !== "netc-wgsl") return "its manifest.json is not a netc WGSL manifest";
  const stranger = fs.readdirSync(dir).find((entry) => !BUNDLE_ENTRIES.has(entry) && !CONTENT_NAMED.test(entry));
  if (stranger !== undefined) return `it holds ${stranger}, which netc did not write`;
  const kernels = path.join(dir, "kernels");
  if (lstat(kernels)?.isDirectory()) {
    const odd = fs
      .readdirSync(kernels)
      .find((entry) => !entry.endsWith(".wgsl") || !lstat(path.join(kernels, entry))?.isFile());
    if (odd !== undefined) return `it holds kernels/${odd}, which netc did not write`;
  }
  return undefined;
}

/**
 * Writes a folder netc owns (a WGSL bundle): `fill` writes it into a temporary sibling, which then replaces
 * `target`. An existing `target` is replaced only when it is a bundle netc wrote (recognised by its manifest and
 * holding nothing else); otherwise a diagnostic, and nothing is touched.
 */
export function writeBundleFolder(
  target: string,
  inputs: readonly string[],
  what: string,
  fill: (dir: string) => void,
): void {
  checkOutputPlace(target, inputs, what);
  const st = lstat(target);
  if (st) {
    if (!st.isDirectory())
      fail(
        CliCodes.OutputNotReplaceable,
        `${what} cannot replace ${target}: it is not a folder`,
        "name a new folder for the bundle",
      );
    const why = notABundle(target);
    if (why)
      fail(
        CliCodes.OutputNotReplaceable,
        `${what} will not replace the folder ${target}: ${why}`,
        "netc replaces only a bundle folder it wrote; name a new folder for the bundle",
      );
  }
  const temp = temporarySibling(target);
  try {
    fill(temp);
  } catch (e) {
    fs.rmSync(temp, { recursive: true, force: true });
    if (e instanceof DiagnosticError) throw e;
    fail(CliCodes.WriteFailed, `cannot write ${target}: ${writeFailureReason(e, target)}`);
  }
  const old = st ? temporarySibling(target) : undefined;
  try {
    if (old) fs.renameSync(target, old);
    fs.renameSync(temp, target);
  } catch (e) {
    if (old && !fs.existsSync(target)) fs.renameSync(old, target);
    fs.rmSync(temp, { recursive: true, force: true });
    fail(CliCodes.WriteFailed, `cannot write ${target}: ${writeFailureReason(e, target)}`);
  }
  if (old) fs.rmSync(old, { recursive: true, force: true });
}

/**
 * Checks the place of a set of output files (before the work that makes them); returns the folder's stat if it exists.
 */
export function checkFileSetPlace(dir: string, inputs: readonly string[], what: string): fs.Stats | undefined {
  checkOutputPlace(dir, inputs, what, "add-files");
  const st = fs.existsSync(dir) ? fs.statSync(dir) : undefined;
  if (st && !st.isDirectory())
    fail(CliCodes.OutputNotReplaceable, `${what}: ${dir} is not a folder`, "name a folder for the output files");
  return st;
}

/**
 * Writes a set of files into the folder `dir` (created when absent): all or none. A new folder is filled as a
 * temporary sibling and renamed into place; in an existing folder each file is written beside its target and the
 * set is renamed into place once every file is complete. Existing files of other names are left alone.
 */
export function writeFileSet(
  dir: string,
  files: readonly { name: string; bytes: Uint8Array }[],
  inputs: readonly string[],
  what: string,
): void {
  const st = checkFileSetPlace(dir, inputs, what);
  if (st) {
    for (const f of files) checkFileOutput(path.join(dir, f.name), inputs, what);
    return writeFilesAtomic(
      files.map((f) => ({ target: path.join(dir, f.name), write: (fd) => writeAll(fd, f.bytes) })),
    );
  }
  const temp = temporarySibling(dir);
  try {
    fs.mkdirSync(temp);
    for (const f of files) fs.writeFileSync(path.join(temp, f.name), f.bytes);
    fs.renameSync(temp, dir);
  } catch (e) {
    fs.rmSync(temp, { recursive: true, force: true });
    if (e instanceof DiagnosticError) throw e;
    fail(CliCodes.WriteFailed, `cannot write ${dir}: ${writeFailureReason(e, dir)}`);
  }
}
