// Tensors and checks shared by the read-ahead tests and their probe processes.
import type { LazyTensor } from "../../../src/util/lazy-tensor.js";
import { lazyTensor } from "../../../src/util/lazy-tensor.js";
import type { ReadAhead } from "../../../src/util/read-ahead.js";
import { drawNormals, streamSeed } from "../../../src/util/seeded-normals.js";
import { bytesOf } from "../../../src/util/tensor.js";

/** A drawn tensor as bind-params makes it: the reference read, and the recipe the threads follow. */
export function drawn(path: string, n: number, dtype: "f32" | "f64"): LazyTensor {
  const stream = streamSeed(3, path);
  return lazyTensor(
    dtype,
    [n],
    () => {
      const data = dtype === "f32" ? new Float32Array(n) : new Float64Array(n);
      drawNormals(data, stream, 0.02);
      return { dtype, shape: [n], data };
    },
    { kind: "normal", stream, std: 0.02 },
  );
}

export const drawnTensors = (count: number, n: number): LazyTensor[] =>
  Array.from({ length: count }, (_, i) => drawn(`w${i}`, n, "f32"));

/** Whether the pool gives, in order, the bytes of each tensor's own read. */
export const sameBytes = (ahead: ReadAhead, tensors: readonly LazyTensor[]): boolean =>
  tensors.every((t, i) => Buffer.from(ahead.bytes(i)).equals(Buffer.from(bytesOf(t.read()))));

/** Waits (the writer not yet asking) until `done` holds of the pool's report, or the time is up. */
export async function until(ahead: ReadAhead, done: (r: ReturnType<ReadAhead["report"]>) => boolean, ms = 30_000) {
  for (const end = Date.now() + ms; !done(ahead.report()) && Date.now() < end; )
    await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Until the threads have made a piece: else the writer's thread would make them all, and nothing is shown. */
export const untilThreadsMade = (ahead: ReadAhead) => until(ahead, (r) => r.byThreads > 0 || !!r.unavailable);
