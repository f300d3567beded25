// Elaboration: runs a model's `.net` code at compile time, with tensors as symbolic IR values, producing a flat
// graph. Compile-time control flow (if, for, lists, parameters) is evaluated here; shapes are checked per node.
import type * as A from "../../dsl/1-parse/ast.js";
import { isStdlibFile } from "../../util/source-paths.js";
import { CheckCodes, makeDiagnostic, ShapeCodes, SyntaxCodes } from "../../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError, type Span } from "../../diagnostics/diagnostics.js";
import { closestName } from "../../util/suggest.js";
import { allocData, DTYPES, type DType, type HostTensor } from "../../util/tensor.js";
import { GraphBuilder } from "../ir/builder.js";
import { type Dim, dimEq, dimNeg, isStatic, shapeToString, sym } from "../ir/dim.js";
import type { Graph, Value as IrValue } from "../ir/ir.js";
import { callableNames, callableSignature, type ConstructName } from "../../dsl/signatures/builtins.js";
import { builtinOf, type BuiltinContext } from "./builtins/index.js";
import { bindArgs, type CallArg } from "./call-binding.js";
import { constantFromList } from "./constant-tensors.js";
import { CONSTRUCTS } from "./constructs.js";
import {
  Emitter,
  expectBool,
  expectDim,
  expectInt,
  expectList,
  expectString,
  expectTensor,
  fail,
  type Origin,
  PoisonedValueError,
  provenance,
} from "./context.js";
import { bool, describeKind, float, int, type LayerInstance, NONE, POISON, show, type Val } from "./values.js";
import { index, member } from "./indexing.js";
import { checkNotRecursive, MAX_DEPTH } from "./layer-recursion.js";
import { binary } from "./operators.js";
import { poisonBindings } from "./recovery.js";
import { type Activation, rootActivation, Scope, type Signal } from "./scope.js";
import { exprText, patternText } from "./source-text.js";
import { coerce, matchType } from "./type-matching.js";
import type { TapSelection } from "./tap-selection.js";
import { readPreprocess } from "../../dsl/preprocess-spec.js";

/** How deeply expression evaluations may nest, through all block calls together (see evalExpr). */
const MAX_EVAL_DEPTH = 400;

const MAX_RANGE = 1 << 20;
/** Compile-time list elements a program may build in all (ranges, concatenations): far above any real model's
 * few thousand, far below what exhausts memory (nested comprehensions multiply). */
const MAX_LIST_ELEMENTS = 1 << 21;

export interface ElaborateOptions {
  /** `--set name=value`, already parsed into expressions. */
  overrides?: Map<string, { expr: A.Expr; span: Span }>;
  /** `--tap`: collects the values bound to names while the model runs. */
  taps?: TapSelection;
  /** Told every expression's value as it is computed (the language server's hover); not told of failed ones. */
  observe?: ValueObserver;
  /**
   * A model parameter (int or dim) without a default or `--set` is still an error (NET2006), but elaboration goes on
   * with it as a symbol named like it, so that the language server can show the shapes in terms of it.
   */
  symbolicParams?: boolean;
}

/** Receives an expression's span and its value, with the weight path of the layer computing it ("" in the model). */
export type ValueObserver = (span: Span, value: Val, path: string) => void;

export interface WeightRuleUse {
  verb: string;
  args: Val[];
  span: Span;
  /** The named set it belongs to (`weights landmark { ... }`); absent for the model's own `weights { ... }`. */
  set?: string;
}

export interface ElaborateResult {
  graph: Graph;
  weightRules: WeightRuleUse[];
  /** Final values of the model's compile-time parameters. */
  config: Map<string, Val>;
  /** Warnings that do not stop elaboration (layers declared but never called). */
  diagnostics: Diagnostic[];
  /** Paths of the layers declared but never called (their weights have their own warning). */
  uncalledLayers: string[];
}

export class Elaborator {
  private readonly globals = new Scope();
  private readonly builder: GraphBuilder;
  readonly emit: Emitter;
  private readonly params = new Map<string, IrValue>();
  private readonly layerRegistry = new Map<string, LayerInstance>();
  private readonly calledLayers = new Set<string>();
  private readonly tapNames = new Set<string>();
  private readonly weightRules: WeightRuleUse[] = [];
  private depth = 0;
  private evalDepth = 0;
  private tapSelection?: TapSelection;
  private observe?: ValueObserver;
  /** What `print` showed, in order (NET3016 notes); the caller keeps them also when elaboration fails later. */
  readonly printed: Diagnostic[] = [];

  constructor(
    private readonly items: readonly (A.BlockDecl | A.FnDecl | A.ModelDecl)[],
    /** Absent when the elaborator only checks blocks (checkBlock). */
    private readonly model?: A.ModelDecl,
  ) {
    this.builder = new GraphBuilder(model?.name.name ?? "checked_blocks");
    this.builder.graph.span = model?.span;
    this.emit = new Emitter(this.builder);
    for (const item of items) {
      if (item.kind === "Block") this.globals.define(item.name.name, { kind: "block", decl: item }, item.name.span);
      else if (item.kind === "Fn") this.globals.define(item.name.name, { kind: "fn", decl: item }, item.name.span);
    }
  }

  run(opts: ElaborateOptions = {}): ElaborateResult {
    try {
      const result = this.runModel(opts);
      if (this.errors.length) throw new DiagnosticError(this.errors);
      return result;
    } catch (e) {
      if (!(e instanceof DiagnosticError) || e.diagnostics === this.errors) throw e;
      this.keep(e.diagnostics);
      throw new DiagnosticError(this.errors);
    }
  }

  private runModel(opts: ElaborateOptions): ElaborateResult {
    const m = this.model;
    if (!m) throw new Error("an elaborator made for checking blocks has no model to run");
    this.tapSelection = opts.taps;
    this.observe = opts.observe;
    this.symbolicParams = opts.symbolicParams ?? false;
    const scope = new Scope(this.globals);
    const overrides = new Map(opts.overrides ?? []);
    const config = this.bindConfig(m.config, scope, overrides, m.name.name);
    const freeDims = new Map<string, Dim>();
    for (const [name, o] of overrides) {
      const v = this.evalExpr(o.expr, scope, rootActivation());
      const dim = expectDim(v, o.span, `--set ${name}`);
      if (isStatic(dim) && dim < 1)
        fail(
          ShapeCodes.BadArgument,
          `--set ${name}: a dimension must be at least 1, got ${dim}`,
          o.span,
          [],
          `e.g. --set ${name}=1`,
        );
      freeDims.set(name, dim);
    }
    const act = rootActivation();
    const inputs = new Scope(scope);
    for (const p of m.inputs) {
      if (p.type.kind !== "TensorType")
        fail(ShapeCodes.TypeMismatch, `model input '${p.name.name}' must be a tensor type`, p.type.span);
      const shape = this.modelInputShape(p.type, inputs, freeDims);
      const dtype = this.dtypeOf(p.type.dtype, p.type.span);
      const v = this.builder.input(p.name.name, dtype, shape, { span: p.span, scope: "" });
      inputs.define(p.name.name, { kind: "tensor", v }, p.name.span);
    }
    for (const name of freeDims.keys())
      if (!m.inputs.some((p) => p.type.kind === "TensorType" && mentions(p.type, name)))
        fail(
          CheckCodes.UnknownOverride,
          `--set ${name}: the model has no parameter or input dimension '${name}'`,
          overrides.get(name)?.span,
          [],
          `parameters: ${m.config.map((c) => c.name.name).join(", ") || "none"}`,
        );
    this.builder.graph.symbols = [
      ...new Set(
        this.builder.graph.inputs.flatMap((i) =>
          i.value.shape.flatMap((d) =>
            isStatic(d) ? [] : [...d.terms.keys()].flatMap((k) => k.split("*")).filter((s) => s !== ""),
          ),
        ),
      ),
    ];
    const result = this.runBody(m.body, inputs, act, m.span);
    this.bindOutputs(m, result, inputs);
    const uncalled = this.declareUncalledLayers();
    return { graph: this.builder.graph, weightRules: this.weightRules, config, ...uncalled };
  }

  /** The blocks the model instantiated, so that those it does not use can be checked on their own. */
  instantiatedBlocks(): Set<A.BlockDecl> {
    return new Set([...this.layerRegistry.values()].map((l) => l.decl));
  }

  /**
   * Elaborates a block no model instantiates, on symbolic arguments (docs/language.md, "What netc check checks"):
   * compile-time parameters without a default become symbols (ints and dims) named like them, the others take
   * their defaults; tensor inputs get their declared shapes with unbound dimension names as symbols (a `...` or
   * `*N` as one dimension) and element type variables as f32. Returns the errors found, or why the block cannot be
   * checked so: a parameter that cannot be a symbol, or a step that needs a concrete value.
   */
  checkBlock(decl: A.BlockDecl, observe?: ValueObserver): { errors: Diagnostic[] } | { uncheckable: Diagnostic } {
    this.symbolicSizes = true;
    this.observe = observe;
    const scope = new Scope(this.globals);
    const uncheckable = (why: string, span: Span, where: string) => ({
      uncheckable: makeDiagnostic(
        ShapeCodes.BlockNotChecked,
        `block ${decl.name.name} is checked only where a model uses it: ${why}`,
        decl.name.span,
        { related: [{ message: where, span }] },
      ),
    });
    const symbolic = (p: A.ParamDecl): Val | undefined => {
      if (p.type.kind === "NamedType" && (p.type.name === "int" || p.type.name === "dim")) return int(sym(p.name.name));
      if (p.type.kind === "TensorType") return this.symbolicTensor(p.type, scope, p.span);
      return undefined;
    };
    const args: CallArg[] = [];
    for (const p of decl.config) {
      if (p.default) continue;
      const v = p.type.kind === "TensorType" ? undefined : symbolic(p);
      if (!v)
        return uncheckable(
          `its parameter '${p.name.name}' has no default and cannot be a symbol`,
          p.span,
          "declared here",
        );
      args.push({ name: p.name.name, value: v, span: p.span });
    }
    try {
      const layer = this.instantiate(decl, args, decl.name.name, decl.name.span);
      for (const [k, v] of layer.config) scope.define(k, v);
      const inputs: CallArg[] = [];
      for (const p of decl.inputs) {
        if (p.default) continue;
        const v = symbolic(p);
        if (!v)
          return uncheckable(
            `its input '${p.name.name}' has no default and cannot be made symbolic`,
            p.span,
            "declared here",
          );
        inputs.push({ name: p.name.name, value: v, span: p.span });
      }
      this.callLayer(layer, inputs, decl.name.span);
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
      this.keep(e.diagnostics);
    }
    const limit = this.errors.find((d) => SYMBOLIC_LIMITS.has(d.code));
    if (limit)
      return uncheckable(
        `on symbolic sizes, ${limit.message}`,
        limit.span ?? decl.name.span,
        "a concrete value is needed here",
      );
    return { errors: this.errors };
  }

  /** A tensor input of a checked block: its declared shape, unbound dimension names as symbols (see checkBlock). */
  private symbolicTensor(type: A.TensorTypeExpr, scope: Scope, span: Span): Val {
    const shape = type.dims.map((d, i): Dim => {
      if (d.kind === "DimAny") return sym(`_${i}`);
      if (d.kind === "DimRest") return sym(d.name ?? `rest${i}`);
      if (d.expr.kind === "Name" && !scope.lookup(d.expr.name)) {
        scope.define(d.expr.name, int(sym(d.expr.name)), d.span);
        return sym(d.expr.name);
      }
      return this.checkedDim(this.evalExpr(d.expr, scope, rootActivation()), d.span);
    });
    const dtype = (DTYPES as readonly string[]).includes(type.dtype) ? (type.dtype as DType) : "f32";
    return {
      kind: "tensor",
      v: this.builder.input(`input_${this.builder.graph.inputs.length}`, dtype, shape, { span, scope: "" }),
    };
  }

  private modelInputShape(type: A.TensorTypeExpr, scope: Scope, free: Map<string, Dim>): Dim[] {
    return type.dims.map((d) => {
      if (d.kind !== "Dim")
        fail(ShapeCodes.BadDimension, "model inputs need every dimension spelled out (no `...`, `*N` or `_`)", d.span);
      if (d.expr.kind === "Name" && !scope.lookup(d.expr.name)) {
        const dim = free.get(d.expr.name) ?? sym(d.expr.name);
        scope.define(d.expr.name, int(dim), d.span);
        return dim;
      }
      return this.checkedDim(this.evalExpr(d.expr, scope, rootActivation()), d.span);
    });
  }

  private checkedDim(v: Val, span: Span): Dim {
    const d = expectDim(v, span, "a dimension");
    if (isStatic(d) && (d < 0 || d > 2 ** 40))
      fail(ShapeCodes.BadDimension, `dimension ${d} is ${d < 0 ? "negative" : "too large"}`, span);
    return d;
  }

  private bindOutputs(m: A.ModelDecl, result: Val, scope: Scope): void {
    const values = m.outputs.length === 1 ? [result] : result.kind === "tuple" ? result.items : [result];
    if (values.length !== m.outputs.length)
      fail(
        ShapeCodes.TypeMismatch,
        `model ${m.name.name} declares ${m.outputs.length} outputs but returns ${values.length} values`,
        m.span,
      );
    m.outputs.forEach((o, i) => {
      const v = values[i];
      matchType(this, o.type, v, scope, o.span, false, `output ${o.name?.name ?? i}`);
      this.builder.output(o.name?.name ?? `output_${i}`, expectTensor(v, o.span, "a model output"), o.span);
    });
  }

  // ---- configuration and signatures ----

  private bindConfig(
    params: readonly A.ParamDecl[],
    scope: Scope,
    overrides: Map<string, { expr: A.Expr; span: Span }> | undefined,
    owner: string,
    args?: Map<string, CallArg>,
  ): Map<string, Val> {
    const config = new Map<string, Val>();
    for (const p of params) {
      let v: Val;
      const given = args?.get(p.name.name);
      const o = overrides?.get(p.name.name);
      if (o) {
        overrides!.delete(p.name.name);
        v = this.evalExpr(o.expr, scope, rootActivation());
        matchType(this, p.type, v, scope, o.span, false, `--set ${p.name.name}`);
      } else if (given) {
        v = given.value;
        matchType(this, p.type, v, scope, given.span, false, `argument '${p.name.name}' of ${owner}`);
      } else if (p.default) {
        v = this.evalExpr(p.default, scope, rootActivation());
        matchType(this, p.type, v, scope, p.default.span, false, `default of '${p.name.name}'`);
      } else if (!args && this.symbolicParams && p.type.kind === "NamedType" && ["int", "dim"].includes(p.type.name)) {
        this.keep([makeDiagnostic(CheckCodes.MissingArgument, `${owner} needs a value for '${p.name.name}'`, p.span)]);
        this.symbolicSizes = true;
        this.tookSymbols = true;
        v = int(sym(p.name.name));
      } else fail(CheckCodes.MissingArgument, `${owner} needs a value for '${p.name.name}'`, args ? undefined : p.span);
      v = coerce(p.type, v);
      scope.define(p.name.name, v, p.name.span);
      config.set(p.name.name, v);
    }
    return config;
  }

  /** Binds call arguments (positional then named) to declared parameters. */
  private matchArgs(params: readonly A.ParamDecl[], args: CallArg[], owner: string, span: Span): Map<string, CallArg> {
    const out = new Map<string, CallArg>();
    let pos = 0;
    for (const a of args) {
      const p = a.name ? params.find((q) => q.name.name === a.name) : params[pos++];
      if (!p) {
        if (a.name)
          fail(
            CheckCodes.UnknownArgument,
            `${owner} has no parameter '${a.name}'`,
            a.span,
            [],
            `parameters: ${params.map((q) => q.name.name).join(", ") || "none"}`,
          );
        fail(
          CheckCodes.WrongArity,
          `${owner} takes ${params.length} argument${params.length === 1 ? "" : "s"}, got ${args.length}`,
          a.span,
        );
      }
      if (out.has(p.name.name)) fail(CheckCodes.DuplicateArgument, `'${p.name.name}' is given twice`, a.span);
      out.set(p.name.name, a);
    }
    for (const p of params)
      if (!out.has(p.name.name) && !p.default)
        fail(CheckCodes.MissingArgument, `${owner} needs an argument '${p.name.name}'`, span, [
          { message: "declared here", span: p.span },
        ]);
    return out;
  }

  // ---- calls ----

  private instantiate(
    decl: A.BlockDecl,
    args: CallArg[],
    path: string,
    span: Span,
    parent?: LayerInstance,
  ): LayerInstance {
    const scope = new Scope(this.globals);
    const config = this.bindConfig(
      decl.config,
      scope,
      undefined,
      `block ${decl.name.name}`,
      this.matchArgs(decl.config, args, `block ${decl.name.name}`, span),
    );
    const layer: LayerInstance = { decl, path, config, span, parent };
    checkNotRecursive(layer);
    return layer;
  }

  callLayer(layer: LayerInstance, args: CallArg[], span: Span, construct?: string): Val {
    const decl = layer.decl;
    this.calledLayers.add(layer.path);
    const scope = new Scope(this.globals);
    for (const [k, v] of layer.config) scope.define(k, v);
    const bound = this.matchArgs(decl.inputs, args, `layer ${layer.path}`, span);
    this.bindInputs(decl.inputs, bound, scope, `layer ${layer.path}`);
    for (const p of decl.inputs)
      this.tapSelection?.offer(`${layer.path}/${p.name.name}`, scope.lookup(p.name.name)!.value, p.name.span);
    const act: Activation = { path: layer.path, layers: new Map(), declared: new Map(), kind: "block", construct };
    const result = this.withCall(span, () => this.runBody(decl.body, scope, act, decl.span));
    this.checkOutputs(decl.outputs, result, scope, span, `layer ${layer.path}`);
    this.tapSelection?.offer(layer.path, result, span);
    return result;
  }

  private callFn(decl: A.FnDecl, args: CallArg[], span: Span, caller: Activation): Val {
    const scope = new Scope(this.globals);
    const bound = this.matchArgs(decl.params, args, `fn ${decl.name.name}`, span);
    this.bindInputs(decl.params, bound, scope, `fn ${decl.name.name}`);
    const act: Activation = {
      path: caller.path,
      layers: new Map(),
      declared: new Map(),
      kind: "fn",
      construct: caller.construct,
    };
    const result = this.withCall(span, () => this.runBody(decl.body, scope, act, decl.span));
    this.checkOutputs(decl.outputs, result, scope, span, `fn ${decl.name.name}`);
    return result;
  }

  private withCall<T>(span: Span, run: () => T): T {
    this.emit.calls.push(span);
    try {
      return run();
    } finally {
      this.emit.calls.pop();
    }
  }

  /**
   * A layer declared but never called is a warning, and still owns weights (official modules often hold unused
   * submodules, and their checkpoints the tensors). Its body runs once on placeholder inputs so those weights are
   * declared; the dead nodes are removed later and the weights are reported as unused rather than missing. A body
   * that cannot run on placeholders (an assert on its input sizes, say) declares nothing: the warning says so, and
   * the elaboration of that body is undone.
   */
  private declareUncalledLayers(): { diagnostics: Diagnostic[]; uncalledLayers: string[] } {
    const diagnostics: Diagnostic[] = [];
    const uncalledLayers: string[] = [];
    for (const [path, layer] of this.layerRegistry) {
      if (this.calledLayers.has(path)) continue;
      // Layers of an uncalled layer's body are part of it, not uncalled layers of their own.
      if (uncalledLayers.some((u) => path.startsWith(`${u}.`))) continue;
      uncalledLayers.push(path);
      this.showPrints = false; // its values are placeholders
      this.recover = false;
      const failure = this.undoOnFailure(() => {
        const scope = new Scope(this.globals);
        for (const [k, v] of layer.config) scope.define(k, v);
        const args: CallArg[] = layer.decl.inputs.map((p) => ({
          name: p.name.name,
          value: this.placeholder(p, scope),
          span: p.span,
        }));
        this.callLayer(layer, args, layer.span);
      });
      this.showPrints = true;
      this.recover = true;
      const unused = `layer '${path}' is declared but never called`;
      if (!failure) {
        diagnostics.push(
          makeDiagnostic(
            CheckCodes.UnusedLayer,
            `${unused}; its weights are still expected from a checkpoint, and reported as unused`,
            layer.span,
          ),
        );
        continue;
      }
      diagnostics.push(
        makeDiagnostic(
          CheckCodes.UnusedLayer,
          `${unused}, and its body cannot run without real inputs, so it declares no weights`,
          layer.span,
          {
            related: failure.span
              ? [{ message: `on placeholder inputs: ${failure.code} ${failure.message}`, span: failure.span }]
              : [],
            hint: `call it, or remove it; a checkpoint's tensors under '${path}.' then match no weight: leave them out with \`weights { drop_regex "${path.replace(/\./g, "[.]")}[.].*" }\``,
          },
        ),
      );
    }
    return { diagnostics, uncalledLayers };
  }

  /** Runs `work`; if it fails with a diagnostic, removes what it added to the graph and returns the diagnostic. */
  private undoOnFailure(work: () => void): Diagnostic | undefined {
    const graph = this.builder.graph;
    const [nodes, params, taps] = [graph.nodes.length, graph.params.length, graph.taps.length];
    const [paramPaths, layers, called, tapNames] = [
      new Set(this.params.keys()),
      new Set(this.layerRegistry.keys()),
      new Set(this.calledLayers),
      new Set(this.tapNames),
    ];
    try {
      work();
      return undefined;
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
      graph.nodes.length = nodes;
      graph.params.length = params;
      graph.taps.length = taps;
      for (const p of [...this.params.keys()]) if (!paramPaths.has(p)) this.params.delete(p);
      for (const l of [...this.layerRegistry.keys()]) if (!layers.has(l)) this.layerRegistry.delete(l);
      for (const l of [...this.calledLayers]) if (!called.has(l)) this.calledLayers.delete(l);
      for (const t of [...this.tapNames]) if (!tapNames.has(t)) this.tapNames.delete(t);
      return e.diagnostics[0];
    }
  }

  /** A zero tensor (or the default) fitting a declared input, with unbound dims and runs of dims set to 1. */
  private placeholder(p: A.ParamDecl, scope: Scope): Val {
    if (p.default) return this.evalExpr(p.default, scope, rootActivation());
    if (p.type.kind !== "TensorType")
      fail(
        CheckCodes.MissingArgument,
        `layer input '${p.name.name}' needs a default so the uncalled layer's weights can be declared`,
        p.span,
      );
    const shape = p.type.dims.flatMap((d) => {
      if (d.kind !== "Dim") return d.kind === "DimAny" ? [1] : [];
      if (d.expr.kind === "Name" && !scope.lookup(d.expr.name)) return [1];
      return [expectInt(this.evalExpr(d.expr, scope, rootActivation()), d.span, "a dimension")];
    });
    const dtype = (DTYPES as readonly string[]).includes(p.type.dtype) ? (p.type.dtype as DType) : "f32";
    return { kind: "tensor", v: this.builder.constant(zeros(dtype, shape), { span: p.span, scope: "" }) };
  }

  private bindInputs(params: readonly A.ParamDecl[], bound: Map<string, CallArg>, scope: Scope, owner: string): void {
    for (const p of params) {
      const a = bound.get(p.name.name);
      const v = a ? a.value : this.evalExpr(p.default!, scope, rootActivation());
      matchType(this, p.type, v, scope, a?.span ?? p.span, true, `argument '${p.name.name}' of ${owner}`);
      scope.define(p.name.name, coerce(p.type, v), p.name.span);
    }
  }

  private checkOutputs(outputs: readonly A.OutputDecl[], result: Val, scope: Scope, span: Span, owner: string): void {
    if (outputs.length === 0) return;
    const values = outputs.length === 1 ? [result] : result.kind === "tuple" ? result.items : [result];
    if (values.length !== outputs.length)
      fail(ShapeCodes.TypeMismatch, `${owner} declares ${outputs.length} outputs but returns ${values.length}`, span);
    outputs.forEach((o, i) =>
      matchType(this, o.type, values[i], scope, span, true, `result ${o.name?.name ?? i} of ${owner}`),
    );
  }

  private runBody(body: readonly A.Stmt[], scope: Scope, act: Activation, span: Span): Val {
    if (++this.depth > MAX_DEPTH)
      fail(
        ShapeCodes.RecursionLimit,
        `blocks nest deeper than ${MAX_DEPTH} calls`,
        span,
        [],
        "a block probably instantiates itself",
      );
    try {
      const signal = this.execAll(body, scope, act);
      if (!signal) fail(CheckCodes.MissingReturn, "this body ends without a `return`", span);
      if (signal.returned.kind === "poison") throw new PoisonedValueError();
      return signal.returned;
    } finally {
      this.depth--;
    }
  }

  // ---- statements ----

  private execAll(stmts: readonly A.Stmt[], scope: Scope, act: Activation): Signal {
    for (const s of stmts) {
      const signal = this.recovering(s, scope, () => this.exec(s, scope, act));
      if (signal) return signal;
    }
    return undefined;
  }

  /** Errors of failed statements, kept while elaboration goes on with the next statement. */
  private readonly errors: Diagnostic[] = [];
  /** Off while an uncalled layer runs on placeholder inputs: its failure is a note of the layer's warning. */
  private recover = true;
  /** On while a block is checked on symbolic sizes (checkBlock): weights may then have symbolic shapes. */
  private symbolicSizes = false;
  /** See ElaborateOptions.symbolicParams. */
  private symbolicParams = false;
  /** A model parameter became a symbol: a step that needs its concrete value is not the user's error (NET2006 is). */
  private tookSymbols = false;

  /**
   * Runs one statement. When it fails, its error is kept, the names it would have bound are poisoned (their uses
   * fail without a diagnostic of their own, so one mistake is reported once), and the caller goes on with the next
   * statement. A failed `return`, or a failed `assert` (what follows it assumes it holds), ends the body with
   * poison. Recursion limits stop everything: going on would only repeat them.
   */
  private recovering(s: A.Stmt, scope: Scope, run: () => Signal): Signal {
    if (!this.recover) return run();
    try {
      return run();
    } catch (e) {
      if (!(e instanceof DiagnosticError) || e.diagnostics.some((d) => d.code === ShapeCodes.RecursionLimit.code))
        throw e;
      this.keep(e.diagnostics);
      if (this.errors.length >= Elaborator.MAX_ERRORS) throw new DiagnosticError(this.errors);
      poisonBindings(s, scope);
      return s.kind === "Return" || s.kind === "Assert" ? { returned: POISON } : undefined;
    }
  }

  /** Past this many errors elaboration stops: later ones are mostly consequences. */
  static readonly MAX_ERRORS = 50;

  /** Keeps errors, once per place and code: a statement in a loop or in a block used many times fails each time. */
  private keep(diagnostics: readonly Diagnostic[]): void {
    for (const d of diagnostics)
      if (
        !(this.tookSymbols && SYMBOLIC_LIMITS.has(d.code)) &&
        !this.errors.some((k) => k.code === d.code && k.span?.file === d.span?.file && k.span?.start === d.span?.start)
      )
        this.errors.push(d);
  }

  private exec(s: A.Stmt, scope: Scope, act: Activation): Signal {
    switch (s.kind) {
      case "Param":
        this.declareParam(s, scope, act);
        return;
      case "Layer":
        this.declareLayer(s, scope, act);
        return;
      case "Let": {
        const v = this.evalExpr(s.value, scope, act);
        if (s.type) matchType(this, s.type, v, scope, s.value.span, true, `'${patternText(s.pattern)}'`);
        this.bindPattern(s.pattern, v, scope, s.value.span, "define");
        if (act.kind !== "fn") this.tapSelection?.offerBinding(s.pattern, v, act.path);
        return;
      }
      case "Assign": {
        let v = this.evalExpr(s.value, scope, act);
        if (s.op !== "=") {
          if (s.target.kind !== "NamePattern")
            fail(CheckCodes.MisplacedStatement, `${s.op} needs a single name on the left`, s.target.span);
          const cur = this.lookup(s.target.name, s.target.span, scope);
          v = binary(this, s.op[0] as A.BinaryOp, cur, v, s.span, s.span, act);
        }
        this.bindPattern(s.target, v, scope, s.value.span, "assign");
        if (act.kind !== "fn") this.tapSelection?.offerBinding(s.target, v, act.path);
        return;
      }
      case "If": {
        const c = expectBool(this.evalExpr(s.cond, scope, act), s.cond.span, "the condition");
        const branch = c ? s.then : s.else;
        return branch ? this.execAll(branch, new Scope(scope), act) : undefined;
      }
      case "For": {
        const items = this.iterate(this.evalExpr(s.iterable, scope, act), s.iterable.span);
        for (const item of items) {
          const inner = new Scope(scope);
          inner.define(s.variable.name, item, s.variable.span);
          const signal = this.execAll(s.body, inner, act);
          if (signal) return signal;
        }
        return;
      }
      case "Return":
        return { returned: this.evalExpr(s.value, scope, act) };
      case "Tap": {
        const v = expectTensor(this.evalExpr(s.value, scope, act), s.value.span, "a tapped value");
        const local = s.index
          ? `${s.name.name}.${expectInt(this.evalExpr(s.index, scope, act), s.index.span, "a tap index")}`
          : s.name.name;
        const name = act.path ? `${act.path}/${local}` : local;
        if (this.tapNames.has(name))
          fail(CheckCodes.DuplicateDefinition, `tap '${name}' is defined twice`, s.name.span);
        this.tapNames.add(name);
        this.builder.tap(name, v, s.span);
        this.tapSelection?.offer(name, { kind: "tensor", v }, s.span);
        return;
      }
      case "Assert": {
        const ok = expectBool(this.evalExpr(s.cond, scope, act), s.cond.span, "an assert condition");
        if (!ok) {
          const msg = s.message
            ? expectString(this.evalExpr(s.message, scope, act), s.message.span, "an assert message")
            : `assertion failed: ${exprText(s.cond)}`;
          fail(ShapeCodes.AssertionFailed, msg, s.cond.span);
        }
        return;
      }
      case "Print": {
        const shown = s.args.map((a) => {
          if (a.name)
            fail(
              CheckCodes.UnknownArgument,
              `print takes values, not named arguments ('${a.name.name} =')`,
              a.name.span,
            );
          const value = this.evalExpr(a.value, scope, act);
          const literal = a.value.kind === "String" || a.value.kind === "Number" || a.value.kind === "Bool";
          return literal ? (value.kind === "string" ? value.v : show(value)) : `${exprText(a.value)} = ${show(value)}`;
        });
        this.print(shown.join(", ") + (act.path ? ` (in ${act.path})` : ""), s.span);
        return;
      }
      case "Weights":
        if (act.kind !== "model")
          fail(CheckCodes.MisplacedStatement, "`weights { ... }` belongs in the model body", s.span);
        for (const r of s.rules)
          this.weightRules.push({
            verb: r.verb.name,
            args: r.args.map((e) => this.evalExpr(e, scope, act)),
            span: r.span,
            ...(s.name ? { set: s.name.name } : {}),
          });
        return;
      case "Preprocess": // checked by the preprocess-fields rule before elaboration
        this.builder.graph.preprocess = readPreprocess(s).spec;
        return;
    }
  }

  /** Past this many, prints are counted rather than kept: a print in a loop must not flood the terminal. */
  static readonly MAX_PRINTED = 100;
  private printsDropped = 0;
  /** Off while an uncalled layer runs on placeholder inputs. */
  private showPrints = true;

  readonly print = (text: string, span: Span): void => {
    if (!this.showPrints) return;
    if (this.printed.length < Elaborator.MAX_PRINTED) this.printed.push(makeDiagnostic(ShapeCodes.Printed, text, span));
    else
      this.printed[this.printed.length - 1].related[0] = {
        message: `${++this.printsDropped} more print${this.printsDropped === 1 ? "" : "s"} not shown`,
      };
  };

  private declareParam(s: A.ParamStmt, scope: Scope, act: Activation): void {
    if (act.kind === "fn")
      fail(
        CheckCodes.MisplacedStatement,
        "a fn cannot own weights: declare the param in a block",
        s.span,
        [],
        "turn the fn into a block and instantiate it with `layer`",
      );
    if (s.type.kind !== "TensorType")
      fail(ShapeCodes.TypeMismatch, "a param needs a tensor type such as f32[768, 96]", s.type.span);
    const dtype = this.dtypeOf(s.type.dtype, s.type.span);
    const shape = s.type.dims.flatMap((d) => {
      if (d.kind === "DimRest" && d.name) {
        // `*kernel` splices a list of ints bound in scope.
        const list = this.lookup(d.name, d.span, scope);
        return expectList(list, d.span, `*${d.name}`).map((x) => this.paramDim(x, d.span));
      }
      if (d.kind !== "Dim") fail(ShapeCodes.BadDimension, "a param needs every dimension spelled out", d.span);
      return [this.paramDim(this.evalExpr(d.expr, scope, act), d.span)];
    });
    const segment = s.weightName ? this.weightName(s.weightName, scope, act) : s.name.name;
    const path = act.path ? `${act.path}.${segment}` : segment;
    const nameSpan = s.weightName?.span ?? s.name.span;
    const first = act.declared.get(`param:${path}`);
    if (first) {
      // The same statement again is a loop declaring one fixed name on every pass.
      const again = first.start === nameSpan.start && first.file === nameSpan.file;
      fail(
        CheckCodes.DuplicateDefinition,
        `weight '${path}' is declared twice`,
        nameSpan,
        [
          {
            message: again ? "first declared here, by an earlier pass of the loop" : "first declared here",
            span: first,
          },
        ],
        'the weights of one block need distinct names; in a loop, compute one per pass: `param w: ... named "w" + str(i)`',
      );
    }
    act.declared.set(`param:${path}`, nameSpan);
    let v = this.params.get(path);
    if (v) {
      if (v.dtype !== dtype || !dimsEqual(v.shape, shape))
        fail(
          ShapeCodes.ShapeMismatch,
          `param ${path} is declared again with ${dtype}${shapeToString(shape)}, first as ${v.dtype}${shapeToString(v.shape)}`,
          s.span,
          provenance(v),
        );
    } else {
      const init = s.init ? constantFromList(this.evalExpr(s.init, scope, act), s.init.span, dtype) : undefined;
      if (init && !dimsEqual(init.shape, shape))
        fail(
          ShapeCodes.ShapeMismatch,
          `the initial value has shape ${shapeToString(init.shape)}, the param ${shapeToString(shape)}`,
          s.init!.span,
        );
      const layerSpan = isStdlibFile(s.span.file) ? this.userLayerSpan(act.path) : undefined;
      const staticShape = shape.filter(isStatic);
      // A weight of symbolic size exists only while a block is checked on symbolic sizes: an input stands for it.
      v =
        staticShape.length === shape.length
          ? this.builder.param(
              {
                path,
                dtype,
                shape: staticShape,
                span: s.span,
                unused: false,
                init,
                ...(layerSpan ? { layerSpan } : {}),
              },
              { span: s.span, scope: act.path },
            )
          : this.builder.input(path, dtype, shape, { span: s.span, scope: act.path });
      this.params.set(path, v);
    }
    scope.define(s.name.name, { kind: "tensor", v }, s.name.span);
  }

  /** The innermost `layer` statement outside the standard library that encloses the layer at `path`. */
  private userLayerSpan(path: string): Span | undefined {
    const segments = path.split(".");
    for (let n = segments.length; n > 0; n--) {
      const span = this.layerRegistry.get(segments.slice(0, n).join("."))?.span;
      if (span && !isStdlibFile(span.file)) return span;
    }
    return undefined;
  }

  /** `named <expr>`: one path segment, as torch's register_parameter requires (non-empty, no '.'). */
  private weightName(e: A.Expr, scope: Scope, act: Activation): string {
    const name = expectString(this.evalExpr(e, scope, act), e.span, "a weight name");
    if (name === "") fail(ShapeCodes.BadWeightName, "the weight name is empty", e.span);
    if (name.includes("."))
      fail(ShapeCodes.BadWeightName, `the weight name ${JSON.stringify(name)} contains '.'`, e.span);
    return name;
  }

  private listElements = 0;

  spendListElements(n: number, span: Span): void {
    this.listElements += Math.max(0, n);
    if (this.listElements > MAX_LIST_ELEMENTS)
      fail(
        ShapeCodes.TooLarge,
        `compile-time lists have grown past ${MAX_LIST_ELEMENTS} elements in all`,
        span,
        [],
        "nested ranges multiply: build large constants with full(...) or arange(...), or compute them in the graph",
      );
  }

  private paramDim(v: Val, span: Span): Dim {
    if (this.symbolicSizes && v.kind === "int" && !isStatic(v.v)) return v.v;
    const n = expectInt(v, span, "a param dimension");
    if (n < 0 || n > 2 ** 34) fail(ShapeCodes.BadDimension, `param dimension ${n} is out of range`, span);
    return n;
  }

  private declareLayer(s: A.LayerStmt, scope: Scope, act: Activation): void {
    if (act.kind === "fn") fail(CheckCodes.MisplacedStatement, "a fn cannot own layers: use a block", s.span);
    const keys = s.path.map((seg) =>
      seg.kind === "Name"
        ? seg.name
        : String(expectInt(this.evalExpr(seg.expr, scope, act), seg.span, "a layer index")),
    );
    const rel = keys.join(".");
    const path = act.path ? `${act.path}.${rel}` : rel;
    if (act.declared.has(`layer:${path}`))
      fail(CheckCodes.DuplicateDefinition, `layer '${rel}' is declared twice`, s.span);
    act.declared.set(`layer:${path}`, s.span);
    if (s.init.kind !== "Call")
      fail(
        ShapeCodes.TypeMismatch,
        "a layer is declared from a block call, e.g. `layer fc = Linear(768, 10)`",
        s.init.span,
      );
    const callee = this.evalExpr(s.init.callee, scope, act);
    if (callee.kind !== "block")
      fail(
        ShapeCodes.TypeMismatch,
        `a layer is made from a block, but ${exprText(s.init.callee)} is ${describeKind(callee)}`,
        s.init.callee.span,
      );
    const layer =
      this.layerRegistry.get(path) ??
      this.instantiate(
        callee.decl,
        this.evalArgs(s.init.args, scope, act),
        path,
        s.span,
        this.layerRegistry.get(act.path),
      );
    this.layerRegistry.set(path, layer);
    this.observe?.(s.init.span, { kind: "layer", layer }, act.path);
    // File the instance in the activation's namespace tree: `layer a.b[2]` makes a -> b -> "2".
    let ns = act.layers;
    let nsPath = act.path;
    keys.forEach((k, i) => {
      nsPath = nsPath ? `${nsPath}.${k}` : k;
      if (i === keys.length - 1) return void ns.set(k, { kind: "layer", layer });
      let next = ns.get(k);
      if (next?.kind !== "ns") {
        next = { kind: "ns", path: nsPath, entries: new Map() };
        ns.set(k, next);
      }
      ns = next.entries;
    });
    const root = act.layers.get(keys[0])!;
    scope.define(keys[0], root, s.path[0].span);
  }

  private bindPattern(p: A.Pattern, v: Val, scope: Scope, span: Span, how: "define" | "assign"): void {
    if (p.kind === "NamePattern") {
      if (p.name === "_") return;
      if (how === "define") scope.define(p.name, v, p.span);
      else if (!scope.assign(p.name, v))
        fail(
          CheckCodes.UnknownName,
          `'${p.name}' is assigned before it is defined`,
          p.span,
          [],
          `write \`let ${p.name} = ...\` first`,
        );
      return;
    }
    if (v.kind !== "tuple" && v.kind !== "list")
      fail(ShapeCodes.TypeMismatch, `cannot unpack ${describeKind(v)} into ${p.elements.length} names`, span);
    if (v.items.length !== p.elements.length)
      fail(ShapeCodes.TypeMismatch, `cannot unpack ${v.items.length} values into ${p.elements.length} names`, span);
    p.elements.forEach((e, i) => this.bindPattern(e, v.items[i], scope, span, how));
  }

  private iterate(v: Val, span: Span): Val[] {
    if (v.kind === "list" || v.kind === "tuple") return v.items;
    fail(
      ShapeCodes.TypeMismatch,
      `cannot loop over ${describeKind(v)}`,
      span,
      [],
      "loop over a range `0..n` or a list",
    );
  }

  // ---- expressions ----

  private lookup(name: string, span: Span, scope: Scope): Val {
    const found = scope.lookup(name);
    if (found?.value.kind === "poison") throw new PoisonedValueError();
    if (found) return found.value;
    if (callableSignature(name)) return { kind: "builtin", name };
    if ((DTYPES as readonly string[]).includes(name)) return { kind: "dtype", v: name as DType };
    if (name === "pi") return float(Math.PI);
    if (name === "none") return NONE;
    const candidates = [...scope.names(), ...callableNames()];
    const near = closestName(name, candidates);
    fail(CheckCodes.UnknownName, `'${name}' is not defined`, span, [], near ? `did you mean '${near}'?` : undefined);
  }

  evalArgs(args: readonly A.Arg[], scope: Scope, act: Activation): CallArg[] {
    return args.map((a) => ({ name: a.name?.name, value: this.evalExpr(a.value, scope, act), span: a.value.span }));
  }

  origin(span: Span, act: Activation): Origin {
    return { span, scope: act.path, construct: act.construct };
  }

  /**
   * Evaluates `e`, counting how deeply evaluations nest across blocks: each block call adds the depth of the
   * expression that calls it, so blocks within blocks could exhaust the stack though each body is shallow.
   */
  evalExpr(e: A.Expr, scope: Scope, act: Activation): Val {
    if (this.evalDepth >= MAX_EVAL_DEPTH)
      fail(
        ShapeCodes.RecursionLimit,
        `expressions and block calls nest more than ${MAX_EVAL_DEPTH} deep here`,
        e.span,
        [],
        "name intermediate results with `let`, or nest fewer blocks; a block may be instantiating itself",
      );
    this.evalDepth++;
    try {
      const value = this.evaluate(e, scope, act);
      this.observe?.(e.span, value, act.path);
      return value;
    } finally {
      this.evalDepth--;
    }
  }

  private evaluate(e: A.Expr, scope: Scope, act: Activation): Val {
    switch (e.kind) {
      case "Number":
        if (!Number.isFinite(e.value)) fail(SyntaxCodes.BadNumber, `the number ${e.raw} is out of range`, e.span);
        if (!e.isFloat && !Number.isSafeInteger(e.value))
          fail(SyntaxCodes.BadNumber, `the integer ${e.raw} is too large`, e.span, [], "integers must be below 2^53");
        return e.isFloat ? float(e.value) : int(e.value);
      case "String":
        return { kind: "string", v: e.value };
      case "Bool":
        return bool(e.value);
      case "Name":
        return this.lookup(e.name, e.span, scope);
      case "List":
        return { kind: "list", items: e.elements.map((x) => this.evalExpr(x, scope, act)) };
      case "ListComp": {
        const items = this.iterate(this.evalExpr(e.iterable, scope, act), e.iterable.span);
        return {
          kind: "list",
          items: items.map((item) => {
            const inner = new Scope(scope);
            inner.define(e.variable.name, item, e.variable.span);
            return this.evalExpr(e.element, inner, act);
          }),
        };
      }
      case "Tuple":
        return { kind: "tuple", items: e.elements.map((x) => this.evalExpr(x, scope, act)) };
      case "Unary": {
        const v = this.evalExpr(e.operand, scope, act);
        if (e.op === "not") {
          if (v.kind === "tensor")
            return { kind: "tensor", v: this.emit.op1("not", {}, [v.v], this.origin(e.span, act)) };
          return bool(!expectBool(v, e.operand.span, "the operand of not"));
        }
        if (v.kind === "int") return int(dimNeg(v.v));
        if (v.kind === "float") return float(-v.v);
        return {
          kind: "tensor",
          v: this.emit.op1("neg", {}, [expectTensor(v, e.operand.span, "the operand of -")], this.origin(e.span, act)),
        };
      }
      case "Binary": {
        if (e.op === "and" || e.op === "or") {
          const l = this.evalExpr(e.left, scope, act);
          if (l.kind === "bool") {
            if (e.op === "and" && !l.v) return l;
            if (e.op === "or" && l.v) return l;
            return bool(expectBool(this.evalExpr(e.right, scope, act), e.right.span, `the right side of ${e.op}`));
          }
          const r = this.evalExpr(e.right, scope, act);
          return binary(this, e.op, l, r, e.span, e.opSpan, act);
        }
        return binary(
          this,
          e.op,
          this.evalExpr(e.left, scope, act),
          this.evalExpr(e.right, scope, act),
          e.span,
          e.opSpan,
          act,
        );
      }
      case "Cond":
        return expectBool(this.evalExpr(e.cond, scope, act), e.cond.span, "the condition")
          ? this.evalExpr(e.then, scope, act)
          : this.evalExpr(e.else, scope, act);
      case "Range": {
        const a = expectInt(this.evalExpr(e.start, scope, act), e.start.span, "a range start");
        const b = expectInt(this.evalExpr(e.end, scope, act), e.end.span, "a range end");
        if (b - a > MAX_RANGE)
          fail(ShapeCodes.TooLarge, `the range ${a}..${b} has more than ${MAX_RANGE} elements`, e.span);
        this.spendListElements(b - a, e.span);
        const items: Val[] = [];
        for (let i = a; i < b; i++) items.push(int(i));
        return { kind: "list", items };
      }
      case "Member":
        return member(this, this.evalExpr(e.target, scope, act), e, act);
      case "Index":
        return index(this, this.evalExpr(e.target, scope, act), e, scope, act);
      case "Call":
        return this.call(e, scope, act);
      case "SplitIndex":
      case "Lift":
        return CONSTRUCTS[e.kind === "Lift" ? "lift" : "split_index"].evalSyntax!(this, e, scope, act);
    }
  }

  private call(e: A.CallExpr, scope: Scope, act: Activation): Val {
    const callee = this.evalExpr(e.callee, scope, act);
    const args = this.evalArgs(e.args, scope, act);
    switch (callee.kind) {
      case "layer":
        return this.callLayer(callee.layer, args, e.span, act.construct);
      case "fn":
        return this.callFn(callee.decl, args, e.span, act);
      case "builtin": {
        const construct = Object.hasOwn(CONSTRUCTS, callee.name) ? CONSTRUCTS[callee.name as ConstructName] : undefined;
        if (construct?.call) return construct.call(this, args, e.span, act);
        const b = builtinOf(callee.name)!;
        const ctx: BuiltinContext = {
          emit: this.emit,
          origin: this.origin(e.span, act),
          span: e.span,
          print: this.print,
        };
        return b.impl(ctx, bindArgs(callee.name, b.sig, args, e.span));
      }
      case "block":
        fail(
          ShapeCodes.TypeMismatch,
          `block ${callee.decl.name.name} must be instantiated with a name before it is called`,
          e.span,
          [],
          `write \`layer name = ${callee.decl.name.name}(...)\`, then call \`name(x)\``,
        );
      default:
        fail(
          ShapeCodes.TypeMismatch,
          `${exprText(e.callee)} is ${describeKind(callee)}, which cannot be called`,
          e.callee.span,
        );
    }
  }

  private dtypeOf(name: string, span: Span): DType {
    if ((DTYPES as readonly string[]).includes(name)) return name as DType;
    fail(CheckCodes.UnknownName, `unknown element type '${name}'`, span, [], `element types: ${DTYPES.join(", ")}`);
  }

  /** Used by constructs to run user code for a nested scope. */
  newScope(parent: Scope): Scope {
    return new Scope(parent);
  }
}

function zeros(dtype: DType, shape: number[]): HostTensor {
  return {
    dtype,
    shape,
    data: allocData(
      dtype,
      shape.reduce((a, b) => a * b, 1),
    ),
  };
}

function dimsEqual(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => dimEq(d, b[i]));
}

function mentions(type: A.TensorTypeExpr, name: string): boolean {
  return type.dims.some((d) => d.kind === "Dim" && d.expr.kind === "Name" && d.expr.name === name);
}

/** Poisons what a failed statement would have bound: its definitions, and the variables it (or its branches) assigns. */
/** Errors that elaborating on symbols can cause where concrete arguments would not: the block is not checked. */
const SYMBOLIC_LIMITS = new Set(
  [
    ShapeCodes.NotCompileTime,
    ShapeCodes.NotDivisible,
    ShapeCodes.AssertionFailed,
    ShapeCodes.TooLarge,
    ShapeCodes.RecursionLimit,
  ].map((c) => c.code),
);
