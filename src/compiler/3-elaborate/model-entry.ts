// The model's entry: binds its configuration and `--set` values, makes its inputs (free dimension names become the
// graph's symbols), runs its body, binds its outputs, then declares the layers it never called.
import type * as A from "../../dsl/1-parse/ast.js";
import { CheckCodes, ShapeCodes } from "../../diagnostics/codes.js";
import type { Span } from "../../diagnostics/diagnostics.js";
import { type Dim, isStatic, sym } from "../ir/dim.js";
import { expectDim, expectTensor, fail } from "./context.js";
import { int, type Val } from "./values.js";
import { rootActivation, Scope } from "./scope.js";
import { matchType } from "./type-matching.js";
import type { ElaborateOptions, ElaborateResult, Elaborator } from "./elaborate.js";
import { declareUncalledLayers } from "./uncalled-layers.js";
import { markedLayers } from "./unused-marks.js";

export function runModel(el: Elaborator, opts: ElaborateOptions): ElaborateResult {
  const m = el.model;
  if (!m) throw new Error("an elaborator made for checking blocks has no model to run");
  el.tapSelection = opts.taps;
  el.observe = opts.observe;
  el.symbolicParams = opts.symbolicParams ?? false;
  const scope = new Scope(el.globals);
  const overrides = new Map(opts.overrides ?? []);
  const config = el.bindConfig(m.config, scope, overrides, m.name.name);
  const freeDims = new Map<string, Dim>();
  for (const [name, o] of overrides) {
    const v = el.evalExpr(o.expr, scope, rootActivation());
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
    const shape = modelInputShape(el, p.type, inputs, freeDims);
    const dtype = el.dtypeOf(p.type.dtype, p.type.span);
    const v = el.builder.input(p.name.name, dtype, shape, { span: p.span, scope: "" });
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
  el.builder.graph.symbols = [
    ...new Set(
      el.builder.graph.inputs.flatMap((i) =>
        i.value.shape.flatMap((d) =>
          isStatic(d) ? [] : [...d.terms.keys()].flatMap((k) => k.split("*")).filter((s) => s !== ""),
        ),
      ),
    ),
  ];
  const result = el.runBody(m.body, inputs, act, m.span);
  bindOutputs(el, m, result, inputs);
  const uncalled = declareUncalledLayers(el);
  return { graph: el.builder.graph, weightRules: el.weightRules, config, ...uncalled, unusedLayers: markedLayers(el) };
}

export function modelInputShape(el: Elaborator, type: A.TensorTypeExpr, scope: Scope, free: Map<string, Dim>): Dim[] {
  return type.dims.map((d) => {
    if (d.kind !== "Dim")
      fail(ShapeCodes.BadDimension, "model inputs need every dimension spelled out (no `...`, `*N` or `_`)", d.span);
    if (d.expr.kind === "Name" && !scope.lookup(d.expr.name)) {
      const dim = free.get(d.expr.name) ?? sym(d.expr.name);
      scope.define(d.expr.name, int(dim), d.span);
      return dim;
    }
    return checkedDim(el.evalExpr(d.expr, scope, rootActivation()), d.span);
  });
}

export function checkedDim(v: Val, span: Span): Dim {
  const d = expectDim(v, span, "a dimension");
  if (isStatic(d) && (d < 0 || d > 2 ** 40))
    fail(ShapeCodes.BadDimension, `dimension ${d} is ${d < 0 ? "negative" : "too large"}`, span);
  return d;
}

export function bindOutputs(el: Elaborator, m: A.ModelDecl, result: Val, scope: Scope): void {
  const values = m.outputs.length === 1 ? [result] : result.kind === "tuple" ? result.items : [result];
  if (values.length !== m.outputs.length)
    fail(
      ShapeCodes.TypeMismatch,
      `model ${m.name.name} declares ${m.outputs.length} outputs but returns ${values.length} values`,
      m.span,
    );
  m.outputs.forEach((o, i) => {
    const v = values[i];
    matchType(el, o.type, v, scope, o.span, false, `output ${o.name?.name ?? i}`);
    el.builder.output(o.name?.name ?? `output_${i}`, expectTensor(v, o.span, "a model output"), o.span);
  });
}

function mentions(type: A.TensorTypeExpr, name: string): boolean {
  return type.dims.some((d) => d.kind === "Dim" && d.expr.kind === "Name" && d.expr.name === name);
}
