// A bundle that runs any batch from 1 to a maximum with one set of kernels. The graph is planned with the batch
// bound to the maximum (so the memory plan is the maximum's); every value's batch must be a multiple of its first
// axis, so that an element's flat index is the same at every batch and only the extents change: bounds checks read
// the batch from a uniform, and the runtime sizes each dispatch from the formula the manifest carries. This file
// checks those conditions; compile.ts generates the kernels at the maximum and at a probe batch and requires the
// same code at both (anything else in a kernel that depended on the batch would differ there).
import { makeDiagnostic } from "../../diagnostics/codes.js";
import type { Diagnostic } from "../../diagnostics/diagnostics.js";
import { dimSymbols, shapeToString } from "../../compiler/ir/dim.js";
import type { Graph, Node, Value } from "../../compiler/ir/ir.js";
import { liveNodes } from "../../compiler/ir/liveness.js";
import { symbolFactor } from "../../compiler/ir/symbols.js";
import type { KernelEntry } from "../../runtime/manifest.js";
import { WgslCodes } from "../../diagnostics/wgsl-codes.js";

/** The default largest batch a bundle with a symbolic batch axis runs. */
export const DEFAULT_MAX_BATCH = 8;
/** The largest --max-batch (as the bundle schema allows); the memory plan grows with it. */
export const MAX_MAX_BATCH = 1024;

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
  const leading = graph.inputs.some((i) => i.value.shape.length > 0 && dimSymbols(i.value.shape[0]).join() === symbol);
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

/** The axis of `v` that is a multiple of the batch `symbol`, if one is (at most one is: see batchAxisProblems). */
export function batchAxisOf(v: Value, symbol: string): number | undefined {
  const axis = v.shape.findIndex((d) => symbolFactor(d)?.[0] === symbol);
  return axis < 0 ? undefined : axis;
}

/**
 * Every live value must hold the batch as a multiple of one axis (one diagnostic per op), and the model's inputs
 * and outputs as a multiple of their first (the runtime passes the leading elements of their buffers).
 */
export function batchAxisProblems(graph: Graph, symbol: string, debugOutputs: boolean): Diagnostic[] {
  const out: Diagnostic[] = [];
  const results = [...graph.outputs, ...(debugOutputs ? graph.taps : [])];
  for (const { name, value, span } of [...graph.inputs, ...results]) {
    const axis = batchAxisOf(value, symbol);
    if (axis !== undefined && axis > 0)
      out.push(
        makeDiagnostic(
          WgslCodes.BatchNotLeading,
          `${name} ${shapeToString(value.shape)} holds the batch ${symbol} on axis ${axis}; a model's inputs ` +
            "and outputs hold a run-time batch on their first axis",
          span,
          { hint: `compile a bundle for one batch size with --set ${symbol}=...` },
        ),
      );
  }
  const reported = new Set<string>();
  for (const n of liveNodes(results))
    for (const v of n.outputs) {
      const holding = v.shape.filter((d) => dimSymbols(d).includes(symbol));
      const fine = holding.length === 0 || (holding.length === 1 && batchAxisOf(v, symbol) !== undefined);
      if (fine || reported.has(n.op)) continue;
      reported.add(n.op);
      out.push(
        makeDiagnostic(
          WgslCodes.BatchNotLeading,
          `a ${n.op} result ${shapeToString(v.shape)} holds the batch ${symbol} other than as a multiple of one axis`,
          n.span,
          { hint: `compile a bundle for one batch size with --set ${symbol}=...` },
        ),
      );
    }
  return out;
}

/**
 * The axes of each input along which an op combines or places elements by position (a contraction, reduction,
 * window, recurrence, concatenation, slice, pad or gather): along a batch, those would see the other items.
 */
function mixedAxes(n: Node): (number | "all-but-0")[][] {
  const rank = (k: number) => n.inputs[k]?.shape.length ?? 0;
  const norm = (axis: number, k = 0) => (axis < 0 ? axis + rank(k) : axis);
  const fromAxis = (first: number, k = 0) => Array.from({ length: rank(k) - first }, (_, j) => first + j);
  switch (n.op) {
    case "matmul":
      return [[rank(0) - 1], [Math.max(0, rank(1) - 2)]];
    case "reduce":
      return [n.attrs.axes.map((a) => norm(a))];
    case "softmax":
    case "argmax":
    case "topk":
      return [[norm(n.attrs.axis)]];
    case "layer_norm":
      return [fromAxis(norm(n.attrs.axis))];
    case "conv":
      return [fromAxis(1)];
    case "max_pool":
    case "avg_pool":
      return [fromAxis(2)];
    case "attention":
      return [[rank(0) - 1], [rank(1) - 2, rank(1) - 1], [rank(2) - 2], [rank(3) - 1]];
    case "lstm":
      return [[0, 2]];
    case "sample_linear":
      return [[norm(n.attrs.axis)]];
    case "resize":
      return [["all-but-0"]];
    case "concat":
      return n.inputs.map((_, k) => [norm(n.attrs.axis, k)]);
    case "slice":
    case "gather":
    case "gather_elements":
      return [[norm(n.attrs.axis)]];
    case "pad":
      return [fromAxis(0).filter((d) => n.attrs.pads[d] !== 0 || n.attrs.pads[d + rank(0)] !== 0)];
    default:
      return [];
  }
}

/**
 * No op may combine elements along the batch axis: the kernels of a value whose batch is not its first axis run
 * at the largest batch (see compile.ts), and the items beyond the batch given hold whatever the buffers held.
 */
export function batchMixingProblems(graph: Graph, symbol: string, debugOutputs: boolean): Diagnostic[] {
  for (const n of liveNodes([...graph.outputs, ...(debugOutputs ? graph.taps : [])])) {
    const mixed = mixedAxes(n);
    const k = n.inputs.findIndex((v, j) => {
      const axis = batchAxisOf(v, symbol);
      return axis !== undefined && (mixed[j] ?? []).some((m) => m === axis || (m === "all-but-0" && axis > 0));
    });
    const moved = n.op === "reshape" && movesBatch(n.inputs[0], n.outputs[0], symbol);
    if (k < 0 && !moved) continue;
    const [x, y] = [shapeToString(n.inputs[Math.max(k, 0)].shape), shapeToString(n.outputs[0].shape)];
    const what =
      k >= 0
        ? `works along the batch ${symbol} (axis ${batchAxisOf(n.inputs[k], symbol)} of ${x})`
        : `moves the batch ${symbol} to other places in memory (${x} to ${y})`;
    return [
      makeDiagnostic(
        WgslCodes.BatchMixed,
        `this ${n.op} ${what}, so one bundle cannot run every batch with it`,
        n.span,
        {
          hint: `compile a bundle for one batch size with --set ${symbol}=...`,
        },
      ),
    ];
  }
  return [];
}

/**
 * Whether a reshape puts the batch's items elsewhere: it keeps them in place when as many elements come before
 * the batch axis in both shapes (then every item's elements stay together, at the same place at every batch).
 */
function movesBatch(x: Value, y: Value, symbol: string): boolean {
  const [a, b] = [batchAxisOf(x, symbol), batchAxisOf(y, symbol)];
  if (a === undefined || b === undefined) return a !== b;
  const before = (v: Value, axis: number) => v.shape.slice(0, axis).reduce<number>((p, d) => p * (d as number), 1);
  return before(x, a) !== before(y, b);
}

/**
 * The parts of a kernel that must not change with the batch: all but its workgroups at the maximum and the
 * buffers it binds (the memory planner shares buffers by size, so the probe's numbering may differ).
 */
const batchFree = (k: KernelEntry, code: string | undefined) =>
  JSON.stringify([k.name, k.bindings.map((b) => [b.binding, b.access]), k.dispatch, k.batchBinding, code]);

/**
 * The kernels of the same plan generated at the maximum batch and at a probe batch must be the same: a kernel whose
 * code changes with the batch (a concatenation or reduction along it, a tile chosen by it) cannot run every batch.
 */
export function probeProblems(
  symbol: string,
  atMax: { kernels: readonly KernelEntry[]; shaders: ReadonlyMap<string, string> },
  atProbe: { kernels: readonly KernelEntry[]; shaders: ReadonlyMap<string, string> },
  spanAt: (kernel: number) => Diagnostic["span"],
): Diagnostic[] {
  const kernels = Math.max(atMax.kernels.length, atProbe.kernels.length);
  for (let i = 0; i < kernels; i++) {
    const [a, b] = [atMax.kernels[i], atProbe.kernels[i]];
    if (a && b && batchFree(a, atMax.shaders.get(a.shader)) === batchFree(b, atProbe.shaders.get(b.shader))) continue;
    const k = a ?? b;
    return [
      makeDiagnostic(
        WgslCodes.BatchInKernel,
        `the kernel ${k.name} (${k.ops.join(", ")}) depends on the batch ${symbol} beyond its size, so one ` +
          "kernel cannot run every batch",
        spanAt(i),
        { hint: `compile a bundle for one batch size with --set ${symbol}=...` },
      ),
    ];
  }
  return [];
}
