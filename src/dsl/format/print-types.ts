// Types: `f32[B, *S, 3]`, `list<int>`, `(int, f32)`.
import type * as A from "../1-parse/ast.js";
import { bracketed, type Doc } from "./doc.js";
import { printExpr, Level } from "./print-expr.js";
import { type PrintContext, withComments } from "./print-comments.js";

export function printType(ctx: PrintContext, t: A.TypeExpr): Doc {
  return withComments(ctx, t, printBareType(ctx, t));
}

function printBareType(ctx: PrintContext, t: A.TypeExpr): Doc {
  switch (t.kind) {
    case "NamedType":
      return t.name;
    case "TensorType":
      return [
        t.dtype,
        bracketed(
          "[",
          t.dims.map((d) => printDim(ctx, d)),
          "]",
        ),
      ];
    case "ListType":
      return ["list<", printType(ctx, t.element), ">"];
    case "TupleType":
      return bracketed(
        "(",
        t.elements.map((e) => printType(ctx, e)),
        ")",
      );
  }
}

function printDim(ctx: PrintContext, d: A.DimExpr): Doc {
  switch (d.kind) {
    case "Dim":
      return withComments(ctx, d, printExpr(ctx, d.expr, Level.Sum));
    case "DimRest":
      return withComments(ctx, d, d.name === undefined ? "..." : `*${d.name}`);
    case "DimAny":
      return withComments(ctx, d, "_");
  }
}
