// Every name used is defined before use in its lexical scope (the binder): parameters, lets, layers, loop
// variables, dimension names bound by input types, top-level blocks and fns, builtins.
import { CheckCodes, makeDiagnostic } from "../../../diagnostics/codes.js";
import { callableNames } from "../../signatures/builtins.js";
import { DTYPES } from "../../../util/tensor.js";
import type * as A from "../../1-parse/ast.js";
import type { Rule } from "./rule.js";
import { closestName } from "../../../util/suggest.js";
import type { Fix } from "../../../diagnostics/diagnostics.js";
import { stdlibFileDeclaring } from "../stdlib-index.js";

class Names {
  private readonly own = new Set<string>();
  constructor(private readonly parent?: Names) {}
  has(n: string): boolean {
    return this.own.has(n) || (this.parent?.has(n) ?? false);
  }
  add(n: string): void {
    this.own.add(n);
  }
  /** Innermost names first; lazily, so a suggestion that stops early does not copy every scope. */
  *all(): Generator<string> {
    yield* this.own;
    if (this.parent) yield* this.parent.all();
  }
}

export const namesDefined: Rule = (ctx) => {
  const globals = new Names();
  for (const n of [...callableNames(), ...DTYPES, "pi", "none", "_"]) globals.add(n);
  const callables = callableNames();
  for (const file of ctx.program.files)
    for (const item of file.items)
      if (item.kind === "Block" || item.kind === "Fn") {
        globals.add(item.name.name);
        callables.push(item.name.name);
      }

  /** A name the standard library declares in a file the program does not import: the import, as hint and fix. */
  const missingImport = (name: string, span: A.Ident["span"]): { hint: string; fixes: Fix[] } | undefined => {
    const file = stdlibFileDeclaring(name);
    if (!file || ctx.program.files.some((f) => f.file === file)) return undefined;
    const line = `import "${file}"`;
    return {
      hint: `'${name}' is declared in ${file}: add \`${line}\``,
      fixes: [
        {
          title: `Add ${line}`,
          edits: [{ span: { file: span.file, start: 0, end: 0, line: 1, col: 1 }, text: `${line}\n` }],
        },
      ],
    };
  };

  const undefinedName = (name: string, span: A.Ident["span"], scope: Names) =>
    ctx.report(
      makeDiagnostic(
        CheckCodes.UnknownName,
        `'${name}' is not defined`,
        span,
        missingImport(name, span) ?? { hint: suggestion(name, scope) },
      ),
    );

  const unknownCallee = (name: string, span: A.Ident["span"], scope: Names) => {
    const near = closestName(name, [...callables, ...scope.all()]);
    ctx.report(
      makeDiagnostic(
        CheckCodes.UnknownBlock,
        `'${name}' is not a builtin, block or fn`,
        span,
        missingImport(name, span) ?? {
          hint: near ? `did you mean '${near}'?` : "builtins are listed in docs/language.md",
        },
      ),
    );
  };

  const expr = (e: A.Expr | undefined, scope: Names): void => {
    if (!e) return;
    switch (e.kind) {
      case "Name":
        if (!scope.has(e.name)) undefinedName(e.name, e.span, scope);
        return;
      case "ListComp": {
        expr(e.iterable, scope);
        const inner = new Names(scope);
        inner.add(e.variable.name);
        return expr(e.element, inner);
      }
      case "Member":
        return expr(e.target, scope);
      case "Lift": {
        expr(e.approx.value, scope);
        expr(e.detail.value, scope);
        const inner = new Names(scope);
        inner.add(e.approx.name.name);
        inner.add(e.detail.name.name);
        for (const s of e.steps) expr(s.value, inner);
        return;
      }
      case "SplitIndex":
        expr(e.input, scope);
        expr(e.axis, scope);
        for (const a of e.args) expr(a.value, scope);
        return;
      case "Call":
        if (e.callee.kind === "Name" && !scope.has(e.callee.name)) unknownCallee(e.callee.name, e.callee.span, scope);
        else expr(e.callee, scope);
        for (const a of e.args) expr(a.value, scope);
        return;
      case "List":
      case "Tuple":
        for (const x of e.elements) expr(x, scope);
        return;
      case "Unary":
        return expr(e.operand, scope);
      case "Binary":
        expr(e.left, scope);
        return expr(e.right, scope);
      case "Index":
        expr(e.target, scope);
        for (const s of e.subscripts) {
          if (s.kind === "At") expr(s.expr, scope);
          else if (s.kind === "Slice") [s.start, s.end, s.step].forEach((x) => expr(x, scope));
        }
        return;
      case "Cond":
        [e.cond, e.then, e.else].forEach((x) => expr(x, scope));
        return;
      case "Range":
        expr(e.start, scope);
        return expr(e.end, scope);
      default:
        return;
    }
  };

  /** Dims in a type: with `bind`, unknown bare names become bound (generic signatures); otherwise they must exist. */
  const type = (t: A.TypeExpr, scope: Names, bind: boolean): void => {
    if (t.kind === "ListType") return type(t.element, scope, bind);
    if (t.kind === "TupleType") return t.elements.forEach((x) => type(x, scope, bind));
    if (t.kind !== "TensorType") return;
    for (const d of t.dims) {
      if (d.kind === "DimRest") {
        if (d.name && !scope.has(d.name)) bind ? scope.add(d.name) : undefinedName(d.name, d.span, scope);
      } else if (d.kind === "Dim") {
        if (bind && d.expr.kind === "Name" && !scope.has(d.expr.name)) scope.add(d.expr.name);
        else expr(d.expr, scope);
      }
    }
  };

  const pattern = (p: A.Pattern, scope: Names, define: boolean): void => {
    if (p.kind === "TuplePattern") return p.elements.forEach((x) => pattern(x, scope, define));
    if (define) scope.add(p.name);
    else if (!scope.has(p.name) && p.name !== "_")
      ctx.report(
        makeDiagnostic(CheckCodes.UnknownName, `'${p.name}' is assigned before it is defined`, p.span, {
          hint: `define it first with \`let ${p.name} = ...\``,
        }),
      );
  };

  const stmts = (list: readonly A.Stmt[], scope: Names): void => {
    for (const s of list) {
      switch (s.kind) {
        case "Param":
          type(s.type, scope, false);
          expr(s.weightName, scope);
          expr(s.init, scope);
          scope.add(s.name.name);
          break;
        case "Layer":
          for (const seg of s.path) if (seg.kind === "Index") expr(seg.expr, scope);
          expr(s.init, scope);
          scope.add((s.path[0] as { name: string }).name);
          break;
        case "Let":
          expr(s.value, scope);
          if (s.type) type(s.type, scope, true);
          pattern(s.pattern, scope, true);
          break;
        case "Assign":
          expr(s.value, scope);
          pattern(s.target, scope, false);
          break;
        case "If":
          expr(s.cond, scope);
          stmts(s.then, new Names(scope));
          if (s.else) stmts(s.else, new Names(scope));
          break;
        case "For": {
          expr(s.iterable, scope);
          const inner = new Names(scope);
          inner.add(s.variable.name);
          stmts(s.body, inner);
          break;
        }
        case "Tap":
          expr(s.index, scope);
          expr(s.value, scope);
          break;
        case "Return":
          expr(s.value, scope);
          break;
        case "Assert":
          expr(s.cond, scope);
          expr(s.message, scope);
          break;
        case "Print":
          for (const a of s.args) expr(a.value, scope);
          break;
        case "Weights":
          for (const r of s.rules) for (const a of r.args) expr(a, scope);
          break;
      }
    }
  };

  for (const file of ctx.program.files)
    for (const item of file.items) {
      if (item.kind === "Import") continue;
      const scope = new Names(globals);
      const config = item.kind === "Fn" ? [] : item.config;
      const inputs = item.kind === "Fn" ? item.params : item.inputs;
      for (const p of config) {
        type(p.type, scope, false);
        expr(p.default, scope);
        scope.add(p.name.name);
      }
      for (const p of inputs) {
        type(p.type, scope, true);
        expr(p.default, scope);
        scope.add(p.name.name);
      }
      for (const o of item.outputs) type(o.type, scope, item.kind !== "Model");
      stmts(item.body, scope);
    }
};

function suggestion(name: string, scope: Names): string | undefined {
  const best = closestName(name, scope.all());
  return best ? `did you mean '${best}'?` : undefined;
}
