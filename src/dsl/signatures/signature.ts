// Signatures as data: a callable's parameters with names, the kinds of value each accepts, defaults and optional
// ones. The static checker reads them to report calls that cannot work before anything is elaborated; the
// elaborator binds arguments by the same signature, so the two cannot disagree.
import type * as A from "../1-parse/ast.js";

/**
 * What a parameter accepts, as the implementation coerces it:
 *   tensor  a tensor, or a number or bool made a scalar constant      number  an int or a float
 *   int     a known integer                                          dim     an integer, possibly symbolic
 *   ints    an int or a list of ints                                 dims    a list of dimensions
 *   list    a list or tuple of anything                              bool, string, dtype (f32, i64, ...)
 *   layer   a block instance declared with `layer`                   none    the value `none`
 *   any     whatever the implementation looks at itself
 */
export type ParamKind =
  | "tensor"
  | "number"
  | "int"
  | "dim"
  | "ints"
  | "dims"
  | "list"
  | "bool"
  | "string"
  | "dtype"
  | "layer"
  | "none"
  | "any";

export interface ParamSignature {
  name: string;
  kinds: readonly ParamKind[];
  /** The value taken when the argument is left out, as a `.net` literal (`-1`, `1e-5`, `false`, `none`, `f32`). */
  default?: string;
  /** May be left out without a default: the implementation then does without it (`bias?`). */
  optional: boolean;
}

export interface Signature {
  params: readonly ParamSignature[];
  /** One line saying what it does. */
  doc: string;
  /**
   * The last parameter takes all remaining positional arguments, at least this many (none of today's builtins
   * do; `weights { }` rules such as `strip "a.", "b."` do).
   */
  variadic?: number;
  /** Takes named arguments besides its parameters, each of these kinds (the axis sizes of `rearrange`). */
  namedRest?: readonly ParamKind[];
}

/** `"name: kind|kind"`, `"name: kind = default"` or `"name?: kind"`, as signatures are written in the tables. */
export function param(text: string): ParamSignature {
  const m = /^(\w+)(\?)?: ([\w|]+)(?: = (.+))?$/.exec(text);
  if (!m) throw new Error(`malformed parameter signature '${text}'`);
  return {
    name: m[1],
    kinds: m[3].split("|") as ParamKind[],
    optional: m[2] === "?",
    ...(m[4] === undefined ? {} : { default: m[4] }),
  };
}

export function signature(doc: string, ...params: string[]): Signature {
  return { doc, params: params.map(param) };
}

/** `conv(x, weight, bias?, stride = 1, ...)`: how a signature is shown in hints. */
export function signatureText(name: string, sig: Signature): string {
  const shown = sig.params.map(
    (p) => `${p.name}${p.optional ? "?" : ""}${p.default === undefined ? "" : ` = ${p.default}`}`,
  );
  return (
    `${name}(${shown.join(", ")}${sig.variadic === undefined ? "" : ", ..."}` +
    `${sig.namedRest ? ", name = value, ..." : ""})`
  );
}

/**
 * The kinds of value an argument expression certainly has, from its syntax alone; undefined when only
 * elaboration can tell (names, calls, arithmetic). Literals only, so that a static report is never wrong.
 */
export function literalKinds(e: A.Expr): readonly ParamKind[] | undefined {
  switch (e.kind) {
    case "Number":
      return e.isFloat ? ["number", "tensor"] : ["int", "dim", "number", "ints", "tensor"];
    case "Unary":
      return e.op === "-" && e.operand.kind === "Number" ? literalKinds(e.operand) : undefined;
    case "String":
      return ["string"];
    case "Bool":
      return ["bool", "tensor"];
    case "List":
    case "ListComp":
    case "Tuple":
    case "Range":
      return ["list", "ints", "dims"];
    default:
      return undefined;
  }
}

/** Whether an argument whose syntax says it is one of `has` can be given for `p`. */
export function acceptsKinds(p: ParamSignature, has: readonly ParamKind[]): boolean {
  return p.kinds.includes("any") || has.some((k) => p.kinds.includes(k));
}

const KIND_NAMES: Record<ParamKind, string> = {
  tensor: "a tensor",
  number: "a number",
  int: "an int",
  dim: "a dimension",
  ints: "an int or a list of ints",
  dims: "a list of dimensions",
  list: "a list",
  bool: "a bool",
  string: "a string",
  dtype: "an element type",
  layer: "a layer",
  none: "none",
  any: "any value",
};

export const describeKinds = (kinds: readonly ParamKind[]): string => kinds.map((k) => KIND_NAMES[k]).join(" or ");

/** How a literal argument is described in a message ("a string", "a list"). */
export function describeLiteral(e: A.Expr): string {
  switch (e.kind) {
    case "Number":
      return e.isFloat ? "a float" : "an int";
    case "Unary":
      return describeLiteral(e.operand);
    case "String":
      return "a string";
    case "Bool":
      return "a bool";
    case "Tuple":
      return "a tuple";
    default:
      return "a list";
  }
}
