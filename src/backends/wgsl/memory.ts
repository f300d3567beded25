// The buffer plan. Weights and constants get buffers of their own; inputs and kernel results share a pool,
// where a buffer is reused once the last kernel reading its previous value has run. A value larger than one
// storage binding may be (maxStorageBufferBindingSize, often 128 MiB) is split into chunks of separate buffers.
import { makeDiagnostic } from "../../diagnostics/codes.js";
import type { Diagnostic } from "../../diagnostics/diagnostics.js";
import type { Value } from "../../compiler/ir/ir.js";
import { lastUses } from "../../compiler/ir/liveness.js";
import type { ChunkRef, StorageType } from "../../runtime/manifest.js";
import { STORAGE_BYTES, storageTypeOf } from "../../runtime/storage.js";
import { WgslCodes } from "../../diagnostics/wgsl-codes.js";
import { numelOf } from "./codegen/indexing.js";
import type { WgslLimits } from "./limits.js";
import type { KernelPlan } from "./plan.js";
import { type PreparedGraph, shapeOf } from "./prepare.js";

export interface MemoryOptions {
  precision: "f32" | "f16";
  maxBindingBytes: number;
  maxBufferBytes: number;
  /** Refuse plans above this many bytes in all (default: no limit). */
  maxTotalBytes?: number;
}

export interface ValueLayout {
  storage: StorageType;
  chunks: ChunkRef[];
}

export interface PlannedBuffer {
  size: number;
  /** For a weight buffer: the source value and which of its chunks. */
  weight?: { value: Value; chunk: number };
}

export interface MemoryPlan {
  buffers: PlannedBuffer[];
  layouts: Map<Value, ValueLayout>;
  /** Bytes in all buffers. */
  totalBytes: number;
}

export function memoryOptions(limits: WgslLimits, precision: "f32" | "f16", maxTotalBytes?: number): MemoryOptions {
  return {
    precision,
    maxBindingBytes: limits.maxStorageBufferBindingSize,
    maxBufferBytes: limits.maxBufferSize,
    maxTotalBytes,
  };
}

const align4 = (n: number) => Math.max(4, Math.ceil(n / 4) * 4);

/** Elements per chunk: as many as one binding may hold. */
export function chunkElements(v: Value, opts: MemoryOptions): number {
  const bytes = STORAGE_BYTES[storageTypeOf(v.dtype, opts.precision)];
  return Math.floor(Math.min(opts.maxBindingBytes, opts.maxBufferBytes) / bytes / 4) * 4;
}

/** Chunk sizes of a value, in elements. */
export function chunkSizes(v: Value, opts: MemoryOptions): number[] {
  const total = numelOf(shapeOf(v));
  const per = chunkElements(v, opts);
  const sizes: number[] = [];
  for (let at = 0; at < total; at += per) sizes.push(Math.min(per, total - at));
  return sizes.length > 0 ? sizes : [0];
}

interface PoolBuffer {
  id: number;
  /** The last kernel index reading the value it holds now. */
  busyUntil: number;
}

export function planMemory(
  p: PreparedGraph,
  plan: KernelPlan,
  opts: MemoryOptions,
): { memory?: MemoryPlan; diagnostics: Diagnostic[] } {
  const buffers: PlannedBuffer[] = [];
  const layouts = new Map<Value, ValueLayout>();
  const layoutOf = (v: Value, place: (elements: number, bytes: number, chunk: number) => number): void => {
    const storage = storageTypeOf(v.dtype, opts.precision);
    const chunks = chunkSizes(v, opts).map((elements, chunk) => ({
      buffer: place(elements, align4(elements * STORAGE_BYTES[storage]), chunk),
      elements,
    }));
    layouts.set(v, { storage, chunks });
  };

  for (const n of p.nodes)
    if ((n.op === "param" || n.op === "const") && !plan.literals.has(n.outputs[0]))
      layoutOf(n.outputs[0], (_e, size, chunk) => buffers.push({ size, weight: { value: n.outputs[0], chunk } }) - 1);

  // Live ranges in kernel indices: inputs are written before kernel 0, outputs are read after the last.
  const lastUse = lastUses(plan.kernels, (k) => k.reads, p.outputs);
  const defs: [Value, number][] = [
    ...p.graph.inputs.filter((i) => p.order.has(i.value.producer)).map((i): [Value, number] => [i.value, -1]),
    ...plan.kernels.flatMap((k, i) => k.stores.map((v): [Value, number] => [v, i])),
  ];
  const pool: PoolBuffer[] = [];
  for (const [v, def] of defs) {
    const until = Math.max(def, lastUse.get(v) ?? def);
    layoutOf(v, (_e, size) => {
      const free = pool.filter((b) => b.busyUntil < def);
      const fitting = free
        .filter((b) => buffers[b.id].size >= size)
        .sort((a, b) => buffers[a.id].size - buffers[b.id].size);
      const chosen = fitting[0] ?? free.sort((a, b) => buffers[b.id].size - buffers[a.id].size)[0];
      if (chosen) {
        buffers[chosen.id].size = Math.max(buffers[chosen.id].size, size);
        chosen.busyUntil = until;
        return chosen.id;
      }
      pool.push({ id: buffers.length, busyUntil: until });
      return buffers.push({ size }) - 1;
    });
  }
  const totalBytes = buffers.reduce((s, b) => s + b.size, 0);
  if (opts.maxTotalBytes !== undefined && totalBytes > opts.maxTotalBytes) {
    const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;
    const message =
      `${p.graph.name} needs ${gib(totalBytes)} of GPU buffers, more than the ` + `${gib(opts.maxTotalBytes)} allowed`;
    return { diagnostics: [makeDiagnostic(WgslCodes.DoesNotFit, message, p.graph.span)] };
  }
  return { memory: { buffers, layouts, totalBytes }, diagnostics: [] };
}
