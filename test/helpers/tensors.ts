// Reading reference .npy files and comparing tensors, for the model tests.
import { expect } from "vitest";
import { readNpyFile } from "../../src/util/npy.js";
import type { HostTensor } from "../../src/util/tensor.js";

export function npy(path: string): HostTensor {
  const r = readNpyFile(path);
  if (!r.ok) throw new Error(r.diagnostic.message);
  return r.tensor;
}

/** Largest elementwise difference; the shapes must agree. */
export function maxAbsDiff(a: HostTensor, b: HostTensor): number {
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs((a.data[i] as number) - (b.data[i] as number)));
  return m;
}
