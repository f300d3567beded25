// The declaring statements: `param` (a weight, with its path, shape and initial value) and `layer` (a block
// instance, filed in its activation's namespace tree).
import type * as A from "../../dsl/1-parse/ast.js";
import { isStdlibFile } from "../../util/source-paths.js";
import { CheckCodes, ShapeCodes } from "../../diagnostics/codes.js";
import type { Span } from "../../diagnostics/diagnostics.js";
import { type Dim, dimEq, isStatic, shapeToString } from "../ir/dim.js";
import { constantFromList } from "./constant-tensors.js";
import { expectInt, expectList, expectString, fail, provenance } from "./context.js";
import { describeKind, type Val } from "./values.js";
import type { Activation, Scope } from "./scope.js";
import { exprText } from "./source-text.js";
import type { Elaborator } from "./elaborate.js";

export function declareParam(el: Elaborator, s: A.ParamStmt, scope: Scope, act: Activation): void {
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
  const dtype = el.dtypeOf(s.type.dtype, s.type.span);
  const shape = s.type.dims.flatMap((d) => {
    if (d.kind === "DimRest" && d.name) {
      // `*kernel` splices a list of ints bound in scope.
      const list = el.lookup(d.name, d.span, scope);
      return expectList(list, d.span, `*${d.name}`).map((x) => paramDim(el, x, d.span));
    }
    if (d.kind !== "Dim") fail(ShapeCodes.BadDimension, "a param needs every dimension spelled out", d.span);
    return [paramDim(el, el.evalExpr(d.expr, scope, act), d.span)];
  });
  const segment = s.weightName ? weightName(el, s.weightName, scope, act) : s.name.name;
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
      'the weights of one block need distinct names; in a loop, compute one per pass: `param w: ... named "w" + ' +
        "str(i)`",
    );
  }
  act.declared.set(`param:${path}`, nameSpan);
  let v = el.params.get(path);
  if (v) {
    el.trace?.reusedParam(v);
    if (v.dtype !== dtype || !dimsEqual(v.shape, shape))
      fail(
        ShapeCodes.ShapeMismatch,
        `param ${path} is declared again with ${dtype}${shapeToString(shape)}, first as ` +
          `${v.dtype}${shapeToString(v.shape)}`,
        s.span,
        provenance(v),
      );
  } else {
    const init = s.init ? constantFromList(el.evalExpr(s.init, scope, act), s.init.span, dtype) : undefined;
    if (init && !dimsEqual(init.shape, shape))
      fail(
        ShapeCodes.ShapeMismatch,
        `the initial value has shape ${shapeToString(init.shape)}, the param ${shapeToString(shape)}`,
        s.init!.span,
      );
    const layerSpan = isStdlibFile(s.span.file) ? userLayerSpan(el, act.path) : undefined;
    const staticShape = shape.filter(isStatic);
    // A weight of symbolic size exists only while a block is checked on symbolic sizes: an input stands for it.
    v =
      staticShape.length === shape.length
        ? el.builder.param(
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
        : el.builder.input(path, dtype, shape, { span: s.span, scope: act.path });
    el.params.set(path, v);
    el.trace?.declaredParam(path, v);
  }
  scope.define(s.name.name, { kind: "tensor", v }, s.name.span);
}

/** The innermost `layer` statement outside the standard library that encloses the layer at `path`. */
export function userLayerSpan(el: Elaborator, path: string): Span | undefined {
  const segments = path.split(".");
  for (let n = segments.length; n > 0; n--) {
    const span = el.layerRegistry.get(segments.slice(0, n).join("."))?.span;
    if (span && !isStdlibFile(span.file)) return span;
  }
  return undefined;
}

/** `named <expr>`: one path segment, as torch's register_parameter requires (non-empty, no '.'). */
export function weightName(el: Elaborator, e: A.Expr, scope: Scope, act: Activation): string {
  const name = expectString(el.evalExpr(e, scope, act), e.span, "a weight name");
  if (name === "") fail(ShapeCodes.BadWeightName, "the weight name is empty", e.span);
  if (name.includes("."))
    fail(ShapeCodes.BadWeightName, `the weight name ${JSON.stringify(name)} contains '.'`, e.span);
  return name;
}

export function paramDim(el: Elaborator, v: Val, span: Span): Dim {
  if (el.symbolicSizes && v.kind === "int" && !isStatic(v.v)) return v.v;
  const n = expectInt(v, span, "a param dimension");
  if (n < 0 || n > 2 ** 34) fail(ShapeCodes.BadDimension, `param dimension ${n} is out of range`, span);
  return n;
}

export function declareLayer(el: Elaborator, s: A.LayerStmt, scope: Scope, act: Activation): void {
  if (act.kind === "fn") fail(CheckCodes.MisplacedStatement, "a fn cannot own layers: use a block", s.span);
  const keys = s.path.map((seg) =>
    seg.kind === "Name" ? seg.name : String(expectInt(el.evalExpr(seg.expr, scope, act), seg.span, "a layer index")),
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
  const callee = el.evalExpr(s.init.callee, scope, act);
  if (callee.kind !== "block")
    fail(
      ShapeCodes.TypeMismatch,
      `a layer is made from a block, but ${exprText(s.init.callee)} is ${describeKind(callee)}`,
      s.init.callee.span,
    );
  const known = el.layerRegistry.get(path);
  if (known) el.trace?.reusedLayer(known);
  const layer =
    known ??
    el.instantiate(callee.decl, el.evalArgs(s.init.args, scope, act), path, s.span, el.layerRegistry.get(act.path));
  el.layerRegistry.set(path, layer);
  if (!known) el.trace?.filedLayer(path, layer);
  el.observe?.(s.init.span, { kind: "layer", layer }, act.path);
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

function dimsEqual(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => dimEq(d, b[i]));
}
