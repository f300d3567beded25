// Layers declared but never called: a warning each, and their bodies run on placeholder inputs so that their
// weights are declared (reported as unused rather than missing); a body that cannot run is undone.
import type * as A from "../../dsl/1-parse/ast.js";
import { CheckCodes, makeDiagnostic } from "../../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError } from "../../diagnostics/diagnostics.js";
import { allocData, DTYPES, type DType, type HostTensor } from "../../util/tensor.js";
import type { CallArg } from "./call-binding.js";
import { expectInt, fail } from "./context.js";
import type { LayerInstance, Val } from "./values.js";
import { rootActivation, Scope } from "./scope.js";
import type { Elaborator } from "./elaborate.js";

/**
 * A layer declared but never called is a warning (unless its statement says `unused layer`), and still owns
 * weights (official modules often hold unused submodules, and their checkpoints the tensors). Its body runs once
 * on placeholder inputs so those weights are declared; the dead nodes are removed later and the weights are
 * reported as unused rather than missing. A body that cannot run on placeholders (an assert on its input sizes,
 * say) declares nothing: the warning says so, and the elaboration of that body is undone.
 */
export function declareUncalledLayers(el: Elaborator): { diagnostics: Diagnostic[]; uncalledLayers: string[] } {
  const diagnostics: Diagnostic[] = [];
  const uncalledLayers: string[] = [];
  for (const [path, layer] of el.layerRegistry) {
    if (el.calledLayers.has(path)) continue;
    // Layers of an uncalled layer's body are part of it, not uncalled layers of their own.
    if (uncalledLayers.some((u) => path.startsWith(`${u}.`))) continue;
    uncalledLayers.push(path);
    el.showPrints = false; // its values are placeholders
    el.recover = false;
    const failure = undoOnFailure(el, () => {
      const scope = new Scope(el.globals);
      for (const [k, v] of layer.config) scope.define(k, v);
      const args: CallArg[] = layer.decl.inputs.map((p) => ({
        name: p.name.name,
        value: placeholder(el, p, scope),
        span: p.span,
      }));
      el.callLayer(layer, args, layer.span);
    });
    el.showPrints = true;
    el.recover = true;
    const unused = `layer '${path}' is declared but never called`;
    if (!failure) {
      if (markedUnused(layer)) continue; // `unused layer`: declared for the checkpoint, uncalled on purpose
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
          hint:
            `call it, or remove it; a checkpoint's tensors under '${path}.' then match no weight: leave ` +
            `them out with \`weights { drop_regex "${path.replace(/\./g, "[.]")}[.].*" }\``,
        },
      ),
    );
  }
  return { diagnostics, uncalledLayers };
}

function markedUnused(layer: LayerInstance): boolean {
  for (let l: LayerInstance | undefined = layer; l; l = l.parent) if (l.unused) return true;
  return false;
}

/** Runs `work`; if it fails with a diagnostic, removes what it added to the graph and returns the diagnostic. */
export function undoOnFailure(el: Elaborator, work: () => void): Diagnostic | undefined {
  const graph = el.builder.graph;
  const [nodes, params, taps] = [graph.nodes.length, graph.params.length, graph.taps.length];
  const [paramPaths, layers, called, tapNames] = [
    new Set(el.params.keys()),
    new Set(el.layerRegistry.keys()),
    new Set(el.calledLayers),
    new Set(el.tapNames),
  ];
  try {
    work();
    return undefined;
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    graph.nodes.length = nodes;
    graph.params.length = params;
    graph.taps.length = taps;
    for (const p of [...el.params.keys()]) if (!paramPaths.has(p)) el.params.delete(p);
    for (const l of [...el.layerRegistry.keys()]) if (!layers.has(l)) el.layerRegistry.delete(l);
    for (const l of [...el.calledLayers]) if (!called.has(l)) el.calledLayers.delete(l);
    for (const t of [...el.tapNames]) if (!tapNames.has(t)) el.tapNames.delete(t);
    return e.diagnostics[0];
  }
}

/** A zero tensor (or the default) fitting a declared input, with unbound dims and runs of dims set to 1. */
export function placeholder(el: Elaborator, p: A.ParamDecl, scope: Scope): Val {
  if (p.default) return el.evalExpr(p.default, scope, rootActivation());
  if (p.type.kind !== "TensorType")
    fail(
      CheckCodes.MissingArgument,
      `layer input '${p.name.name}' needs a default so the uncalled layer's weights can be declared`,
      p.span,
    );
  const shape = p.type.dims.flatMap((d) => {
    if (d.kind !== "Dim") return d.kind === "DimAny" ? [1] : [];
    if (d.expr.kind === "Name" && !scope.lookup(d.expr.name)) return [1];
    return [expectInt(el.evalExpr(d.expr, scope, rootActivation()), d.span, "a dimension")];
  });
  const dtype = (DTYPES as readonly string[]).includes(p.type.dtype) ? (p.type.dtype as DType) : "f32";
  return { kind: "tensor", v: el.builder.constant(zeros(dtype, shape), { span: p.span, scope: "" }) };
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
