// Constant tensors from compile-time values (tensor literals, `param ... = [...]` initial values).
import { ShapeCodes } from "../../diagnostics/codes.js";
import type { Span } from "../../diagnostics/diagnostics.js";
import { allocData, type DType, type HostTensor } from "../../util/tensor.js";
import { expectList, expectNumber, fail } from "./context.js";
import type { Val } from "./values.js";

/** An i64 or f32 constant tensor from a (nested) list of compile-time numbers. */
export function constantFromList(v: Val, span: Span, dtype?: DType): HostTensor {
  const shape: number[] = [];
  let probe: Val = v;
  while (probe.kind === "list" || probe.kind === "tuple") {
    shape.push(probe.items.length);
    if (probe.items.length === 0) break;
    probe = probe.items[0];
  }
  const flat: Val[] = [];
  const walk = (x: Val, depth: number) => {
    if (depth === shape.length) return void flat.push(x);
    const items = expectList(x, span, "tensor literal");
    if (items.length !== shape[depth])
      fail(ShapeCodes.ShapeMismatch, `tensor literal is ragged: rows of ${shape[depth]} and ${items.length}`, span);
    for (const it of items) walk(it, depth + 1);
  };
  walk(v, 0);
  const kind =
    dtype ??
    (flat.some((x) => x.kind === "float")
      ? "f32"
      : flat.every((x) => x.kind === "bool") && flat.length > 0
        ? "bool"
        : "i64");
  const data = allocData(kind, flat.length);
  flat.forEach((x, i) => {
    const n = x.kind === "bool" ? (x.v ? 1 : 0) : expectNumber(x, span, "tensor literal element");
    if (data instanceof BigInt64Array) data[i] = BigInt(Math.trunc(n));
    else (data as Float32Array)[i] = n;
  });
  return { dtype: kind, shape, data };
}

/** Elements of one constant made at compile time (256 MiB of f32). */
export const MAX_CONSTANT_ELEMENTS = 1 << 26;
