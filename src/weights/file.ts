// Bounds-checked random access to a checkpoint file through its descriptor. Checkpoints can exceed 4 GB and
// what Node can hold in one Buffer, so nothing here ever reads a whole file: callers ask for windows.
import fs from "node:fs";
import { DiagnosticError } from "../diagnostics/diagnostics.js";
import { refusal } from "../util/input-file.js";
import { WeightCodes, weightError } from "../diagnostics/weight-codes.js";
import type { PickleInput } from "./pickle.js";

/** fs.readSync moves at most 2^31-1 bytes per call. */
const MAX_READ = 1 << 30;

export class BinaryFile {
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    readonly size: number,
    /** When the file was last modified, as it was opened: a later open compares it to see a changed file. */
    readonly mtimeMs: number,
  ) {}

  static open(path: string): BinaryFile {
    let fd: number;
    try {
      // Stat before open: opening a FIFO blocks until a writer comes. O_NONBLOCK covers a swap in between.
      const why = refusal(fs.statSync(path));
      if (why) throw weightError(WeightCodes.ReadFailed, `cannot open ${path}: ${why}`);
      fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    } catch (e) {
      if (e instanceof DiagnosticError) throw e;
      throw weightError(WeightCodes.ReadFailed, `cannot open ${path}: ${(e as Error).message}`);
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile()) throw weightError(WeightCodes.ReadFailed, `${path} is not a regular file`);
      return new BinaryFile(path, fd, stat.size, stat.mtimeMs);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** Throws a Truncated diagnostic unless [position, position + length) lies inside the file. */
  checkRange(position: number, length: number, what: string): void {
    const valid = Number.isSafeInteger(position) && Number.isSafeInteger(length) && position >= 0 && length >= 0;
    if (!valid || position + length > this.size) {
      throw weightError(
        WeightCodes.Truncated,
        `${this.path}: ${what} (${length} bytes at offset ${position}) lies past the end of the file (${this.size} bytes)`,
      );
    }
  }

  read(position: number, length: number, what: string): Uint8Array {
    this.checkRange(position, length, what);
    const out = new Uint8Array(length);
    this.fill(out, position, what);
    return out;
  }

  /** Fills `target` with the bytes at `position`, in calls of at most MAX_READ bytes. */
  readInto(target: Uint8Array, position: number, what: string): void {
    this.checkRange(position, target.byteLength, what);
    this.fill(target, position, what);
  }

  /** Idempotent, so that cleanup paths may call it freely. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }

  private fill(target: Uint8Array, position: number, what: string): void {
    let done = 0;
    while (done < target.byteLength) {
      let n: number;
      try {
        n = fs.readSync(this.fd, target, done, Math.min(MAX_READ, target.byteLength - done), position + done);
      } catch (e) {
        throw weightError(WeightCodes.ReadFailed, `${this.path}: reading ${what} failed: ${(e as Error).message}`);
      }
      if (n === 0) throw weightError(WeightCodes.Truncated, `${this.path}: the file shrank while ${what} was read`);
      done += n;
    }
  }
}

/** Feeds the unpickler from a file position onwards through a sliding window (legacy checkpoints). */
export class FileInput implements PickleInput {
  private static readonly WINDOW = 1 << 16;
  private window: Uint8Array = new Uint8Array(0);
  private windowStart: number;
  private cursor: number;

  constructor(
    private readonly file: BinaryFile,
    start: number,
    private readonly what: string,
  ) {
    this.windowStart = start;
    this.cursor = start;
  }

  get position(): number {
    return this.cursor;
  }

  take(n: number): Uint8Array {
    const from = this.cursor - this.windowStart;
    if (from + n > this.window.byteLength) {
      const length = Math.max(n, Math.min(FileInput.WINDOW, this.file.size - this.cursor));
      this.window = this.file.read(this.cursor, length, this.what);
      this.windowStart = this.cursor;
      this.cursor += n;
      return this.window.subarray(0, n);
    }
    this.cursor += n;
    return this.window.subarray(from, from + n);
  }
}
