// The syntax tree of a `.net` file. Grammar only: meaning is given by src/dsl/2-analyze and src/compiler.
import type { Span } from "../../diagnostics/diagnostics.js";

export interface NodeBase {
  span: Span;
}

export interface SourceFile extends NodeBase {
  kind: "File";
  file: string;
  items: Item[];
  /** Comments, kept for the formatter. */
  comments: Comment[];
}

export interface Comment {
  text: string;
  span: Span;
}

export type Item = ImportDecl | BlockDecl | FnDecl | ModelDecl;

export interface ImportDecl extends NodeBase {
  kind: "Import";
  path: string;
  pathSpan: Span;
}

export interface Ident extends NodeBase {
  name: string;
}

/** `name: Type = default` in a parameter list. */
export interface ParamDecl extends NodeBase {
  name: Ident;
  type: TypeExpr;
  default?: Expr;
}

/** `-> f32[B, 7]` or `-> (logits: f32[B, 7], feat: f32[B, 768])`. */
export interface OutputDecl extends NodeBase {
  name?: Ident;
  type: TypeExpr;
}

export interface BlockDecl extends NodeBase {
  kind: "Block";
  name: Ident;
  /** Compile-time parameters: `block Linear(in_features: int, ...)`. */
  config: ParamDecl[];
  /** Tensor inputs of the forward computation: the second parameter list. */
  inputs: ParamDecl[];
  outputs: OutputDecl[];
  body: Stmt[];
}

/**
 * A weightless function: `fn gelu(x: f32[*S]) -> f32[*S] { ... }`. Parameters may be tensors or compile-time values.
 */
export interface FnDecl extends NodeBase {
  kind: "Fn";
  name: Ident;
  params: ParamDecl[];
  outputs: OutputDecl[];
  body: Stmt[];
}

export interface ModelDecl extends NodeBase {
  kind: "Model";
  name: Ident;
  config: ParamDecl[];
  inputs: ParamDecl[];
  outputs: OutputDecl[];
  body: Stmt[];
}

// ---- Types -------------------------------------------------------------------------------------

export type TypeExpr = TensorTypeExpr | NamedTypeExpr | ListTypeExpr | TupleTypeExpr;

/** `f32[B, 3, T/2]`; a dim is an expression, `*Name` (a named run of dims), `...` or `_`. */
export interface TensorTypeExpr extends NodeBase {
  kind: "TensorType";
  dtype: string;
  dims: DimExpr[];
}

export type DimExpr =
  | { kind: "Dim"; expr: Expr; span: Span }
  | { kind: "DimRest"; name?: string; span: Span }
  | { kind: "DimAny"; span: Span };

/** `int`, `float`, `bool`, `string`, `dim`, `layer`, or a bare dtype (`f32`, a tensor of any shape). */
export interface NamedTypeExpr extends NodeBase {
  kind: "NamedType";
  name: string;
}

export interface ListTypeExpr extends NodeBase {
  kind: "ListType";
  element: TypeExpr;
}

export interface TupleTypeExpr extends NodeBase {
  kind: "TupleType";
  elements: TypeExpr[];
}

// ---- Statements --------------------------------------------------------------------------------

export type Stmt =
  | ParamStmt
  | LayerStmt
  | LetStmt
  | AssignStmt
  | IfStmt
  | ForStmt
  | ReturnStmt
  | TapStmt
  | AssertStmt
  | PrintStmt
  | WeightsStmt
  | PreprocessStmt;

/**
 * `param weight: f32[out, in]` or `param index_even: i64[4] = [0, 2, 4, 6]`. With `named <string>`
 * (`param w_ih: f32[g, i] named "weight_ih_l" + str(k)`), the weight's path segment is computed at elaboration and
 * `name` is only the local name the body uses.
 */
export interface ParamStmt extends NodeBase {
  kind: "Param";
  name: Ident;
  type: TypeExpr;
  weightName?: Expr;
  init?: Expr;
  /** The `unused` modifier: the weight exists because a checkpoint holds it; the forward never reads it. */
  unused?: { span: Span };
}

/** A segment of a layer path: `blocks[i]` is `blocks` then an index. */
export type PathSegment = { kind: "Name"; name: string; span: Span } | { kind: "Index"; expr: Expr; span: Span };

/** `layer qkv = Linear(dim, 3 * dim)`, `layer blocks[i] = Block(...)`, `layer project_a[0] = Linear(...)`. */
export interface LayerStmt extends NodeBase {
  kind: "Layer";
  path: PathSegment[];
  init: CallExpr;
  /** The `unused` modifier: the layer's weights exist because a checkpoint holds them; the forward never reads them. */
  unused?: { span: Span };
}

export type Pattern =
  | { kind: "NamePattern"; name: string; span: Span }
  | { kind: "TuplePattern"; elements: Pattern[]; span: Span };

export interface LetStmt extends NodeBase {
  kind: "Let";
  pattern: Pattern;
  type?: TypeExpr;
  value: Expr;
}

export interface AssignStmt extends NodeBase {
  kind: "Assign";
  target: Pattern;
  op: "=" | "+=" | "-=" | "*=" | "/=";
  value: Expr;
}

export interface IfStmt extends NodeBase {
  kind: "If";
  cond: Expr;
  then: Stmt[];
  else?: Stmt[];
}

export interface ForStmt extends NodeBase {
  kind: "For";
  variable: Ident;
  iterable: Expr;
  body: Stmt[];
}

export interface ReturnStmt extends NodeBase {
  kind: "Return";
  value: Expr;
}

/** `tap name = expr` or `tap name[i] = expr`: exposes a value as an optional extra graph output (--debug-outputs). */
export interface TapStmt extends NodeBase {
  kind: "Tap";
  name: Ident;
  index?: Expr;
  value: Expr;
}

export interface AssertStmt extends NodeBase {
  kind: "Assert";
  cond: Expr;
  message?: Expr;
}

/** `print(x, n)`: shows values at elaboration, as notes (tensors by their type); `print` is a name elsewhere. */
export interface PrintStmt extends NodeBase {
  kind: "Print";
  args: Arg[];
}

/**
 * `weights { subdict "model"; strip "module."; rename "a" -> "b" }`: how checkpoint keys map onto this model.
 * A named set (`weights landmark { ... }`) applies to the files given as `landmark=<file>` instead.
 */
export interface WeightsStmt extends NodeBase {
  kind: "Weights";
  name?: Ident;
  rules: WeightRule[];
}

export interface WeightRule extends NodeBase {
  verb: Ident;
  args: Expr[];
}

/**
 * `preprocess { frames = 16, resize = [224, 224], mean = [...], labels = [...] }`: how a clip becomes the model's
 * input, carried into the compiled artifacts (src/preprocess/spec.ts gives the fields their meaning).
 */
export interface PreprocessStmt extends NodeBase {
  kind: "Preprocess";
  fields: PreprocessField[];
}

export interface PreprocessField extends NodeBase {
  name: Ident;
  value: Expr;
}

// ---- Expressions -------------------------------------------------------------------------------

export type Expr =
  | NumberLit
  | StringLit
  | BoolLit
  | NameExpr
  | ListExpr
  | ListCompExpr
  | TupleExpr
  | UnaryExpr
  | BinaryExpr
  | CallExpr
  | IndexExpr
  | MemberExpr
  | CondExpr
  | RangeExpr
  | SplitIndexExpr
  | LiftExpr;

export interface NumberLit extends NodeBase {
  kind: "Number";
  value: number;
  isFloat: boolean;
  raw: string;
}

export interface StringLit extends NodeBase {
  kind: "String";
  value: string;
  /** Written `r"..."` (backslashes kept); fmt keeps the form. */
  raw?: true;
}

export interface BoolLit extends NodeBase {
  kind: "Bool";
  value: boolean;
}

export interface NameExpr extends NodeBase {
  kind: "Name";
  name: string;
}

export interface ListExpr extends NodeBase {
  kind: "List";
  elements: Expr[];
}

/** `[f(i) for i in 0..n]`. */
export interface ListCompExpr extends NodeBase {
  kind: "ListComp";
  element: Expr;
  variable: Ident;
  iterable: Expr;
}

export interface TupleExpr extends NodeBase {
  kind: "Tuple";
  elements: Expr[];
}

export type UnaryOp = "-" | "not";
export type BinaryOp = "+" | "-" | "*" | "/" | "%" | "**" | "@" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "and" | "or";

export interface UnaryExpr extends NodeBase {
  kind: "Unary";
  op: UnaryOp;
  operand: Expr;
}

export interface BinaryExpr extends NodeBase {
  kind: "Binary";
  op: BinaryOp;
  left: Expr;
  right: Expr;
  opSpan: Span;
}

export interface Arg extends NodeBase {
  name?: Ident;
  value: Expr;
}

export interface CallExpr extends NodeBase {
  kind: "Call";
  callee: Expr;
  args: Arg[];
}

/** One position of a subscript: an expression, a slice `a:b:c`, or `...`. */
export type Subscript =
  | { kind: "At"; expr: Expr; span: Span }
  | { kind: "Slice"; start?: Expr; end?: Expr; step?: Expr; span: Span }
  | { kind: "Ellipsis"; span: Span };

export interface IndexExpr extends NodeBase {
  kind: "Index";
  target: Expr;
  subscripts: Subscript[];
}

export interface MemberExpr extends NodeBase {
  kind: "Member";
  target: Expr;
  member: Ident;
}

export interface CondExpr extends NodeBase {
  kind: "Cond";
  cond: Expr;
  then: Expr;
  else: Expr;
}

/** `a..b`: the integers a, a+1, ..., b-1. */
export interface RangeExpr extends NodeBase {
  kind: "Range";
  start: Expr;
  end: Expr;
}

/**
 * `split_index x along 2 by soft(pos_a, pos_d)` / `by topk(scores, k)` / `by even_odd`:
 * content-aware splitting of a sequence axis into two groups.
 */
export interface SplitIndexExpr extends NodeBase {
  kind: "SplitIndex";
  input: Expr;
  axis: Expr;
  mode: Ident;
  args: Arg[];
}

/** `lift (approx = a, detail = d) { update approx += U; predict detail -= P }`: the lifting scheme. */
export interface LiftExpr extends NodeBase {
  kind: "Lift";
  approx: { name: Ident; value: Expr };
  detail: { name: Ident; value: Expr };
  steps: LiftStep[];
}

export interface LiftStep extends NodeBase {
  step: Ident;
  target: Ident;
  op: "+=" | "-=";
  value: Expr;
}
