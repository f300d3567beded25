// Checks for `--precision f16`, where float buffers hold f16 (max 65504) while kernels compute in f32: weights
// beyond that range, and stored results of ops that can overflow it (exp, pow, reciprocal, long sums and
// products), get a warning at their `.net` line. Values between kernels are the only ones rounded to f16.
import { makeDiagnostic } from "../../diagnostics/codes.js";
import type { Diagnostic } from "../../diagnostics/diagnostics.js";
import type { Value } from "../../compiler/ir/ir.js";
import type { HostTensor } from "../../util/tensor.js";
import { toNumbers } from "../../compiler/ir/interp/numeric.js";
import { WgslCodes } from "../../diagnostics/wgsl-codes.js";
import type { KernelPlan } from "./plan.js";
import { isFloatType } from "../../runtime/storage.js";

const F16_MAX = 65504;

function overflowsF16(v: Value): boolean {
  const node = v.producer;
  if (node.op === "exp" || node.op === "pow" || node.op === "reciprocal") return true;
  return node.op === "reduce" && ["sum", "prod"].includes(node.attrs.kind);
}

export function f16Warnings(plan: KernelPlan, weights: ReadonlyMap<Value, HostTensor>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const [v, t] of weights) {
    if (!isFloatType(t.dtype)) continue;
    const values = t.data instanceof Float32Array || t.data instanceof Float64Array ? t.data : toNumbers(t);
    let largest = 0;
    for (let i = 0; i < values.length; i++) largest = Math.max(largest, Math.abs(values[i]));
    if (largest > F16_MAX) {
      const name = v.producer.op === "param" ? `the weight ${v.producer.attrs.path}` : "a constant";
      out.push(
        makeDiagnostic(
          WgslCodes.F16Range,
          `${name} holds ${largest}, beyond f16's range (${F16_MAX})`,
          v.producer.span,
        ),
      );
    }
  }
  for (const k of plan.kernels)
    for (const v of k.stores)
      if (isFloatType(v.dtype) && overflowsF16(v))
        out.push(
          makeDiagnostic(
            WgslCodes.F16Range,
            `the result of ${v.producer.op} is stored as f16 and can exceed ${F16_MAX}`,
            v.producer.span,
          ),
        );
  return out;
}
