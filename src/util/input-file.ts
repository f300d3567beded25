// Every file netc opens by name is read through here: it must be a regular file of bounded size. FIFOs, devices,
// sockets and folders are refused from a stat before any open (an open of a FIFO blocks); the open itself is
// non-blocking; and a file that yields more bytes than its size (a /proc file reports size 0) is refused too.
import fs from "node:fs";
import { CliCodes, type CodeInfo, makeDiagnostic } from "../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError } from "../diagnostics/diagnostics.js";

/** Largest .net source netc reads. */
export const MAX_SOURCE_BYTES = 16 << 20;
/** Largest .npy or .onnx file netc reads into memory (Node's Buffer limit is close above). */
export const MAX_BINARY_BYTES = 2 ** 31 - 1;

/** Why `path` cannot be read as a regular file, from its stat; undefined when it can. */
export function refusal(st: fs.Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return "it is a folder, not a regular file";
  if (st.isFIFO()) return "it is a FIFO (named pipe), not a regular file";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "it is a device, not a regular file";
  if (st.isSocket()) return "it is a socket, not a regular file";
  return "it is not a regular file";
}

export class InputFileError extends Error {
  constructor(
    readonly info: CodeInfo,
    message: string,
  ) {
    super(message);
  }

  get diagnostic(): Diagnostic {
    return makeDiagnostic(this.info, this.message);
  }

  toDiagnosticError(): DiagnosticError {
    return new DiagnosticError([this.diagnostic]);
  }
}

/** Stats `path` (following links) and checks it is a regular file of at most `maxBytes`; returns its size. */
export function checkRegularFile(path: string, maxBytes: number): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "no such file"
        : code === "ENOTDIR"
          ? "a part of the path is not a folder"
          : code === "EACCES"
            ? "permission denied"
            : (code ?? (e as Error).message);
    throw new InputFileError(CliCodes.FileNotFound, `cannot read ${path}: ${reason}`);
  }
  const why = refusal(st);
  if (why)
    throw new InputFileError(
      st.isDirectory() ? CliCodes.FileNotFound : CliCodes.NotRegularFile,
      `cannot read ${path}: ${why}`,
    );
  if (st.size > maxBytes)
    throw new InputFileError(
      CliCodes.NotRegularFile,
      `cannot read ${path}: it has ${st.size} bytes, more than the ${maxBytes} netc reads`,
    );
  return st.size;
}

/** Opens `path` for reading without blocking (O_NONBLOCK) after checkRegularFile; re-checks the opened file. */
export function openRegularFile(path: string, maxBytes: number): { fd: number; size: number } {
  checkRegularFile(path, maxBytes);
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw new InputFileError(
      CliCodes.FileNotFound,
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const st = fs.fstatSync(fd);
  const why =
    refusal(st) ?? (st.size > maxBytes ? `it has ${st.size} bytes, more than the ${maxBytes} netc reads` : undefined);
  if (why) {
    fs.closeSync(fd);
    throw new InputFileError(CliCodes.NotRegularFile, `cannot read ${path}: ${why}`);
  }
  return { fd, size: st.size };
}

/** The whole of a regular file of at most `maxBytes`; throws InputFileError otherwise. */
export function readRegularFile(path: string, maxBytes: number): Buffer {
  const { fd, size } = openRegularFile(path, maxBytes);
  try {
    const out = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const n = fs.readSync(fd, out, done, Math.min(1 << 30, size - done), done);
      if (n === 0)
        throw new InputFileError(CliCodes.NotRegularFile, `cannot read ${path}: the file shrank while it was read`);
      done += n;
    }
    // /proc and similar files report a size of 0 (or a stale one) yet produce bytes: not a file netc reads.
    if (fs.readSync(fd, Buffer.alloc(1), 0, 1, size) !== 0)
      throw new InputFileError(
        CliCodes.NotRegularFile,
        `cannot read ${path}: it yields more bytes than its size (a /proc or other special file), not a regular file`,
      );
    return out;
  } catch (e) {
    if (e instanceof InputFileError) throw e;
    throw new InputFileError(
      CliCodes.FileNotFound,
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether `bytes` are text a source can be: valid UTF-8 without NUL bytes (a leading BOM is allowed). */
export function isTextSource(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** A .net source's text: a regular file of at most MAX_SOURCE_BYTES holding UTF-8 text. */
export function readSourceFile(path: string): string {
  const bytes = readRegularFile(path, MAX_SOURCE_BYTES);
  if (!isTextSource(bytes))
    throw new InputFileError(CliCodes.NotText, `cannot read ${path}: it is not UTF-8 text (a binary file?)`);
  return bytes.toString("utf8");
}
