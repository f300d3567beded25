// The pipeline driver's front end, the one that both the command line (src/cli) and the library API (src/api.ts)
// run: source -> syntax tree -> checked program -> elaborated IR -> optimised IR. The model's weights from
// checkpoints and a back end (ONNX, WGSL) follow in pipeline.ts, kept apart so that `netc check` and the language
// server load no back end. Every phase reports Diagnostics; a phase runs only when the ones before it found no
// errors. Reading the source file and printing are the callers' business.
import type * as A from "./dsl/1-parse/ast.js";
import { parseExpression } from "./dsl/1-parse/parse.js";
import { checkProgram } from "./dsl/2-analyze/check.js";
import { loadProgram, type ParseFile, type Program, type ReadFile, readFromDisk } from "./dsl/2-analyze/load.js";
import { isStdlibFile } from "./util/source-paths.js";
import { summarisePaths } from "./util/paths.js";
import { CheckCodes, makeDiagnostic } from "./diagnostics/codes.js";
import { type Diagnostic, DiagnosticError, hasErrors, type SourceMap } from "./diagnostics/diagnostics.js";
import { Elaborator, type ValueObserver, type WeightRuleUse } from "./compiler/3-elaborate/elaborate.js";
import type { LayerCallMemo } from "./compiler/3-elaborate/layer-memo.js";
import { parseTapOption, TapSelection } from "./compiler/3-elaborate/tap-selection.js";
import { checkUnusedMarks } from "./compiler/3-elaborate/unused-marks.js";
import type { Graph, Value } from "./compiler/ir/ir.js";
import {
  ATTENTION_QUERY_PARTS,
  eliminateDeadCode,
  ONNX_RUNTIME_REWRITES,
  WGSL_REWRITES,
  runPasses,
} from "./compiler/ir/passes/index.js";
import { verifyGraph } from "./compiler/ir/verify.js";
import { isStatic } from "./compiler/ir/dim.js";
import { userLayerSpan } from "./compiler/3-elaborate/declarations.js";
import type { SymbolicWeight } from "./weights/dimension-values.js";

export interface FrontendOptions {
  /**
   * The file, to resolve relative imports; spans name it (and the files it imports) relative to `namesBase`, and the
   * standard library as `std/...`.
   */
  file?: string;
  /** The folder spans name files relative to: the working folder by default (the language server's differs). */
  namesBase?: string;
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
  /**
   * The back end the graph is for: "wgsl" leaves out the rewrites made for onnxruntime (ONNX_RUNTIME_REWRITES), any
   * other target those made for the WGSL kernels (WGSL_REWRITES).
   */
  target?: "onnx" | "wgsl";
  /**
   * The ONNX graph will use onnxruntime's contrib ops (EmitOnnxOptions.onnxruntimeOps): its MultiHeadAttention holds
   * no scores, so attentions are not cut into query parts (ATTENTION_QUERY_PARTS).
   */
  onnxruntimeOps?: boolean;
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
  const program = loadProgram(
    opts.file ?? "<input>.net",
    text,
    opts.readFile ?? readFromDisk,
    opts.parseFile,
    opts.namesBase,
  );
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
    const skip = [
      ...(opts.skipPasses ?? []),
      ...(opts.target === "wgsl" ? ONNX_RUNTIME_REWRITES : WGSL_REWRITES),
      ...(opts.onnxruntimeOps ? [ATTENTION_QUERY_PARTS] : []),
    ];
    const passes = runPasses(graph, { verify: true, skip });
    diagnostics.push(...passes.diagnostics);
    if (hasErrors(passes.diagnostics)) return result;
  }
  // Weights of uncalled layers have their layer's warning; standard-library buffers are unused by design.
  const inUncalledLayer = (path: string) => elaborated.uncalledLayers.some((l) => path.startsWith(`${l}.`));
  const unused = graph.params.filter((p) => p.unused && !p.stdlibBuffer && !p.unusedMark && !inUncalledLayer(p.path));
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
  diagnostics.push(...checkUnusedMarks(graph.params, elaborated.unusedLayers));
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
