// Writes a model (and its external data) atomically: everything goes to temporary files beside the targets,
// which are renamed into place only when all writes succeeded, so a failure never leaves half a model behind.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { CliCodes, makeDiagnostic } from "../../compiler/codes.js";
import { type Diagnostic, hasErrors } from "../../compiler/diagnostics.js";
import type { Graph } from "../../compiler/ir/ir.js";
import { writeFailureReason } from "../../util/atomic.js";
import { emitOnnx, type EmitOnnxOptions } from "./emit.js";
import { estimateWeightBytes, type ExternalData, MAX_INLINE_BYTES } from "./external.js";

/** Node cannot write 2 GiB or more in one call; large buffers go out in slices. */
const WRITE_SLICE = 1 << 30;

export interface WriteOnnxOptions extends EmitOnnxOptions {
  /** Bytes per write call (tests lower it to exercise slicing). */
  writeSlice?: number;
}

function writeAll(fd: number, bytes: Uint8Array, position: number, slice: number): void {
  for (let done = 0; done < bytes.byteLength; ) {
    const n = writeSync(fd, bytes, done, Math.min(slice, bytes.byteLength - done), position + done);
    done += n;
  }
}

/** Writes a temporary file beside `path` through `write` and returns its name; removes it if anything fails. */
function writeTemp(path: string, write: (fd: number) => void): string {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    write(fd);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  return tmp;
}

function writeExternal(fd: number, ext: ExternalData, slice: number): void {
  for (const c of ext.chunks) writeAll(fd, c.bytes, c.offset, slice); // gaps between chunks read back as zeros
}

/**
 * Emits `graph` and writes it to `path`. Weights go to a side file when `externalDataPath` is given (relative to
 * the model's folder, which it must stay inside) or when they would not fit in one protobuf (then `<model>.data`).
 */
export function writeOnnx(path: string, graph: Graph, opts: WriteOnnxOptions = {}): Diagnostic[] {
  const fail = (msg: string) => [makeDiagnostic(CliCodes.WriteFailed, msg)];
  const modelDir = dirname(resolve(path));
  const sidePath = opts.externalDataPath ?? (estimateWeightBytes(graph) > MAX_INLINE_BYTES ? `${basename(path)}.data` : undefined);
  let location: string | undefined;
  if (sidePath !== undefined) {
    location = relative(modelDir, resolve(modelDir, sidePath)).split("\\").join("/");
    if (location.startsWith("..") || isAbsolute(location) || location === "")
      return fail(`the external data file ${sidePath} must be inside the model's folder ${modelDir}`);
  }
  const emitted = emitOnnx(graph, { ...opts, externalDataPath: location });
  if (hasErrors(emitted.diagnostics) || !emitted.bytes) return emitted.diagnostics;
  const slice = opts.writeSlice ?? WRITE_SLICE;
  const temps: [string, string][] = [];
  try {
    if (emitted.external && location !== undefined) {
      const target = join(modelDir, location);
      temps.push([writeTemp(target, (fd) => writeExternal(fd, emitted.external!, slice)), target]);
    }
    temps.push([writeTemp(path, (fd) => writeAll(fd, emitted.bytes!, 0, slice)), path]);
    for (const [tmp, target] of temps) renameSync(tmp, target);
  } catch (e) {
    for (const [tmp] of temps) rmSync(tmp, { force: true });
    return [...emitted.diagnostics, ...fail(`cannot write ${path}: ${writeFailureReason(e, path)}`)];
  }
  return emitted.diagnostics;
}
