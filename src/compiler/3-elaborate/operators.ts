// The binary operators on compile-time values (strings, lists, ints and dims, numbers) and on tensors.
import type * as A from "../../dsl/1-parse/ast.js";
import { ShapeCodes } from "../../diagnostics/codes.js";
import type { Span } from "../../diagnostics/diagnostics.js";
import { type Dim, dimAdd, dimDivExact, dimEq, dimMul, dimSub, dimToString, isStatic } from "../ir/dim.js";
import type { Value as IrValue } from "../ir/ir.js";
import { type BuiltinContext, toTensor } from "./builtins/index.js";
import { expectInt, expectNumber, fail, provenance } from "./context.js";
import type { Elaborator } from "./elaborate.js";
import type { Activation } from "./scope.js";
import { bool, describeKind, float, int, show, type Val } from "./values.js";

export function binary(el: Elaborator, op: A.BinaryOp, l: Val, r: Val, span: Span, opSpan: Span, act: Activation): Val {
  if (op === "+" && (l.kind === "string" || r.kind === "string")) {
    if (l.kind === "string" && r.kind === "string") return { kind: "string", v: l.v + r.v };
    fail(
      ShapeCodes.TypeMismatch,
      `+ joins two strings, not ${describeKind(l)} and ${describeKind(r)}`,
      span,
      [],
      'turn an int into a string with str(i): `"w" + str(i)`',
    );
  }
  if (l.kind === "tensor" || r.kind === "tensor") return tensorBinary(el, op, l, r, span, act);
  if (l.kind === "list" && r.kind === "list" && op === "+") {
    el.spendListElements(l.items.length + r.items.length, span);
    return { kind: "list", items: [...l.items, ...r.items] };
  }
  if ((op === "==" || op === "!=") && !(isNum(l) && isNum(r))) {
    const same = show(l) === show(r) && l.kind === r.kind;
    return bool(op === "==" ? same : !same);
  }
  if (l.kind === "int" && r.kind === "int") return intBinary(op, l.v, r.v, span, opSpan);
  if (l.kind === "bool" && r.kind === "bool" && (op === "and" || op === "or"))
    return bool(op === "and" ? l.v && r.v : l.v || r.v);
  const a = expectNumber(l, span, `the left side of ${op}`);
  const b = expectNumber(r, span, `the right side of ${op}`);
  switch (op) {
    case "+":
      return float(a + b);
    case "-":
      return float(a - b);
    case "*":
      return float(a * b);
    case "/":
      if (b === 0) fail(ShapeCodes.DivisionByZero, "division by zero", opSpan);
      return float(a / b);
    case "%":
      return float(a % b);
    case "**":
      return float(a ** b);
    case "<":
      return bool(a < b);
    case "<=":
      return bool(a <= b);
    case ">":
      return bool(a > b);
    case ">=":
      return bool(a >= b);
    case "==":
      return bool(a === b);
    case "!=":
      return bool(a !== b);
    default:
      fail(ShapeCodes.TypeMismatch, `${op} is not defined for numbers`, opSpan);
  }
}

function intBinary(op: A.BinaryOp, a: Dim, b: Dim, span: Span, opSpan: Span): Val {
  switch (op) {
    case "+":
      return int(dimAdd(a, b));
    case "-":
      return int(dimSub(a, b));
    case "*":
      return int(dimMul(a, b));
    case "/": {
      if (b === 0) fail(ShapeCodes.DivisionByZero, "division by zero", opSpan);
      const q = dimDivExact(a, b);
      if (q !== undefined) return int(q);
      if (isStatic(a) && isStatic(b)) return float(a / b);
      fail(ShapeCodes.NotDivisible, `${dimToString(a)} is not divisible by ${dimToString(b)}`, span);
    }
    case "==":
      return bool(dimEq(a, b));
    case "!=":
      return bool(!dimEq(a, b));
  }
  const x = expectInt(int(a), span, `the left side of ${op}`);
  const y = expectInt(int(b), span, `the right side of ${op}`);
  switch (op) {
    case "%":
      if (y === 0) fail(ShapeCodes.DivisionByZero, "modulo by zero", opSpan);
      return int(((x % y) + y) % y);
    case "**":
      return y >= 0 ? int(x ** y) : float(x ** y);
    case "<":
      return bool(x < y);
    case "<=":
      return bool(x <= y);
    case ">":
      return bool(x > y);
    case ">=":
      return bool(x >= y);
    default:
      fail(ShapeCodes.TypeMismatch, `${op} is not defined for ints`, opSpan);
  }
}

function tensorBinary(el: Elaborator, op: A.BinaryOp, l: Val, r: Val, span: Span, act: Activation): Val {
  const origin = el.origin(span, act);
  const ctx: BuiltinContext = { emit: el.emit, origin, span, print: el.print };
  const like = l.kind === "tensor" ? l.v.dtype : (r as { v: IrValue }).v.dtype;
  const a = toTensor(ctx, l, span, `the left side of ${op}`, like);
  const b = toTensor(ctx, r, span, `the right side of ${op}`, like);
  if (a.dtype !== b.dtype)
    fail(
      ShapeCodes.DTypeMismatch,
      `${op} of ${a.dtype} and ${b.dtype}`,
      span,
      [...provenance(a, "the left side"), ...provenance(b, "the right side")],
      "convert one side with cast(x, f32)",
    );
  const irOp = (
    {
      "+": "add",
      "-": "sub",
      "*": "mul",
      "/": "div",
      "**": "pow",
      "@": "matmul",
      "<": "lt",
      "<=": "le",
      ">": "gt",
      ">=": "ge",
      "==": "eq",
      and: "and",
      or: "or",
    } as const
  )[op as "+"];
  if (op === "!=")
    return { kind: "tensor", v: el.emit.op1("not", {}, [el.emit.op1("eq", {}, [a, b], origin)], origin) };
  if (!irOp) fail(ShapeCodes.TypeMismatch, `${op} is not defined for tensors`, span);
  return { kind: "tensor", v: el.emit.op1(irOp, {}, [a, b], origin) };
}

function isNum(v: Val): boolean {
  return v.kind === "int" || v.kind === "float";
}
