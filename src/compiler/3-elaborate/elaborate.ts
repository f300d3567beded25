// Elaboration: runs a model's `.net` code at compile time, with tensors as symbolic IR values, producing a flat
// graph. Compile-time control flow (if, for, lists, parameters) is evaluated here; shapes are checked per node.
// This file holds the elaborator's state, statements, expressions and calls; the files beside it hold its other
// jobs, reading and writing that state: the model's entry (model-entry.ts), `param` and `layer` declarations
// (declarations.ts), layers declared but never called (uncalled-layers.ts), the symbolic check of blocks no model
// uses (block-check.ts).
import type * as A from "../../dsl/1-parse/ast.js";
import { CheckCodes, makeDiagnostic, ShapeCodes, SyntaxCodes } from "../../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError, type Span } from "../../diagnostics/diagnostics.js";
import { closestName } from "../../util/suggest.js";
import { DTYPES, type DType } from "../../util/tensor.js";
import { GraphBuilder } from "../ir/builder.js";
import { dimNeg, sym } from "../ir/dim.js";
import type { Graph, Value as IrValue } from "../ir/ir.js";
import { callableNames, callableSignature, type ConstructName } from "../../dsl/signatures/builtins.js";
import { builtinOf, type BuiltinContext } from "./builtins/index.js";
import { bindArgs, type CallArg } from "./call-binding.js";
import { CONSTRUCTS } from "./constructs.js";
import {
  Emitter,
  expectBool,
  expectInt,
  expectString,
  expectTensor,
  fail,
  type Origin,
  PoisonedValueError,
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
import { checkOnSymbols, SYMBOLIC_LIMITS } from "./block-check.js";
import { declareLayer, declareParam } from "./declarations.js";
import { runModel } from "./model-entry.js";
import type { CallTrace, LayerCallMemo } from "./layer-memo.js";

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
  /** Layer calls of the previous elaboration of an edited program, replayed where nothing they read changed. */
  layerCalls?: LayerCallMemo;
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
  readonly globals = new Scope();
  readonly builder: GraphBuilder;
  readonly emit: Emitter;
  readonly params = new Map<string, IrValue>();
  readonly layerRegistry = new Map<string, LayerInstance>();
  readonly calledLayers = new Set<string>();
  readonly tapNames = new Set<string>();
  readonly weightRules: WeightRuleUse[] = [];
  private depth = 0;
  private evalDepth = 0;
  /** The deepest body and expression nesting reached (LayerCallMemo: a replayed call must fit the limits). */
  readonly nesting = { depthHigh: 0, evalHigh: 0 };
  tapSelection?: TapSelection;
  observe?: ValueObserver;
  /** What `print` showed, in order (NET3016 notes); the caller keeps them also when elaboration fails later. */
  readonly printed: Diagnostic[] = [];
  /** With ElaborateOptions.layerCalls: what this elaboration's calls did, to record and replay them. */
  trace?: CallTrace;

  constructor(
    private readonly items: readonly (A.BlockDecl | A.FnDecl | A.ModelDecl)[],
    /** Absent when the elaborator only checks blocks (checkBlock). */
    readonly model?: A.ModelDecl,
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
    // A tap selection is told values as calls make them: replaying a call would not tell it.
    this.trace = opts.taps ? undefined : opts.layerCalls?.begin();
    const trace = this.trace;
    if (trace) trace.forward = opts.observe;
    const observe: ValueObserver | undefined =
      trace && opts.observe
        ? (span, value, path) => {
            trace.observations.push([span, value, path]);
            opts.observe!(span, value, path);
          }
        : opts.observe;
    try {
      const result = runModel(this, { ...opts, observe });
      if (this.errors.length) throw new DiagnosticError(this.errors);
      return result;
    } catch (e) {
      if (!(e instanceof DiagnosticError) || e.diagnostics === this.errors) throw e;
      this.keep(e.diagnostics);
      throw new DiagnosticError(this.errors);
    } finally {
      opts.layerCalls?.end();
    }
  }

  /** Elaborates a block no model instantiates on symbolic arguments (see ./block-check.ts). */
  checkBlock(decl: A.BlockDecl, observe?: ValueObserver): { errors: Diagnostic[] } | { uncheckable: Diagnostic } {
    return checkOnSymbols(this, decl, observe);
  }

  /** The blocks the model instantiated, so that those it does not use can be checked on their own. */
  instantiatedBlocks(): Set<A.BlockDecl> {
    return new Set([...this.layerRegistry.values()].map((l) => l.decl));
  }

  // ---- configuration and signatures ----

  bindConfig(
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

  instantiate(decl: A.BlockDecl, args: CallArg[], path: string, span: Span, parent?: LayerInstance): LayerInstance {
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
    this.calledLayers.add(layer.path);
    if (!this.trace) return this.runLayer(layer, args, span, construct);
    this.trace.called.push(layer.path);
    return this.trace.call(this, { layer }, args, span, construct, () => this.runLayer(layer, args, span, construct));
  }

  private runLayer(layer: LayerInstance, args: CallArg[], span: Span, construct?: string): Val {
    const decl = layer.decl;
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
    if (!this.trace) return this.runFn(decl, args, span, caller);
    const fn = { fn: decl, path: caller.path };
    return this.trace.call(this, fn, args, span, caller.construct, () => this.runFn(decl, args, span, caller));
  }

  private runFn(decl: A.FnDecl, args: CallArg[], span: Span, caller: Activation): Val {
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

  runBody(body: readonly A.Stmt[], scope: Scope, act: Activation, span: Span): Val {
    if (++this.depth > this.nesting.depthHigh) this.nesting.depthHigh = this.depth;
    if (this.depth > MAX_DEPTH)
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
  readonly errors: Diagnostic[] = [];
  /** Off while an uncalled layer runs on placeholder inputs: its failure is a note of the layer's warning. */
  recover = true;
  /** On while a block is checked on symbolic sizes (checkBlock): weights may then have symbolic shapes. */
  symbolicSizes = false;
  /** See ElaborateOptions.symbolicParams. */
  symbolicParams = false;
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
  keep(diagnostics: readonly Diagnostic[]): void {
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
        declareParam(this, s, scope, act);
        return;
      case "Layer":
        declareLayer(this, s, scope, act);
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
  showPrints = true;

  readonly print = (text: string, span: Span): void => {
    if (!this.showPrints) return;
    if (this.printed.length < Elaborator.MAX_PRINTED) this.printed.push(makeDiagnostic(ShapeCodes.Printed, text, span));
    else
      this.printed[this.printed.length - 1].related[0] = {
        message: `${++this.printsDropped} more print${this.printsDropped === 1 ? "" : "s"} not shown`,
      };
  };

  private listElements = 0;

  get listElementsSpent(): number {
    return this.listElements;
  }

  canSpendListElements(n: number): boolean {
    return this.listElements + n <= MAX_LIST_ELEMENTS;
  }

  /** The modes a layer call's elaboration depends on (part of a LayerCallMemo key). */
  memoContext(): string {
    const modes = [this.symbolicSizes, this.symbolicParams, this.tookSymbols, this.recover, this.showPrints];
    return modes.map(Number).join("");
  }

  /** How deep bodies and expressions nest now. */
  get depths(): { depth: number; evalDepth: number } {
    return { depth: this.depth, evalDepth: this.evalDepth };
  }

  /** Whether nesting `depth` more bodies and `evalDepth` more expressions than now stays within the limits. */
  fitsNesting(depth: number, evalDepth: number): boolean {
    return this.depth + depth <= MAX_DEPTH && this.evalDepth + evalDepth <= MAX_EVAL_DEPTH;
  }

  /** The state a reused layer call must not have changed: errors, prints, inputs, outputs, weight rules, preprocess. */
  memoSideEffects(): string {
    const g = this.builder.graph;
    const counts = [this.errors.length, this.printed.length, this.printsDropped, g.inputs.length, g.outputs.length];
    return [...counts, this.weightRules.length, g.preprocess ? 1 : 0].join("/");
  }

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

  lookup(name: string, span: Span, scope: Scope): Val {
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
    if (++this.evalDepth > this.nesting.evalHigh) this.nesting.evalHigh = this.evalDepth;
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

  dtypeOf(name: string, span: Span): DType {
    if ((DTYPES as readonly string[]).includes(name)) return name as DType;
    fail(CheckCodes.UnknownName, `unknown element type '${name}'`, span, [], `element types: ${DTYPES.join(", ")}`);
  }

  /** Used by constructs to run user code for a nested scope. */
  newScope(parent: Scope): Scope {
    return new Scope(parent);
  }
}
