// Binding call arguments (positional, then named) to a signature's parameters: builtins, constructs and the
// modes of split_index all bind this way (src/dsl/signatures).
import { CheckCodes } from "../../diagnostics/codes.js";
import type { Span } from "../../diagnostics/diagnostics.js";
import { type Signature, signatureText } from "../../dsl/signatures/signature.js";
import { DTYPES, type DType } from "../../util/tensor.js";
import { fail } from "./context.js";
import { bool, float, int, NONE, type Val } from "./values.js";

export interface CallArg {
  name?: string;
  value: Val;
  span: Span;
}

/** Arguments by parameter name, each with where it was given (or the call, for a default). */
export type BoundArgs = Map<string, { value: Val; span: Span }>;

/**
 * Binds call arguments (positional, then named) to a signature's parameters; a parameter left out takes its
 * default (at the call's span), an optional one stays unbound.
 */
export function bindArgs(callee: string, sig: Signature, args: CallArg[], span: Span): BoundArgs {
  const names = sig.params.map((p) => p.name);
  const shown = signatureText(callee, sig);
  const bound: BoundArgs = new Map();
  let pos = 0;
  for (const a of args) {
    const name = a.name ?? names[pos++];
    if (name === undefined)
      fail(
        CheckCodes.WrongArity,
        `${callee} takes at most ${names.length} arguments, got ${args.length}`,
        a.span,
        [],
        shown,
      );
    if (!names.includes(name) && !(a.name && sig.namedRest))
      fail(CheckCodes.UnknownArgument, `${callee} has no parameter '${name}'`, a.span, [], shown);
    if (bound.has(name)) fail(CheckCodes.DuplicateArgument, `'${name}' is given twice`, a.span);
    bound.set(name, { value: a.value, span: a.span });
  }
  for (const p of sig.params) {
    if (bound.has(p.name) || p.optional) continue;
    if (p.default === undefined)
      fail(CheckCodes.MissingArgument, `${callee} needs an argument '${p.name}'`, span, [], shown);
    bound.set(p.name, { value: literal(p.default), span });
  }
  return bound;
}

/** A default as written in a signature: a number, bool, `none`, element type or list of those. */
function literal(text: string): Val {
  if ((DTYPES as readonly string[]).includes(text)) return { kind: "dtype", v: text as DType };
  if (text === "true" || text === "false") return bool(text === "true");
  if (text === "none") return NONE;
  if (text.startsWith("["))
    return {
      kind: "list",
      items: text
        .slice(1, -1)
        .split(",")
        .filter((s) => s.trim() !== "")
        .map((s) => literal(s.trim())),
    };
  if (/^-?\d+$/.test(text)) return int(Number(text));
  return float(Number(text));
}
