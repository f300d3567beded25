// The pipeline driver, the one that both the command line (src/cli) and the library API (src/api.ts) run:
// source -> syntax tree -> checked program -> elaborated IR -> optimised IR (the front end), then the model's weights
// from checkpoints, then a back end (ONNX, WGSL) in memory or to disk. Every phase reports Diagnostics; a phase runs
// only when the ones before it found no errors. Reading the source file and printing are the callers' business.
import type * as A from "./dsl/1-parse/ast.js";
import { parseExpression } from "./dsl/1-parse/parse.js";
import { checkProgram } from "./dsl/2-analyze/check.js";
import { loadProgram, type ParseFile, type Program, type ReadFile, readFromDisk } from "./dsl/2-analyze/load.js";
import { displayPath, isStdlibFile, sourceFilePath } from "./util/source-paths.js";
import { summarisePaths } from "./util/paths.js";
import { CheckCodes, makeDiagnostic } from "./diagnostics/codes.js";
import { type Diagnostic, DiagnosticError, hasErrors, type SourceMap } from "./diagnostics/diagnostics.js";
import { Elaborator, type ValueObserver, type WeightRuleUse } from "./compiler/3-elaborate/elaborate.js";
import type { LayerCallMemo } from "./compiler/3-elaborate/layer-memo.js";
import { parseTapOption, TapSelection } from "./compiler/3-elaborate/tap-selection.js";
import type { Graph, Value } from "./compiler/ir/ir.js";
import { eliminateDeadCode, ONNX_RUNTIME_REWRITES, runPasses } from "./compiler/ir/passes/index.js";
import { verifyGraph } from "./compiler/ir/verify.js";
import { emitOnnx, writeOnnx } from "./backends/onnx/index.js";
import { type OnnxSummary, summarizeOnnx } from "./backends/onnx/summary.js";
import { bundleOf, compileWgsl, emitWgslBundle, wgslKernelStats, type WgslKernelStats } from "./backends/wgsl/index.js";
import { isStatic, shapeToString } from "./compiler/ir/dim.js";
import { userLayerSpan } from "./compiler/3-elaborate/declarations.js";
import type { SymbolicWeight } from "./weights/dimension-values.js";
import { type GraphStats, graphStats } from "./compiler/ir/stats.js";
import type { BatchInfo, WgslBundle } from "./runtime/manifest.js";
import type { HostTensor } from "./util/tensor.js";
import type { ProgressCallback } from "./weights/layout.js";
import type { WeightReport } from "./weights/mapping.js";
import { loadModelWeights, openModelWeights, parseWeightSpec } from "./weights/model-weights.js";
import type { WeightMap } from "./util/lazy-tensor.js";

export interface FrontendOptions {
  /**
   * The file, to resolve relative imports; spans name it (and the files it imports) relative to the working folder,
   * and the standard library as `std/...`.
   */
  file?: string;
  readFile?: ReadFile;
  /** `--set name=value`: model parameters and free input dimensions (e.g. B=4). */
  overrides?: Record<string, string>;
  /**
   * Run the IR passes (constant folding, CSE, DCE); on by default. "dead-code": only dead-code elimination, which marks
   * the weights nothing reads (NET2015), without the verifier: the language server's diagnostics at a fraction of
   * the cost (the other passes report nothing a user can fix).
   */
  optimize?: boolean | "dead-code";
  /** Names of IR passes to leave out (benchmarks: each speed rewrite on and off). */
  skipPasses?: readonly string[];
  /** The back end the graph is for: "wgsl" leaves out the rewrites made for onnxruntime (ONNX_RUNTIME_REWRITES). */
  target?: "onnx" | "wgsl";
  /** Parses one source file (the language server reuses parses of unchanged files); parseSource by default. */
  parseFile?: ParseFile;
  /** When false, a file without a model is checked as a library instead of being an error. */
  requireModel?: boolean;
  /** `--tap`: names of intermediates to add as graph taps (each value a comma-separated list). */
  taps?: readonly string[];
  /** With `taps`, keep the file's own `tap`s too (`--debug-outputs`); without, only the named ones are taps. */
  keepFileTaps?: boolean;
  /** Say which unused blocks could not be checked on symbolic sizes (NET3020 notes; `netc check`). */
  noteUncheckedBlocks?: boolean;
  /** Told each expression's value during elaboration (see ElaborateOptions.observe), unused blocks' included. */
  observe?: ValueObserver;
  /** Model parameters without a value elaborate as symbols after their error (ElaborateOptions.symbolicParams). */
  symbolicParams?: boolean;
  /** Layer calls of the previous elaboration, replayed where nothing they read changed (the language server). */
  layerCalls?: LayerCallMemo;
}

export interface FrontendResult {
  graph?: Graph;
  diagnostics: Diagnostic[];
  sources: SourceMap;
  program?: Program;
  weightRules: WeightRuleUse[];
  /**
   * With symbolicParams, when a model parameter had no value: every weight the model declares, sizes in terms of the
   * parameters (`f32[3, dim]`), so that a checkpoint's shapes can tell the values (no graph is made then).
   */
  symbolicWeights?: SymbolicWeight[];
}

function guard<T>(diagnostics: Diagnostic[], run: () => T): T | undefined {
  try {
    return run();
  } catch (e) {
    if (e instanceof DiagnosticError) {
      diagnostics.push(...e.diagnostics);
      return undefined;
    }
    throw e;
  }
}

/** Parses and checks a program without elaborating a model (`netc check` of a library file). */
export function checkSource(
  text: string,
  opts: FrontendOptions = {},
): { diagnostics: Diagnostic[]; sources: SourceMap; program: Program } {
  const program = loadProgram(opts.file ?? "<input>.net", text, opts.readFile ?? readFromDisk, opts.parseFile);
  const diagnostics = [...program.diagnostics];
  if (!hasErrors(diagnostics)) diagnostics.push(...checkProgram(program));
  return { diagnostics, sources: program.sources, program };
}

/** Source text to a verified (and by default optimised) IR graph. */
export function compileToGraph(text: string, opts: FrontendOptions = {}): FrontendResult {
  const { diagnostics, sources, program } = checkSource(text, opts);
  const result: FrontendResult = { diagnostics, sources, program, weightRules: [] };
  if (hasErrors(diagnostics)) return result;
  const models = program.entry.items.filter((i): i is A.ModelDecl => i.kind === "Model");
  const items = program.files.flatMap((f) =>
    f.items.filter((i): i is A.BlockDecl | A.FnDecl => i.kind === "Block" || i.kind === "Fn"),
  );
  if (models.length === 0) {
    if (opts.requireModel === false) diagnostics.push(...checkUnusedBlocks(program, items, new Set(), opts));
    if (opts.requireModel === false) return result;
    diagnostics.push(
      makeDiagnostic(
        CheckCodes.NoModel,
        `${program.entry.file} has no model`,
        program.entry.span.end === 0 ? undefined : { ...program.entry.span, end: 0 },
      ),
    );
    return result;
  }
  if (models.length > 1) {
    diagnostics.push(
      makeDiagnostic(
        CheckCodes.MultipleModels,
        `${program.entry.file} has ${models.length} models`,
        models[1].name.span,
        { related: [{ message: "the first model", span: models[0].name.span }] },
      ),
    );
    return result;
  }
  const overrides = new Map<string, { expr: A.Expr; span: import("./diagnostics/diagnostics.js").Span }>();
  for (const [name, value] of Object.entries(opts.overrides ?? {})) {
    const file = `--set ${name}`;
    sources.add(file, value);
    const parsed = parseExpression(file, value);
    diagnostics.push(...parsed.diagnostics);
    if (parsed.expr)
      overrides.set(name, { expr: parsed.expr, span: { file, start: 0, end: value.length, line: 1, col: 1 } });
  }
  if (hasErrors(diagnostics)) return result;
  const elaborator = new Elaborator(items, models[0]);
  const beforeElaboration = diagnostics.length;
  const selection = opts.taps?.length ? new TapSelection(parseTapOption(opts.taps, sources)) : undefined;
  const elaborated = guard(diagnostics, () =>
    elaborator.run({
      overrides,
      taps: selection,
      observe: opts.observe,
      symbolicParams: opts.symbolicParams,
      layerCalls: opts.layerCalls,
    }),
  );
  diagnostics.splice(beforeElaboration, 0, ...elaborator.printed); // before an error they may explain
  if (opts.symbolicParams) {
    const weights = symbolicWeights(elaborator);
    if (weights.some((w) => !w.shape.every(isStatic))) {
      result.symbolicWeights = weights;
      result.weightRules = elaborator.weightRules;
    }
  }
  if (!elaborated) return result;
  if (selection) {
    const chosen = selection.finish();
    diagnostics.push(...chosen.diagnostics);
    if (hasErrors(chosen.diagnostics)) return result;
    const fileTaps = opts.keepFileTaps ? elaborated.graph.taps : [];
    elaborated.graph.taps = [...fileTaps, ...chosen.taps.filter((t) => !fileTaps.some((f) => f.name === t.name))];
  }
  result.weightRules = elaborated.weightRules;
  diagnostics.push(...elaborated.diagnostics);
  diagnostics.push(...checkUnusedBlocks(program, items, elaborator.instantiatedBlocks(), opts));
  if (hasErrors(diagnostics)) return result;
  const graph = elaborated.graph;
  markStdlibBuffers(graph);
  if (opts.optimize === "dead-code") eliminateDeadCode(graph);
  else if (opts.optimize === false) {
    const verified = verifyGraph(graph);
    diagnostics.push(...verified);
    if (hasErrors(verified)) return result;
  } else {
    const skip = [...(opts.skipPasses ?? []), ...(opts.target === "wgsl" ? ONNX_RUNTIME_REWRITES : [])];
    const passes = runPasses(graph, { verify: true, skip });
    diagnostics.push(...passes.diagnostics);
    if (hasErrors(passes.diagnostics)) return result;
  }
  // Weights of uncalled layers have their layer's warning; standard-library buffers are unused by design.
  const inUncalledLayer = (path: string) => elaborated.uncalledLayers.some((l) => path.startsWith(`${l}.`));
  const unused = graph.params.filter((p) => p.unused && !p.stdlibBuffer && !inUncalledLayer(p.path));
  if (unused.length) {
    const paths = unused.map((p) => p.path);
    diagnostics.push(
      makeDiagnostic(
        CheckCodes.UnusedParameter,
        `${unused.length} weight${unused.length === 1 ? " is" : "s are"} declared but never used by the forward ` +
          `computation: ${summarisePaths(paths)}`,
        unused[0].layerSpan ?? unused[0].span,
      ),
    );
  }
  result.graph = graph;
  return result;
}

/**
 * The blocks of the entry file that the model does not instantiate, each elaborated on symbolic sizes so that a
 * library block's mistakes are found without a model that uses it (docs/language.md, "What netc check checks").
 */
function checkUnusedBlocks(
  program: Program,
  items: readonly (A.BlockDecl | A.FnDecl)[],
  used: ReadonlySet<A.BlockDecl>,
  opts: FrontendOptions,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const decl of program.entry.items) {
    if (decl.kind !== "Block" || used.has(decl)) continue;
    const checked = new Elaborator(items).checkBlock(decl, opts.observe);
    if ("uncheckable" in checked) {
      if (opts.noteUncheckedBlocks) out.push(checked.uncheckable);
      continue;
    }
    const where = {
      message: `found checking block ${decl.name.name} on symbolic sizes (no model here uses it)`,
      span: decl.name.span,
    };
    out.push(...checked.errors.map((d) => ({ ...d, related: [...d.related, where] })));
  }
  return out;
}

/** The weights an elaboration declared, sizes as it computed them (symbolic where a parameter was a symbol). */
function symbolicWeights(elaborator: Elaborator): SymbolicWeight[] {
  return [...elaborator.params].map(([path, v]) => {
    const span = v.producer.span;
    const layerSpan = span && isStdlibFile(span.file) ? userLayerSpan(elaborator, path) : undefined;
    return { path, dtype: v.dtype, shape: v.shape, span, ...(layerSpan ? { layerSpan } : {}) };
  });
}

/** Marks the standard library's weights that no operation reads at all, before any pass removes dead code. */
function markStdlibBuffers(graph: Graph): void {
  const read = new Set<string>();
  const note = (v: Value) => {
    if (v.producer.op === "param") read.add(v.producer.attrs.path);
  };
  for (const n of graph.nodes) n.inputs.forEach(note);
  for (const o of [...graph.outputs, ...graph.taps]) note(o.value);
  for (const p of graph.params) if (p.span && isStdlibFile(p.span.file) && !read.has(p.path)) p.stdlibBuffer = true;
}

export interface WeightOptions {
  /** Checkpoint files (`[name=]path`, as `--weights`) to load onto the model's weights, or the weights themselves. */
  weights?: readonly string[] | ReadonlyMap<string, HostTensor>;
  /** State dicts whose tensors replace loaded weights of the same name, applied after `weights`. */
  weightOverrides?: readonly string[];
  /** Relax the strict weight report. */
  allowMissing?: boolean;
  allowUnexpected?: boolean;
  /**
   * Read no tensor now: each weight is read from its checkpoint when the output is written, one at a time, so that
   * a model's weights are never all in memory (compiling to disk does this). Read errors then come from the back end.
   */
  streamWeights?: boolean;
}

/** What a caller that shows progress is told while the front end and the weights run. */
export interface DriverHooks {
  /**
   * The front end's diagnostics, before any weight is loaded; without NET2015 when checkpoints are loaded (their
   * weight report accounts for the weights the forward never reads, NET6025/NET6020).
   */
  onFrontEnd?: (diagnostics: Diagnostic[], sources: SourceMap) => void;
  /** Weight loading starts; its progress goes to `onProgress`. */
  onLoadingWeights?: () => void;
  onProgress?: ProgressCallback;
}

export interface Prepared {
  front: FrontendResult;
  /** The verified graph; absent when the front end or the weights reported an error. */
  graph?: Graph;
  /** The weights, by parameter path, lazy when streamed (absent: the back end draws seeded random values). */
  weights?: WeightMap;
  weightReport?: WeightReport;
  /** Every diagnostic: the front end's (as given to onFrontEnd), then the weights'. */
  diagnostics: Diagnostic[];
  /** The weights' diagnostics alone. */
  weightDiagnostics: Diagnostic[];
  /** The files read (sources by their path on disk, checkpoints): no output may replace one. */
  inputs: string[];
}

/** The front end, then the weights from checkpoint files (when `weights` names files). */
export function prepare(source: string, options: FrontendOptions & WeightOptions, hooks: DriverHooks = {}): Prepared {
  const front = compileToGraph(source, options);
  const checkpoints =
    options.weights && !(options.weights instanceof Map) ? (options.weights as readonly string[]) : undefined;
  const frontDiagnostics = checkpoints
    ? front.diagnostics.filter((d) => d.code !== CheckCodes.UnusedParameter.code)
    : front.diagnostics;
  hooks.onFrontEnd?.(frontDiagnostics, front.sources);
  const inputs = [
    ...(options.file === undefined ? [] : [options.file]),
    ...(front.program?.files.map((f) => sourceFilePath(f.file)) ?? []),
    ...(checkpoints ?? []).map((w) => parseWeightSpec(w).path),
    ...(options.weightOverrides ?? []),
  ];
  const prepared: Prepared = { front, diagnostics: front.diagnostics, weightDiagnostics: [], inputs };
  if (!front.graph) return prepared;
  if (!checkpoints)
    return { ...prepared, graph: front.graph, weights: options.weights as ReadonlyMap<string, HostTensor> | undefined };
  hooks.onLoadingWeights?.();
  const strictness = {
    allowMissing: options.allowMissing,
    allowUnexpected: options.allowUnexpected,
    overrides: options.weightOverrides,
  };
  const files = checkpoints.map(parseWeightSpec);
  const loaded = options.streamWeights
    ? openModelWeights(front.graph, files, front.weightRules, strictness)
    : loadModelWeights(front.graph, files, front.weightRules, { ...strictness, onProgress: hooks.onProgress });
  Object.assign(prepared, {
    diagnostics: [...frontDiagnostics, ...loaded.diagnostics],
    weightDiagnostics: loaded.diagnostics,
    weightReport: loaded.report,
  });
  if (hasErrors(loaded.diagnostics)) return prepared;
  return { ...prepared, graph: front.graph, weights: loaded.weights };
}

export interface BackendOptions {
  /** "onnx" (default) or "wgsl" (a WebGPU bundle). */
  target?: "onnx" | "wgsl";
  /** ONNX opset, 17 (default) to 23; newer opsets get simpler graphs (Gelu from 20, Attention from 23). */
  opset?: number;
  /** WGSL storage precision (default f32; f16 needs the adapter's shader-f16 feature). */
  precision?: "f32" | "f16";
  /** Seed for weights no checkpoint provides. */
  seed?: number;
  /** Expose every `tap` as an extra output. */
  debugOutputs?: boolean;
  /**
   * ONNX for deployment (`--deploy`): weights stored in the layout their kernel reads; see emitOnnx's
   * kernelLayoutWeights.
   */
  deploy?: boolean;
  /**
   * The largest batch a WGSL bundle with a symbolic batch runs, chosen at run time (`--max-batch`; see
   * backends/wgsl/batch.ts).
   */
  maxBatch?: number;
  /** The `.net` file, named (never by an absolute path) in the ONNX doc string and the bundle's module. */
  file?: string;
  /** Bytes per weight shard of a WGSL bundle (default 4 MiB; see backends/wgsl/bundle.ts). */
  shardBytes?: number;
  /**
   * A WGSL bundle also carries the model as ONNX (`model.onnx`), which loadModel runs where WebGPU cannot (default
   * true).
   */
  fallback?: boolean;
  /**
   * ONNX to disk: keep the weights in this side file (ONNX external data, relative to the model's folder) instead of
   * inside the model; without it they go to `<model>.data` only when the model would exceed 2 GiB.
   */
  externalData?: string;
  /** ONNX to disk: every weight inside the model file; a model over 2 GiB is then an error (NET8050). */
  singleFile?: boolean;
  /** ONNX to disk: told the bytes written so far and the total, as the files are written. */
  onWriteProgress?: ProgressCallback;
}

/** A prepared graph through a back end, in memory: ONNX bytes or a WGSL bundle. */
export function emit(
  graph: Graph,
  weights: WeightMap | undefined,
  options: BackendOptions,
): { onnx?: Uint8Array; bundle?: WgslBundle; diagnostics: Diagnostic[] } {
  if (options.target === "wgsl") {
    const compiled = compileWgsl(graph, {
      weights,
      seed: options.seed,
      debugOutputs: options.debugOutputs,
      precision: options.precision,
      maxBatch: options.maxBatch,
    });
    return { diagnostics: compiled.diagnostics, bundle: compiled.program && bundleOf(compiled.program) };
  }
  const emitted = emitOnnx(graph, {
    opset: options.opset,
    weights,
    seed: options.seed,
    debugOutputs: options.debugOutputs,
    source: options.file === undefined ? undefined : displayPath(options.file),
    kernelLayoutWeights: options.deploy,
  });
  return { diagnostics: emitted.diagnostics, onnx: emitted.bytes };
}

/**
 * A prepared graph through a back end, to disk: an ONNX file (weights over 2 GiB go to a side file) or a bundle
 * folder (replaced whole), never over one of the compile's `inputs`. Nothing is written when there are errors.
 */
export function emitToDisk(
  prepared: Prepared & { graph: Graph },
  output: string,
  options: BackendOptions,
): { diagnostics: Diagnostic[]; kernels?: number; shards?: number; batch?: BatchInfo } {
  const common = {
    weights: prepared.weights,
    seed: options.seed,
    debugOutputs: options.debugOutputs,
    source: options.file === undefined ? undefined : displayPath(options.file),
    inputs: prepared.inputs,
  };
  if (options.target === "wgsl") {
    // The graph as given (a symbolic batch stays symbolic in ONNX), with the same weights and seed as the kernels.
    const fallback =
      options.fallback !== false
        ? emitOnnx(prepared.graph, {
            weights: prepared.weights,
            seed: options.seed,
            debugOutputs: options.debugOutputs,
            source: common.source,
          })
        : undefined;
    if (fallback && !fallback.bytes) return { diagnostics: fallback.diagnostics };
    const bundle = emitWgslBundle(prepared.graph, {
      ...common,
      precision: options.precision,
      outDir: output,
      maxBatch: options.maxBatch,
      fallbackOnnx: fallback?.bytes,
      shardBytes: options.shardBytes,
    });
    const manifest = bundle.program?.manifest;
    return {
      diagnostics: bundle.diagnostics,
      kernels: manifest?.kernels.length,
      shards: bundle.shards,
      batch: manifest?.batch,
    };
  }
  return {
    diagnostics: writeOnnx(output, prepared.graph, {
      ...common,
      opset: options.opset,
      kernelLayoutWeights: options.deploy,
      externalDataPath: options.externalData,
      singleFile: options.singleFile,
      onProgress: options.onWriteProgress,
    }),
  };
}

export interface GraphSummary {
  model: string;
  /** `name dtype[shape]` of each input and output. */
  inputs: string[];
  outputs: string[];
  symbols: string[];
  ir: GraphStats;
  /** The ONNX graph's summary; absent when emitting it reported an error. */
  onnx?: OnnxSummary;
  /** Kernel counts of the WGSL bundle; absent when the model is not plannable (e.g. symbolic shapes). */
  wgsl?: WgslKernelStats;
  diagnostics: Diagnostic[];
}

/** What `netc inspect` says about a graph: IR statistics, the ONNX graph's summary, the WGSL kernels. */
export function summarizeGraph(graph: Graph): GraphSummary {
  const io = (xs: Graph["inputs"]) => xs.map((x) => `${x.name} ${x.value.dtype}${shapeToString(x.value.shape)}`);
  const ir = graphStats(graph);
  const emitted = emitOnnx(graph, { structureOnly: true });
  return {
    model: graph.name,
    inputs: io(graph.inputs),
    outputs: io(graph.outputs),
    symbols: graph.symbols,
    ir,
    onnx: emitted.bytes && summarizeOnnx(emitted.bytes),
    wgsl: wgslKernelStats(graph).stats,
    diagnostics: emitted.diagnostics,
  };
}
