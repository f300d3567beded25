// Calls of builtins and constructs agree with their signatures (src/dsl/signatures/builtins.ts): no more
// positional arguments than parameters, no unknown or repeated names, every required argument given, and no
// literal of a kind the parameter never accepts. A builtin name the program defines itself (a `let`, block, fn,
// parameter, ...) anywhere is not checked: the call may be of the program's own.
import { CheckCodes, makeDiagnostic, ShapeCodes } from "../../../diagnostics/codes.js";
import { closestName } from "../../../util/suggest.js";
import type * as A from "../../1-parse/ast.js";
import { callableSignature, SPLIT_INDEX_MODES } from "../../signatures/builtins.js";
import {
  acceptsKinds,
  describeKinds,
  describeLiteral,
  literalKinds,
  type Signature,
  signatureText,
} from "../../signatures/signature.js";
import type { Rule, RuleContext } from "./rule.js";
import { bodiesOf, forEachExpr, forEachStmt, stmtExprs } from "./walk.js";

export const builtinCalls: Rule = (ctx) => {
  const own = namesDefinedByProgram(ctx.program.files);
  for (const file of ctx.program.files)
    for (const body of bodiesOf(file)) {
      const roots = [...paramDecls(body.decl).flatMap((p) => (p.default ? [p.default] : []))];
      forEachStmt(body.stmts, (s) => roots.push(...stmtExprs(s)));
      for (const root of roots)
        forEachExpr(root, (e) => {
          if (e.kind === "Call" && e.callee.kind === "Name" && !own.has(e.callee.name)) {
            const sig = callableSignature(e.callee.name);
            if (sig) checkCall(ctx, e.callee.name, sig, e.args, e.span);
          } else if (e.kind === "SplitIndex" && Object.hasOwn(SPLIT_INDEX_MODES, e.mode.name))
            checkCall(
              ctx,
              e.mode.name,
              SPLIT_INDEX_MODES[e.mode.name as keyof typeof SPLIT_INDEX_MODES],
              e.args,
              e.span,
            );
        });
    }
};

function checkCall(
  ctx: RuleContext,
  callee: string,
  sig: Signature,
  args: readonly A.Arg[],
  span: A.Expr["span"],
): void {
  const shown = signatureText(callee, sig);
  const names = sig.params.map((p) => p.name);
  const given = new Set<string>();
  let pos = 0;
  for (const a of args) {
    const name = a.name?.name ?? names[pos++];
    if (name === undefined) {
      const positional = args.filter((x) => !x.name).length;
      ctx.report(
        makeDiagnostic(
          CheckCodes.WrongArity,
          `${callee} takes at most ${names.length} argument${names.length === 1 ? "" : "s"}, got ${positional}`,
          a.value.span,
          { hint: shown },
        ),
      );
      return;
    }
    const p =
      sig.params.find((q) => q.name === name) ?? (sig.namedRest && { name, kinds: sig.namedRest, optional: true });
    if (!p) {
      const near = closestName(name, names);
      ctx.report(
        makeDiagnostic(
          CheckCodes.UnknownArgument,
          `${callee} has no parameter '${name}'`,
          a.name?.span ?? a.value.span,
          { hint: near ? `did you mean '${near}'? ${shown}` : shown },
        ),
      );
      continue;
    }
    if (given.has(name)) {
      ctx.report(
        makeDiagnostic(CheckCodes.DuplicateArgument, `'${name}' is given twice`, a.name?.span ?? a.value.span, {
          hint: shown,
        }),
      );
      continue;
    }
    given.add(name);
    const kinds = literalKinds(a.value);
    if (kinds && !acceptsKinds(p, kinds))
      ctx.report(
        makeDiagnostic(
          ShapeCodes.TypeMismatch,
          `${p.name} of ${callee} should be ${describeKinds(p.kinds)}, got ${describeLiteral(a.value)}`,
          a.value.span,
          { hint: shown },
        ),
      );
  }
  const missing = sig.params.filter((p) => !p.optional && p.default === undefined && !given.has(p.name));
  if (missing.length)
    ctx.report(
      makeDiagnostic(
        CheckCodes.MissingArgument,
        `${callee} needs ${missing.length === 1 ? "an argument" : "arguments"} ` +
          `${missing.map((p) => `'${p.name}'`).join(", ")}`,
        span,
        { hint: shown },
      ),
    );
}

function paramDecls(decl: A.BlockDecl | A.FnDecl | A.ModelDecl): readonly A.ParamDecl[] {
  return decl.kind === "Fn" ? decl.params : [...decl.config, ...decl.inputs];
}

/** Every name the program binds anywhere, in any scope (conservative: a builtin's name among them is not checked). */
function namesDefinedByProgram(files: readonly A.SourceFile[]): Set<string> {
  const names = new Set<string>();
  const pattern = (p: A.Pattern): void =>
    p.kind === "NamePattern" ? void names.add(p.name) : p.elements.forEach(pattern);
  const bindingsIn = (e: A.Expr) =>
    forEachExpr(e, (x) => {
      if (x.kind === "ListComp") names.add(x.variable.name);
      else if (x.kind === "Lift") [x.approx.name.name, x.detail.name.name].forEach((n) => names.add(n));
    });
  const type = (t: A.TypeExpr): void => {
    if (t.kind === "ListType") return type(t.element);
    if (t.kind === "TupleType") return t.elements.forEach(type);
    if (t.kind !== "TensorType") return;
    names.add(t.dtype);
    for (const d of t.dims)
      if (d.kind === "DimRest" && d.name) names.add(d.name);
      else if (d.kind === "Dim" && d.expr.kind === "Name") names.add(d.expr.name);
  };
  for (const file of files)
    for (const body of bodiesOf(file)) {
      names.add(body.name);
      for (const p of paramDecls(body.decl)) {
        names.add(p.name.name);
        type(p.type);
      }
      for (const o of body.decl.outputs) type(o.type);
      forEachStmt(body.stmts, (s) => {
        if (s.kind === "Param") names.add(s.name.name);
        else if (s.kind === "Layer" && s.path[0].kind === "Name") names.add(s.path[0].name);
        else if (s.kind === "Let") {
          pattern(s.pattern);
          if (s.type) type(s.type);
        } else if (s.kind === "For") names.add(s.variable.name);
        stmtExprs(s).forEach(bindingsIn);
      });
    }
  return names;
}
