// Compile-time values of the elaborator: numbers, dims, lists, tensors (IR values), block instances.
import type * as A from "../../dsl/1-parse/ast.js";
import type { Span } from "../../diagnostics/diagnostics.js";
import type { DType } from "../../util/tensor.js";
import { type Dim, dimToString, shapeToString } from "../ir/dim.js";
import type { Value as IrValue } from "../ir/ir.js";

export type Val =
  | { kind: "int"; v: Dim }
  | { kind: "float"; v: number }
  | { kind: "bool"; v: boolean }
  | { kind: "string"; v: string }
  | { kind: "dtype"; v: DType }
  | { kind: "list"; items: Val[] }
  | { kind: "tuple"; items: Val[] }
  | { kind: "tensor"; v: IrValue }
  | { kind: "layer"; layer: LayerInstance }
  | { kind: "ns"; path: string; entries: Map<string, Val> }
  | { kind: "block"; decl: A.BlockDecl }
  | { kind: "fn"; decl: A.FnDecl }
  | { kind: "builtin"; name: string }
  | { kind: "none" }
  /** What a statement that failed would have bound: its uses fail without a diagnostic of their own. */
  | { kind: "poison" };

/** A block instantiated with its compile-time arguments under a weight path (`layer qkv = Linear(...)`). */
export interface LayerInstance {
  decl: A.BlockDecl;
  path: string;
  config: Map<string, Val>;
  span: Span;
  /** The instance whose body declared this one (none for the model's own layers). */
  parent?: LayerInstance;
  /** The `unused` modifier of its `layer` statement: a checkpoint holds its weights, the forward never reads them. */
  unused?: Span;
}

export const int = (v: Dim): Val => ({ kind: "int", v });
export const float = (v: number): Val => ({ kind: "float", v });
export const bool = (v: boolean): Val => ({ kind: "bool", v });
export const NONE: Val = { kind: "none" };
export const POISON: Val = { kind: "poison" };

export function describeKind(v: Val): string {
  switch (v.kind) {
    case "tensor":
      return `tensor ${v.v.dtype}${shapeToString(v.v.shape)}`;
    case "layer":
      return `layer ${v.layer.path} (${v.layer.decl.name.name})`;
    case "ns":
      return `layer group ${v.path}`;
    case "block":
      return `block ${v.decl.name.name}`;
    case "fn":
      return `fn ${v.decl.name.name}`;
    case "builtin":
      return `builtin ${v.name}`;
    case "list":
      return "list";
    case "tuple":
      return `tuple of ${v.items.length}`;
    default:
      return v.kind;
  }
}

export function show(v: Val): string {
  switch (v.kind) {
    case "int":
      return dimToString(v.v);
    case "float":
      return String(v.v);
    case "bool":
      return String(v.v);
    case "string":
      return JSON.stringify(v.v);
    case "dtype":
      return v.v;
    case "list":
      return `[${v.items.map(show).join(", ")}]`;
    case "tuple":
      return `(${v.items.map(show).join(", ")})`;
    case "none":
      return "none";
    default:
      return describeKind(v);
  }
}
