// A bundle that runs any batch from 1 to a maximum: the model compiled once per batch size (each variant is
// exactly the static bundle of that batch), merged into one bundle that shares the weights and the buffers.
// Every buffer is sized for the largest variant that uses it, so the memory plan is the maximum batch's.
// Kernels whose WGSL does not depend on the batch share one shader file across variants.
import { makeDiagnostic } from "../../diagnostics/codes.js";
import type { Diagnostic } from "../../diagnostics/diagnostics.js";
import { dimSymbols } from "../../compiler/ir/dim.js";
import type { Graph } from "../../compiler/ir/ir.js";
import { liveNodes } from "../../compiler/ir/liveness.js";
import type { BatchVariant, KernelEntry } from "../../runtime/manifest.js";
import type { HostTensor } from "../../util/tensor.js";
import { WgslCodes } from "../../diagnostics/wgsl-codes.js";
import {
  type CompileWgslOptions,
  type CompileWgslResult,
  compileWgsl,
  DEFAULT_LIMITS,
  type WgslProgram,
} from "./compile.js";

/** The default largest batch a bundle with a symbolic batch axis runs. */
export const DEFAULT_MAX_BATCH = 8;
/** More variants than this would make bundles (and compiles) too large to be useful. */
export const MAX_MAX_BATCH = 64;

/**
 * The symbol a bundle may leave to run time: the one symbol left in the live graph, when it is the first axis of
 * a model input (so the runtime reads the batch off the inputs it is given). Undefined when there is none to leave
 * (every shape static, or symbols that compileWgsl reports as NET7001).
 */
export function runtimeBatchSymbol(graph: Graph): string | undefined {
  const symbols = new Set<string>();
  for (const n of liveNodes(graph.outputs))
    for (const v of n.outputs) for (const d of v.shape) for (const s of dimSymbols(d)) symbols.add(s);
  if (symbols.size !== 1) return undefined;
  const [symbol] = symbols;
  const leading = graph.inputs.some(
    (i) =>
      i.value.shape.length > 0 &&
      typeof i.value.shape[0] !== "number" &&
      dimSymbols(i.value.shape[0]).join() === symbol,
  );
  return leading ? symbol : undefined;
}

/** Checks a --max-batch value; a diagnostic when out of range. */
export function maxBatchProblem(max: number): Diagnostic | undefined {
  if (Number.isSafeInteger(max) && max >= 1 && max <= MAX_MAX_BATCH) return undefined;
  return makeDiagnostic(
    WgslCodes.BadMaxBatch,
    `--max-batch is ${max}; expected a whole number from 1 to ${MAX_MAX_BATCH}`,
  );
}

function sameTensor(a: HostTensor, b: HostTensor): boolean {
  const [x, y] = [a, b].map((t) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  if (a.dtype !== b.dtype || x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function conflict(message: string): CompileWgslResult {
  return { diagnostics: [makeDiagnostic(WgslCodes.BatchVariantsDiffer, message)] };
}

/**
 * Compiles `graphOf(b)` for b = 1..max (each graph the model with the batch symbol bound to b) and merges the
 * programs: the largest batch's kernels and slots stay at the top of the manifest, the others go to
 * `manifest.batch.variants`.
 */
export function compileWgslBatched(
  symbol: string,
  max: number,
  graphOf: (batch: number) => Graph,
  opts: CompileWgslOptions = {},
): CompileWgslResult {
  const bad = maxBatchProblem(max);
  if (bad) return { diagnostics: [bad] };
  const programs: WgslProgram[] = [];
  const diagnostics: Diagnostic[] = [];
  for (let b = max; b >= 1; b--) {
    const r = compileWgsl(graphOf(b), opts);
    // The largest batch's diagnostics stand for all: the smaller ones repeat them.
    if (b === max) diagnostics.push(...r.diagnostics);
    if (!r.program)
      return {
        diagnostics:
          b === max ? r.diagnostics : r.diagnostics.map((d) => ({ ...d, message: `at ${symbol}=${b}: ${d.message}` })),
      };
    programs.push(r.program);
  }
  const [top, ...rest] = programs;
  const buffers = top.manifest.buffers.map((b) => ({ ...b }));
  for (const p of rest) {
    p.manifest.buffers.forEach((entry, id) => {
      const have = buffers[id];
      if (!have) buffers.push({ ...entry });
      else if (have.weight !== entry.weight)
        return void diagnostics.push(
          makeDiagnostic(
            WgslCodes.BatchVariantsDiffer,
            `buffer ${id} holds ${have.weight ?? "activations"} at the largest batch and ` +
              `${entry.weight ?? "activations"} at a smaller one`,
          ),
        );
      else have.size = Math.max(have.size, entry.size);
    });
    if (p.manifest.outputs.map((o) => o.name).join() !== top.manifest.outputs.map((o) => o.name).join())
      return conflict("the outputs differ between batch sizes");
    // The bundle has one weights file: a constant whose values depend on the batch cannot share it.
    for (const [name, t] of p.weights) {
      const have = top.weights.get(name);
      if (!have || !sameTensor(have, t))
        return conflict(
          `the weight buffer ${name} holds different values at ${symbol}=${p.manifest.inputs[0]?.shape[0]} than ` +
            `at ${symbol}=${max}`,
        );
    }
  }
  if (diagnostics.some((d) => d.severity === "error")) return { diagnostics };
  // One file per distinct shader: the largest batch's names, then new code under the batch that first needs it.
  const fileOf = new Map<string, string>([...top.shaders].map(([file, code]) => [code, file]));
  const shaders = new Map(top.shaders);
  const variants: BatchVariant[] = rest.map((p, i) => {
    const batch = max - 1 - i;
    const kernels: KernelEntry[] = p.manifest.kernels.map((k) => {
      const code = p.shaders.get(k.shader)!;
      let file = fileOf.get(code);
      if (file === undefined) {
        file = k.shader.replace(/^kernels\//, `kernels/b${batch}_`);
        fileOf.set(code, file);
        shaders.set(file, code);
      }
      return { ...k, shader: file };
    });
    return { batch, kernels, inputs: p.manifest.inputs, outputs: p.manifest.outputs };
  });
  const limits: Record<string, number> = { ...top.manifest.requiredLimits };
  for (const p of rest)
    for (const [name, v] of Object.entries(p.manifest.requiredLimits)) limits[name] = Math.max(limits[name] ?? 0, v);
  limits.maxBufferSize = Math.max(DEFAULT_LIMITS.maxBufferSize, ...buffers.map((b) => b.size));
  const totalBytes = buffers.reduce((s, b) => s + b.size, 0);
  if (opts.maxTotalBytes !== undefined && totalBytes > opts.maxTotalBytes)
    return {
      diagnostics: [
        makeDiagnostic(
          WgslCodes.DoesNotFit,
          `the buffers for batches up to ${max} need ${totalBytes} bytes, more than ${opts.maxTotalBytes}`,
        ),
      ],
    };
  variants.reverse();
  return {
    program: {
      manifest: { ...top.manifest, requiredLimits: limits, buffers, batch: { symbol, max, variants } },
      shaders,
      weights: top.weights,
      totalBytes,
    },
    diagnostics,
  };
}
