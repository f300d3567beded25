// Writes a model (and its external data) atomically: everything goes to temporary files beside the targets,
// which are renamed into place only when all writes succeeded, so a failure never leaves half a model behind.
import { writeSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { CliCodes, makeDiagnostic } from "../../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError, hasErrors } from "../../diagnostics/diagnostics.js";
import type { Graph } from "../../compiler/ir/ir.js";
import { checkFileOutput, type FileOutput, writeFilesAtomic } from "../../util/output.js";
import { emitOnnx, type EmitOnnxOptions } from "./emit.js";
import { estimateWeightBytes, type ExternalData, MAX_INLINE_BYTES } from "./external.js";

/** Node cannot write 2 GiB or more in one call; large buffers go out in slices. */
const WRITE_SLICE = 1 << 30;

export interface WriteOnnxOptions extends EmitOnnxOptions {
  /** Bytes per write call (tests lower it to exercise slicing). */
  writeSlice?: number;
  /** Files the compile read: neither the model nor its data file may be written over one. */
  inputs?: readonly string[];
}

function writeAll(fd: number, bytes: Uint8Array, position: number, slice: number): void {
  for (let done = 0; done < bytes.byteLength; ) {
    const n = writeSync(fd, bytes, done, Math.min(slice, bytes.byteLength - done), position + done);
    done += n;
  }
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
  const sidePath =
    opts.externalDataPath ?? (estimateWeightBytes(graph) > MAX_INLINE_BYTES ? `${basename(path)}.data` : undefined);
  let location: string | undefined;
  if (sidePath !== undefined) {
    location = relative(modelDir, resolve(modelDir, sidePath)).split("\\").join("/");
    if (location.startsWith("..") || isAbsolute(location) || location === "")
      return fail(`the external data file ${sidePath} must be inside the model's folder ${modelDir}`);
  }
  const emitted = emitOnnx(graph, { ...opts, externalDataPath: location });
  if (hasErrors(emitted.diagnostics) || !emitted.bytes) return emitted.diagnostics;
  const slice = opts.writeSlice ?? WRITE_SLICE;
  const files: FileOutput[] = [];
  if (emitted.external && location !== undefined)
    files.push({ target: join(modelDir, location), write: (fd) => writeExternal(fd, emitted.external!, slice) });
  files.push({ target: path, write: (fd) => writeAll(fd, emitted.bytes!, 0, slice) });
  try {
    for (const f of files)
      checkFileOutput(f.target, opts.inputs ?? [], f.target === path ? "the ONNX model" : "the ONNX model's data file");
    writeFilesAtomic(files);
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    return [...emitted.diagnostics, ...e.diagnostics];
  }
  return emitted.diagnostics;
}
