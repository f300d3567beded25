// The file's top level: imports, blocks, fns and models with their headers.
import type * as A from "../1-parse/ast.js";
import { bracketed, type Doc } from "./doc.js";
import { printLines, type PrintContext, withComments } from "./print-comments.js";
import { encodeString } from "../1-parse/strings.js";
import { printExpr, printIdent } from "./print-expr.js";
import { printBody } from "./print-stmt.js";
import { printType } from "./print-types.js";

/** Items are separated by a blank line; consecutive imports keep the author's spacing. */
export function printFile(ctx: PrintContext, file: A.SourceFile): Doc {
  return printLines(ctx, file.items, {
    braced: false,
    printElement: (item) => withComments(ctx, item, printItem(ctx, item)),
    blankLineBetween: (previous, next) => previous.kind !== "Import" || next.kind !== "Import",
  });
}

function printItem(ctx: PrintContext, item: A.Item): Doc {
  switch (item.kind) {
    case "Import":
      return ["import ", encodeString(item.path)];
    case "Block":
    case "Model": {
      const params = [printParams(ctx, item.config), printParams(ctx, item.inputs)];
      return [item.kind === "Block" ? "block " : "model ", printIdent(ctx, item.name), params, printRest(ctx, item)];
    }
    case "Fn":
      return ["fn ", printIdent(ctx, item.name), printParams(ctx, item.params), printRest(ctx, item)];
  }
}

/** What follows the parameter lists: ` -> outputs { body }`. */
function printRest(ctx: PrintContext, item: A.BlockDecl | A.FnDecl | A.ModelDecl): Doc {
  return [printOutputs(ctx, item.outputs), " ", printBody(ctx, item.body)];
}

/** When a header is too long, its config list wraps first, then its inputs, then its outputs. */
function printParams(ctx: PrintContext, params: readonly A.ParamDecl[]): Doc {
  return bracketed(
    "(",
    params.map((p) => printParam(ctx, p)),
    ")",
    { wrapsFirst: true },
  );
}

function printParam(ctx: PrintContext, p: A.ParamDecl): Doc {
  return withComments(ctx, p, [
    printIdent(ctx, p.name),
    ": ",
    printType(ctx, p.type),
    p.default ? [" = ", printExpr(ctx, p.default)] : "",
  ]);
}

/** `-> T` for one unnamed output; otherwise `-> (name: T, ...)`. A lone tuple type needs the list's parentheses too. */
function printOutputs(ctx: PrintContext, outputs: readonly A.OutputDecl[]): Doc {
  if (outputs.length === 0) return "";
  const [only] = outputs;
  const bare = outputs.length === 1 && !only.name && only.type.kind !== "TupleType";
  return [
    " -> ",
    bare
      ? printOutput(ctx, only)
      : bracketed(
          "(",
          outputs.map((o) => printOutput(ctx, o)),
          ")",
        ),
  ];
}

function printOutput(ctx: PrintContext, o: A.OutputDecl): Doc {
  return withComments(
    ctx,
    o,
    o.name ? [printIdent(ctx, o.name), ": ", printType(ctx, o.type)] : printType(ctx, o.type),
  );
}
