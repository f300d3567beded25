// Fixture paths and assertions shared by the weight-import tests.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { DiagnosticError, type Diagnostic } from "../../src/diagnostics/diagnostics.js";
import { bytesOf, type HostTensor } from "../../src/util/tensor.js";

/** Checkpoints made by tools/make_checkpoints.py, with the values torch read back from them. */
export const FIXTURES = path.resolve(__dirname, "../fixtures/weights");
/** The shared read-only material beside the repository (../shared). */
export const SHARED = path.resolve(__dirname, "../../../shared");

export const fixture = (name: string): string => path.join(FIXTURES, name);
export const shared = (...parts: string[]): string => path.join(SHARED, ...parts);

/** Why a test that needs ../shared is skipped, or undefined when the file is there. */
export function missingShared(...parts: string[]): string | undefined {
  return fs.existsSync(shared(...parts)) ? undefined : `skipped: ${shared(...parts)} is absent`;
}

export interface TensorRecord {
  dtype: string;
  shape: number[];
  hex: string;
}

export function readJson<T>(name: string): T {
  return JSON.parse(fs.readFileSync(fixture(name), "utf8")) as T;
}

/** The tensors torch read back from a fixture, by dotted key. */
export function expectedTensors(name: string): Record<string, TensorRecord> {
  return readJson<{ tensors: Record<string, TensorRecord> }>(`${name}.expected.json`).tensors;
}

export function hexOf(t: HostTensor): string {
  return Buffer.from(bytesOf(t)).toString("hex");
}

/** Bit-for-bit equality with what torch produced. */
export function expectTensor(t: HostTensor, record: TensorRecord): void {
  expect({ dtype: t.dtype, shape: t.shape, hex: hexOf(t) }).toEqual(record);
}

/**
 * Runs `work` and expects it to fail with exactly one diagnostic of `code`, with a hint, whose message contains
 * every fragment. Anything else that is thrown (a raw RangeError, say) fails the test.
 */
export function expectDiagnostic(work: () => unknown, code: string, ...fragments: string[]): Diagnostic {
  let thrown: unknown;
  try {
    work();
  } catch (e) {
    thrown = e;
  }
  if (!(thrown instanceof DiagnosticError)) {
    throw new Error(`expected a DiagnosticError ${code}, got ${thrown === undefined ? "no error" : String(thrown)}`);
  }
  expect(thrown.diagnostics).toHaveLength(1);
  const [d] = thrown.diagnostics;
  expect(d.code, d.message).toBe(code);
  for (const fragment of fragments) expect(d.message).toContain(fragment);
  expect(d.hint).toBeTruthy();
  return d;
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "netc-weights-"));
}

/** A copy of `src` in `dir` holding only its first `length` bytes. */
export function truncatedCopy(src: string, length: number, dir: string): string {
  const out = path.join(dir, `${path.basename(src)}.cut${length}`);
  fs.writeFileSync(out, fs.readFileSync(src).subarray(0, length));
  return out;
}

/** A copy of `src` in `dir` with `edit` applied to its bytes. */
export function editedCopy(src: string, dir: string, edit: (bytes: Buffer) => void): string {
  const bytes = fs.readFileSync(src);
  edit(bytes);
  const out = path.join(dir, `edited-${path.basename(src)}`);
  fs.writeFileSync(out, bytes);
  return out;
}

/** A tensor's elements as a plain array, for short comparisons. */
export function values(t: HostTensor): (number | bigint)[] {
  return Array.from(t.data as ArrayLike<number | bigint>);
}
