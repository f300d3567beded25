// The WGSL backend as a library: IR graph -> planned, fused kernels with their WGSL, a buffer plan, the weight
// buffers' contents and the manifest the runtime loads. Nothing here touches the file system (see bundle.ts).
import { makeDiagnostic } from "../../diagnostics/codes.js";
import { type Diagnostic, hasErrors } from "../../diagnostics/diagnostics.js";
import type { Graph, Value } from "../../compiler/ir/ir.js";
import { bindDims } from "../../compiler/ir/bind-dims.js";
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  type BundleManifest,
  type KernelEntry,
  type TensorSlot,
} from "../../runtime/manifest.js";
import { storageTypeOf, toStorage } from "../../runtime/storage.js";
import type { HostTensor } from "../../util/tensor.js";
import { bindParams, paramsReadBy } from "../../compiler/ir/bind-params.js";
import type { WeightMap } from "../../util/lazy-tensor.js";
import { WgslCodes } from "../../diagnostics/wgsl-codes.js";
import {
  BatchDependent,
  type CodegenContext,
  DispatchTooLarge,
  generateKernel,
  type RuntimeBatch,
} from "./codegen/index.js";
import {
  batchAxisOf,
  batchAxisProblems,
  batchMixingProblems,
  maxBatchProblem,
  probeProblems,
  runtimeBatchSymbol,
} from "./batch.js";
import { DEFAULT_LIMITS, type WgslLimits } from "./limits.js";
import { chunkSizes, type MemoryPlan, memoryOptions, planMemory } from "./memory.js";
import { type KernelPlan, planKernels } from "./plan.js";
import { type PreparedGraph, prepareGraph, shapeOf } from "./prepare.js";
import { f16Warnings } from "./precision.js";

export { DEFAULT_LIMITS, type WgslLimits } from "./limits.js";

export interface CompileWgslOptions {
  /** Checkpoint tensors by parameter path; others use their default or a seeded random draw (as for ONNX). */
  weights?: WeightMap;
  seed?: number;
  /** Also return the graph's taps. */
  debugOutputs?: boolean;
  /** Element type of float buffers (default f32). f16 needs the adapter's shader-f16 feature. */
  precision?: "f32" | "f16";
  limits?: Partial<WgslLimits>;
  /** Refuse models whose buffers need more bytes than this (default: no limit). */
  maxTotalBytes?: number;
  /**
   * For a graph whose one symbol is a batch (the first axis of an input): the largest batch the bundle runs. The
   * batch is then chosen at run time, from 1 to this (see batch.ts); without it, a symbol is NET7001.
   */
  maxBatch?: number;
  /**
   * When the graph does not fit the adapter's limits at maxBatch (bindings, buffer sizes, index range: codes that
   * grow with the batch), halve it until it does, with a warning (NET7025). `netc compile` sets it when no
   * --max-batch is given; an explicit maximum is kept or refused.
   */
  fitMaxBatch?: boolean;
}

/** Errors that a smaller batch can remove: the graph's tensors, not its ops, are over the adapter's limits. */
const LIMIT_CODES = new Set([WgslCodes.TooManyBindings.code, WgslCodes.DoesNotFit.code, WgslCodes.TooLarge.code]);

/** The manifest less the files it names: bundle.ts packs the shaders and cuts the weights into shards. */
export type ProgramManifest = Omit<BundleManifest, "weights" | "shaders">;

export interface WgslProgram {
  manifest: ProgramManifest;
  /** WGSL sources by the names the kernels give. */
  shaders: Map<string, string>;
  /** The weight buffers' contents, by the tensor names the manifest names, in storage element types. */
  weights: Map<string, HostTensor>;
  /** Bytes of all buffers. */
  totalBytes: number;
}

export interface CompileWgslResult {
  program?: WgslProgram;
  diagnostics: Diagnostic[];
}

const pad3 = (n: number) => String(n).padStart(3, "0");

function storageTensor(v: Value, data: HostTensor, memory: MemoryPlan, chunk: number, name: string): HostTensor {
  const layout = memory.layouts.get(v)!;
  const all = toStorage(data.dtype, data.data, layout.storage, name);
  const start = layout.chunks.slice(0, chunk).reduce((s, c) => s + c.elements, 0);
  const elements = layout.chunks[chunk].elements;
  return { dtype: layout.storage, shape: [elements], data: all.subarray(start, start + elements) };
}

interface Weights {
  /** Storage-typed chunks by tensor name. */
  tensors: Map<string, HostTensor>;
  /** Tensor name by buffer index. */
  names: Map<number, string>;
  /** The IR-typed value of every weight buffer's source. */
  sources: Map<Value, HostTensor>;
  diagnostics: Diagnostic[];
}

function weightTensors(p: PreparedGraph, memory: MemoryPlan, opts: CompileWgslOptions): Weights {
  const resolved = bindParams(paramsReadBy(p.graph, p.nodes), opts.weights, opts.seed ?? 0);
  const tensors = new Map<string, HostTensor>();
  const names = new Map<number, string>();
  const sources = new Map<Value, HostTensor>();
  memory.buffers.forEach((b, id) => {
    if (!b.weight) return;
    const { value, chunk } = b.weight;
    const node = value.producer;
    const stem = node.op === "param" ? node.attrs.path : `const.${value.id}`;
    // bindParams gives every used parameter a value (checkpoint, default or seeded draw).
    const data = node.op === "param" ? resolved.tensors.get(stem) : node.op === "const" ? node.attrs.value : undefined;
    let name = memory.layouts.get(value)!.chunks.length > 1 ? `${stem}#${chunk}` : stem;
    if (tensors.has(name)) name = `${name}@${id}`;
    tensors.set(name, storageTensor(value, data!, memory, chunk, name));
    names.set(id, name);
    sources.set(value, data!);
  });
  return { tensors, names, sources, diagnostics: resolved.diagnostics };
}

function slot(
  name: string,
  v: Value,
  memory: MemoryPlan,
  precision: "f32" | "f16",
  batch: RuntimeBatch | undefined,
): TensorSlot {
  const layout = memory.layouts.get(v);
  // An input no output depends on has no buffer: the runtime ignores it.
  return {
    name,
    dtype: v.dtype,
    shape: shapeOf(v),
    storage: layout?.storage ?? storageTypeOf(v.dtype, precision),
    chunks: layout?.chunks ?? [],
    ...(batch?.batched(v) ? { batched: true } : {}),
  };
}

interface Generated {
  kernels: KernelEntry[];
  shaders: Map<string, string>;
  diagnostics: Diagnostic[];
}

function generate(plan: KernelPlan, memory: MemoryPlan, limits: WgslLimits, batch?: RuntimeBatch): Generated {
  const ctx: CodegenContext = {
    layouts: memory.layouts,
    inlined: plan.inlined,
    literals: plan.literals,
    maxWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
    // Tiles get the workgroup memory less 1 KiB for the small reduction scratch arrays beside them.
    maxWorkgroupStorageBytes: limits.maxComputeWorkgroupStorageSize - 1024,
    maxInvocations: limits.maxComputeInvocationsPerWorkgroup,
    batch,
  };
  const kernels: KernelEntry[] = [];
  const shaders = new Map<string, string>();
  // Kernels of the same structure (repeated layers, a shared encoder run twice) share one shader file.
  const shaderOf = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  plan.kernels.forEach((k, i) => {
    const name = `k${pad3(i)}_${k.anchor.op}`;
    try {
      const m = generateKernel(ctx, k);
      const shader = shaderOf.get(m.code) ?? `kernels/${name}.wgsl`;
      const span = k.anchor.span;
      const constructs = [k.anchor, ...k.epilogue].map((n) => n.construct).filter((c): c is string => c !== undefined);
      shaderOf.set(m.code, shader);
      shaders.set(shader, m.code);
      kernels.push({
        name,
        shader,
        entryPoint: "main",
        workgroups: m.workgroups,
        ...(m.dispatch ? { dispatch: m.dispatch } : {}),
        bindings: m.bindings,
        ...(m.batchBinding === undefined ? {} : { batchBinding: m.batchBinding }),
        ops: [k.anchor.op, ...k.epilogue.map((n) => n.op)],
        scope: k.anchor.scope,
        ...(constructs.length > 0 ? { construct: constructs[0] } : {}),
        ...(span ? { source: { file: span.file, line: span.line, col: span.col } } : {}),
      });
    } catch (e) {
      if (e instanceof BatchDependent)
        diagnostics.push(
          makeDiagnostic(
            WgslCodes.BatchInKernel,
            `${k.anchor.op}: ${e.message}, so one kernel cannot run every batch`,
            k.anchor.span,
          ),
        );
      else if (e instanceof DispatchTooLarge)
        diagnostics.push(makeDiagnostic(WgslCodes.TooLarge, `${k.anchor.op}: ${e.message}`, k.anchor.span));
      else throw e;
    }
  });
  return { kernels, shaders, diagnostics };
}

/** What the bundle needs from the device: the largest binding count, binding, buffer and grid it uses. */
function requiredLimits(
  kernels: readonly KernelEntry[],
  memory: MemoryPlan,
  limits: WgslLimits,
): Record<string, number> {
  const chunkBytes = [...memory.layouts.values()].flatMap((l) =>
    l.chunks.map((c) => c.elements * (l.storage === "f16" ? 2 : 4)),
  );
  const at = (floor: number, values: number[]) => Math.max(floor, ...values);
  return {
    maxStorageBuffersPerShaderStage: at(
      DEFAULT_LIMITS.maxStorageBuffersPerShaderStage,
      kernels.map((k) => k.bindings.length),
    ),
    maxStorageBufferBindingSize: at(DEFAULT_LIMITS.maxStorageBufferBindingSize, chunkBytes),
    maxBufferSize: at(
      DEFAULT_LIMITS.maxBufferSize,
      memory.buffers.map((b) => b.size),
    ),
    maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupsPerDimension: at(
      DEFAULT_LIMITS.maxComputeWorkgroupsPerDimension,
      kernels.flatMap((k) => k.workgroups),
    ),
  };
}

interface Planned {
  p: PreparedGraph;
  plan: KernelPlan;
  memory: MemoryPlan;
  code: Generated;
}

/** The graph's kernels, buffer plan and WGSL (no weights); diagnostics instead where it does not compile. */
function planAndGenerate(
  graph: Graph,
  opts: CompileWgslOptions,
  limits: WgslLimits,
  precision: "f32" | "f16",
  batch?: RuntimeBatch,
): { planned?: Planned; diagnostics: Diagnostic[] } {
  const { prepared: p, diagnostics } = prepareGraph(graph, opts.debugOutputs);
  if (!p) return { diagnostics };
  const memoryOpts = memoryOptions(limits, precision, opts.maxTotalBytes);
  const planned = planKernels(p, {
    maxStorageBindings: limits.maxStorageBuffersPerShaderStage,
    chunksOf: (v) => chunkSizes(v, memoryOpts).length,
  });
  if (!planned.plan) return { diagnostics: planned.diagnostics };
  const { memory, diagnostics: memoryDiagnostics } = planMemory(p, planned.plan, memoryOpts);
  if (!memory) return { diagnostics: memoryDiagnostics };
  const code = generate(planned.plan, memory, limits, batch);
  return { planned: { p, plan: planned.plan, memory, code }, diagnostics };
}

/** The batch chosen at run time: the graph bound to its maximum, the kernels checked against a probe batch. */
function withRuntimeBatch(
  graph: Graph,
  symbol: string,
  max: number,
  opts: CompileWgslOptions,
  limits: WgslLimits,
  precision: "f32" | "f16",
): { bound?: Graph; planned?: Planned; batch?: RuntimeBatch; diagnostics: Diagnostic[] } {
  const bad = maxBatchProblem(max);
  if (bad) return { diagnostics: [bad] };
  const debug = opts.debugOutputs === true;
  const axes = batchAxisProblems(graph, symbol, debug);
  if (axes.length > 0) return { diagnostics: axes };
  const mixed = batchMixingProblems(graph, symbol, debug);
  if (mixed.length > 0) return { diagnostics: mixed };
  // A value whose batch is not its first axis is laid out at the largest batch whatever the batch given (its
  // strides would change with it): kernels read it at the same places at every batch, and the kernels that
  // compute it run at the largest batch (its work does not grow with its first axis).
  const [atMax, atAxis0] = [new Map([[symbol, max]]), (b: number) => new Map([[symbol, b]])];
  const at = (b: number) => {
    const bound = bindDims(graph, (v) => ((batchAxisOf(v, symbol) ?? 0) > 0 ? atMax : atAxis0(b)));
    const batch: RuntimeBatch = {
      at: b,
      max,
      batched: (v) => batchAxisOf(bound.symbolic.get(v)!, symbol) === 0,
      batchAxis: (v) => batchAxisOf(bound.symbolic.get(v)!, symbol),
    };
    return { bound: bound.graph, batch, ...planAndGenerate(bound.graph, opts, limits, precision, batch) };
  };
  const top = at(max);
  // A bundle for batch 1 only needs no probe; any other is compared with one batch larger.
  if (!top.planned || hasErrors(top.planned.code.diagnostics) || max === 1) return top;
  const probe = at(max + 1);
  const problems = probe.planned
    ? probeProblems(symbol, top.planned.code, probe.planned.code, (i) => top.planned!.plan.kernels[i]?.anchor.span)
    : probe.diagnostics.map((d) => ({
        ...d,
        message:
          `at ${symbol}=${max + 1} (one above the largest batch, planned to check that no kernel changes with ` +
          `the batch): ${d.message}`,
      }));
  return problems.length > 0 ? { diagnostics: problems } : top;
}

/** withRuntimeBatch at opts.maxBatch, or under fitMaxBatch at the largest of it, its half, ... that fits. */
function withLargestBatchThatFits(
  graph: Graph,
  symbol: string,
  opts: CompileWgslOptions,
  limits: WgslLimits,
  precision: "f32" | "f16",
): ReturnType<typeof withRuntimeBatch> {
  const asked = opts.maxBatch!;
  const errors = (r: ReturnType<typeof withRuntimeBatch>) =>
    [...r.diagnostics, ...(r.planned?.code.diagnostics ?? [])].filter((d) => d.severity === "error");
  const first = withRuntimeBatch(graph, symbol, asked, opts, limits, precision);
  if (!opts.fitMaxBatch || maxBatchProblem(asked)) return first;
  let [r, max] = [first, asked];
  while (max > 1 && errors(r).length > 0 && errors(r).every((d) => LIMIT_CODES.has(d.code))) {
    max = Math.floor(max / 2);
    r = withRuntimeBatch(graph, symbol, max, opts, limits, precision);
  }
  // Nothing smaller fits either (or something else is wrong): the errors at the batch asked for.
  if (max === asked || errors(r).length > 0) return first;
  const lowered = makeDiagnostic(
    WgslCodes.MaxBatchLowered,
    `at the largest batch ${asked} this model's tensors exceed the adapter's limits; the bundle runs ${symbol} = 1 ` +
      `to ${max}, the largest that fits`,
    graph.span,
    { hint: `choose the largest batch with --max-batch, or compile for one batch with --set ${symbol}=...` },
  );
  return { ...r, diagnostics: [lowered, ...r.diagnostics] };
}

export function compileWgsl(graph: Graph, opts: CompileWgslOptions = {}): CompileWgslResult {
  const precision = opts.precision ?? "f32";
  if (precision !== "f32" && precision !== "f16")
    return {
      diagnostics: [
        makeDiagnostic(WgslCodes.BadPrecision, `unknown precision '${String(precision)}'`, undefined, {
          hint: "use f32 (the default) or f16",
        }),
      ],
    };
  const limits: WgslLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const symbol = opts.maxBatch === undefined ? undefined : runtimeBatchSymbol(graph);
  const r =
    symbol === undefined
      ? { bound: graph, batch: undefined, ...planAndGenerate(graph, opts, limits, precision) }
      : withLargestBatchThatFits(graph, symbol, opts, limits, precision);
  if (!r.planned) return { diagnostics: r.diagnostics };
  const { p, plan, memory, code } = r.planned;
  const weights = weightTensors(p, memory, opts);
  const all = [
    ...r.diagnostics,
    ...weights.diagnostics,
    ...code.diagnostics,
    ...(precision === "f16" ? f16Warnings(plan, weights.sources) : []),
  ];
  if (hasErrors(all)) return { diagnostics: all };
  const bound = r.bound!;
  const manifest: ProgramManifest = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    model: graph.name,
    precision,
    requiredFeatures: precision === "f16" ? ["shader-f16"] : [],
    requiredLimits: requiredLimits(code.kernels, memory, limits),
    buffers: memory.buffers.map((b, id) => ({
      size: b.size,
      ...(weights.names.has(id) ? { weight: weights.names.get(id) } : {}),
    })),
    inputs: bound.inputs.map((i) => slot(i.name, i.value, memory, precision, r.batch)),
    outputs: p.outputs.map((o) => slot(o.name, o.value, memory, precision, r.batch)),
    kernels: code.kernels,
    ...(symbol === undefined ? {} : { batch: { symbol, max: r.batch!.max } }),
    ...(graph.preprocess ? { preprocess: graph.preprocess } : {}),
  };
  return {
    program: { manifest, shaders: code.shaders, weights: weights.tensors, totalBytes: memory.totalBytes },
    diagnostics: all,
  };
}
