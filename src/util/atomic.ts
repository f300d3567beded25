// Output files appear whole or not at all: written to a temporary file beside the target, renamed at the end.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { CliCodes, makeDiagnostic } from "../diagnostics/codes.js";
import { DiagnosticError } from "../diagnostics/diagnostics.js";

/** fs.writeSync moves at most 2^31-1 bytes per call. */
const MAX_WRITE = 1 << 30;

/**
 * Runs `write` on a fresh temporary file in the target's directory and renames it onto `target` once it succeeds.
 * On any failure the temporary file is removed and the target is left as it was.
 */
export function writeFileAtomic(target: string, write: (fd: number) => void): void {
  const temp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`,
  );
  let fd: number | undefined;
  try {
    fd = fs.openSync(temp, "wx", 0o644);
    write(fd);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temp, target);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    if (e instanceof DiagnosticError) throw e;
    throw new DiagnosticError([
      makeDiagnostic(CliCodes.WriteFailed, `cannot write ${target}: ${writeFailureReason(e, target)}`),
    ]);
  }
}

/** Why writing `target` failed, in words and without the temporary file's name that Node's message carries. */
export function writeFailureReason(e: unknown, target: string): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return `the folder ${path.dirname(target)} does not exist`;
    case "ENOTDIR":
      return `${path.dirname(target)} is not a folder`;
    case "EACCES":
    case "EPERM":
      return `permission denied in ${path.dirname(target)}`;
    case "ENOSPC":
      return "the disk is full";
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

export function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.byteLength; ) {
    done += fs.writeSync(fd, bytes, done, Math.min(MAX_WRITE, bytes.byteLength - done));
  }
}
