// Writes a model (and its external data) atomically and without holding its weights: the model is encoded straight
// into a temporary file a window at a time, each initializer read (from its checkpoint) or drawn only when the encoder
// reaches it, and the temporary files are renamed into place only when all writes succeeded, so a failure (a
// checkpoint cut short mid-way, a full disk) never leaves half a model behind.
import { writeSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { CliCodes, makeDiagnostic } from "../../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError, hasErrors } from "../../diagnostics/diagnostics.js";
import type { Graph } from "../../compiler/ir/ir.js";
import { checkFileOutput, type FileOutput, writeFilesAtomic } from "../../util/output.js";
import { buildOnnxModel, type EmitOnnxOptions, tooLargeForOneFile } from "./emit.js";
import {
  bytesOfChunk,
  DEFAULT_EXTERNAL_THRESHOLD,
  type ExternalData,
  inlineBytes,
  MAX_INLINE_BYTES,
  moveToExternal,
} from "./external.js";
import { encodedModelSize, encodeModelTo, type TensorBytes, type TensorProto } from "./proto.js";
import { type ReadAhead, readAhead, type ReadAheadOptions } from "../../util/read-ahead.js";
import type { LazyTensor } from "../../util/lazy-tensor.js";

/** Node cannot write 2 GiB or more in one call; large buffers go out in slices. */
const WRITE_SLICE = 1 << 30;
/** The largest message protobuf parsers accept. */
const MAX_PROTOBUF_BYTES = 2 ** 31 - 1;

export interface WriteOnnxOptions extends EmitOnnxOptions {
  /** Bytes per write call (tests lower it to exercise slicing). */
  writeSlice?: number;
  /** Files the compile read: neither the model nor its data file may be written over one. */
  inputs?: readonly string[];
  /**
   * Keep every weight inside the model file (`--single-file`): a model too large for one protobuf is then an error
   * instead of getting a side file.
   */
  singleFile?: boolean;
  /** Told the bytes written so far of both files together, as they go out. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** The threads making weights ahead of the writer (see util/read-ahead.ts). */
  readAhead?: ReadAheadOptions;
}

/**
 * Hands the weights that go out, in the order the files are written (the side file's chunks, then the model's
 * inline initializers), to a read-ahead pool: each lazy tensor value is replaced by the pool's.
 */
function readWeightsAhead(
  initializers: readonly TensorProto[],
  external: ExternalData | undefined,
  options: ReadAheadOptions | undefined,
): ReadAhead {
  const tensors: LazyTensor[] = [];
  let ahead: ReadAhead | undefined;
  const fromPool = (bytes: Uint8Array | TensorBytes): Uint8Array | TensorBytes => {
    if (bytes instanceof Uint8Array || !bytes.tensor) return bytes;
    const i = tensors.push(bytes.tensor) - 1;
    return { byteLength: bytes.byteLength, bytes: () => ahead!.bytes(i) };
  };
  for (const c of external?.chunks ?? []) c.bytes = fromPool(c.bytes);
  for (const t of initializers) if (t.rawData) t.rawData = fromPool(t.rawData);
  ahead = readAhead(tensors, options);
  return ahead;
}

/** Writes at the file's current end, counting what went out. */
class FileSink {
  private position = 0;

  constructor(
    private readonly fd: number,
    private readonly slice: number,
    private readonly written: (n: number) => void,
  ) {}

  at(position: number): this {
    this.position = position;
    return this;
  }

  write = (bytes: Uint8Array): void => {
    for (let done = 0; done < bytes.byteLength; ) {
      const n = writeSync(this.fd, bytes, done, Math.min(this.slice, bytes.byteLength - done), this.position);
      done += n;
      this.position += n;
      this.written(n);
    }
  };
}

function writeExternal(sink: FileSink, ext: ExternalData): void {
  for (const c of ext.chunks) {
    const bytes = bytesOfChunk(c);
    if (bytes.byteLength !== c.bytes.byteLength)
      throw new Error(
        `an external tensor was announced as ${c.bytes.byteLength} bytes but came as ${bytes.byteLength}`,
      );
    sink.at(c.offset).write(bytes); // gaps between chunks read back as zeros
  }
}

/**
 * Emits `graph` and writes it to `path`. Weights go to a side file when `externalDataPath` is given (relative to
 * the model's folder, which it must stay inside) or when they would not fit in one protobuf (then `<model>.data`,
 * unless `singleFile`).
 */
export function writeOnnx(path: string, graph: Graph, opts: WriteOnnxOptions = {}): Diagnostic[] {
  const fail = (msg: string) => [makeDiagnostic(CliCodes.WriteFailed, msg)];
  const modelDir = dirname(resolve(path));
  const built = buildOnnxModel(graph, opts);
  const { model, diagnostics } = built;
  if (!model || hasErrors(diagnostics)) return diagnostics;
  const initializers = model.graph!.initializer!;
  const weightBytes = inlineBytes(initializers);
  const sidePath =
    opts.externalDataPath ??
    (weightBytes > MAX_INLINE_BYTES && !opts.singleFile ? `${basename(path)}.data` : undefined);
  let external: ExternalData | undefined;
  if (sidePath !== undefined) {
    const location = relative(modelDir, resolve(modelDir, sidePath)).split("\\").join("/");
    if (location.startsWith("..") || isAbsolute(location) || location === "")
      return fail(`the external data file ${sidePath} must be inside the model's folder ${modelDir}`);
    external = moveToExternal(initializers, location, opts.externalThreshold ?? DEFAULT_EXTERNAL_THRESHOLD);
  }
  const modelBytes = encodedModelSize(model);
  if (modelBytes > MAX_PROTOBUF_BYTES) {
    const gib = (modelBytes / 2 ** 30).toFixed(2);
    return [
      ...diagnostics,
      opts.singleFile
        ? makeDiagnostic(
            CliCodes.SingleFileTooLarge,
            `${graph.name} as one ONNX file takes ${gib} GiB, more than one protobuf can hold (2 GiB)`,
            graph.span,
          )
        : tooLargeForOneFile(graph, weightBytes, "write the weights to a side file with --external-data"),
    ];
  }

  const slice = opts.writeSlice ?? WRITE_SLICE;
  // The bytes that go out: the model, and the side file's tensors (not the alignment gaps between them).
  const total = (external?.chunks ?? []).reduce((n, c) => n + c.bytes.byteLength, modelBytes);
  let done = 0;
  const written = (n: number) => {
    done += n;
    opts.onProgress?.(done, total);
  };
  const files: FileOutput[] = [];
  if (external) {
    const ext = external;
    files.push({
      target: join(modelDir, ext.location),
      write: (fd) => writeExternal(new FileSink(fd, slice, written), ext),
    });
  }
  files.push({ target: path, write: (fd) => encodeModelTo(model, new FileSink(fd, slice, written).write) });
  try {
    for (const f of files)
      checkFileOutput(f.target, opts.inputs ?? [], f.target === path ? "the ONNX model" : "the ONNX model's data file");
    const ahead = readWeightsAhead(initializers, external, opts.readAhead);
    try {
      writeFilesAtomic(files);
    } finally {
      ahead.close();
    }
    const { unavailable } = ahead.report();
    if (unavailable)
      return [
        ...diagnostics,
        makeDiagnostic(CliCodes.ReadAheadUnavailable, `${unavailable}: the weights were made on the writer's thread`),
      ];
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    return [...diagnostics, ...e.diagnostics];
  }
  return diagnostics;
}
