// The symbolic check of blocks no model uses (`netc check`): a block runs on symbols standing for its parameters and
// input sizes, and its errors are reported, or a note says why it can only be checked where a model uses it.
import type * as A from "../../dsl/1-parse/ast.js";
import { makeDiagnostic, ShapeCodes } from "../../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError, type Span } from "../../diagnostics/diagnostics.js";
import { DTYPES, type DType } from "../../util/tensor.js";
import { type Dim, sym } from "../ir/dim.js";
import type { CallArg } from "./call-binding.js";
import { int, type Val } from "./values.js";
import { rootActivation, Scope } from "./scope.js";
import type { Elaborator, ValueObserver } from "./elaborate.js";
import { checkedDim } from "./model-entry.js";

/**
 * Elaborates a block no model instantiates, on symbolic arguments (docs/language.md, "What netc check checks"):
 * compile-time parameters without a default become symbols (ints and dims) named like them, the others take
 * their defaults; tensor inputs get their declared shapes with unbound dimension names as symbols (a `...` or
 * `*N` as one dimension) and element type variables as f32. Returns the errors found, or why the block cannot be
 * checked so: a parameter that cannot be a symbol, or a step that needs a concrete value.
 */
export function checkOnSymbols(
  el: Elaborator,
  decl: A.BlockDecl,
  observe?: ValueObserver,
): { errors: Diagnostic[] } | { uncheckable: Diagnostic } {
  el.symbolicSizes = true;
  el.observe = observe;
  const scope = new Scope(el.globals);
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
    if (p.type.kind === "TensorType") return symbolicTensor(el, p.type, scope, p.span);
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
    const layer = el.instantiate(decl, args, decl.name.name, decl.name.span);
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
    el.callLayer(layer, inputs, decl.name.span);
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    el.keep(e.diagnostics);
  }
  const limit = el.errors.find((d) => SYMBOLIC_LIMITS.has(d.code));
  if (limit)
    return uncheckable(
      `on symbolic sizes, ${limit.message}`,
      limit.span ?? decl.name.span,
      "a concrete value is needed here",
    );
  return { errors: el.errors };
}

/** A tensor input of a checked block: its declared shape, unbound dimension names as symbols (see checkBlock). */
export function symbolicTensor(el: Elaborator, type: A.TensorTypeExpr, scope: Scope, span: Span): Val {
  const shape = type.dims.map((d, i): Dim => {
    if (d.kind === "DimAny") return sym(`_${i}`);
    if (d.kind === "DimRest") return sym(d.name ?? `rest${i}`);
    if (d.expr.kind === "Name" && !scope.lookup(d.expr.name)) {
      scope.define(d.expr.name, int(sym(d.expr.name)), d.span);
      return sym(d.expr.name);
    }
    return checkedDim(el.evalExpr(d.expr, scope, rootActivation()), d.span);
  });
  const dtype = (DTYPES as readonly string[]).includes(type.dtype) ? (type.dtype as DType) : "f32";
  return {
    kind: "tensor",
    v: el.builder.input(`input_${el.builder.graph.inputs.length}`, dtype, shape, { span, scope: "" }),
  };
}

/** Errors that elaborating on symbols can cause where concrete arguments would not: the block is not checked. */
export const SYMBOLIC_LIMITS = new Set(
  [
    ShapeCodes.NotCompileTime,
    ShapeCodes.NotDivisible,
    ShapeCodes.AssertionFailed,
    ShapeCodes.TooLarge,
    ShapeCodes.RecursionLimit,
  ].map((c) => c.code),
);
