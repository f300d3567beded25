// How source files are named: the standard library as `std/...` (found beside the code), the user's files relative
// to the working folder (or a folder the caller names). Shared by the loader, the driver and everything that writes
// a file name into an output.
import { isAbsolute, join, relative } from "node:path";
import { packageFolder } from "./package-folder.js";

/** The standard library folder shipped with the package (stdlib/ beside src/ or dist/src/). */
export const stdlibDir = (): string => packageFolder("stdlib", "nn.net");

/** The prefix that names the standard library in imports, diagnostics and outputs (`std/nn.net`). */
export const STDLIB_PREFIX = "std/";

/** Whether a source file name (a span's `file`) is one of the standard library's. */
export const isStdlibFile = (file: string): boolean => file.startsWith(STDLIB_PREFIX);

/** The file on disk behind a source file name: `std/...` names are files of the standard library folder. */
export const sourceFilePath = (file: string): string =>
  isStdlibFile(file) ? join(stdlibDir(), file.slice(STDLIB_PREFIX.length)) : file;

/**
 * How a file is named in diagnostics, ONNX doc strings and bundle manifests: as given when relative, else relative
 * to `base` (the working folder; the language server's a document's workspace folder); never an absolute machine
 * path, so that the same model compiled from two clones of a tree gives the same bytes.
 */
export function displayPath(path: string, base: string = process.cwd()): string {
  const shown = isAbsolute(path) ? relative(base, path) || path : path;
  // A folder of the user's that happens to be called std/ must not pass for the standard library.
  return isStdlibFile(shown) ? `./${shown}` : shown;
}
