// The opsets the backend writes, and the IR version that goes with each (the ONNX release that introduced it).
import { makeDiagnostic, OnnxCodes } from "../../diagnostics/codes.js";
import type { Diagnostic } from "../../diagnostics/diagnostics.js";

export const DEFAULT_OPSET = 17;
const IR_VERSION: Record<number, number> = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10, 22: 10, 23: 11 };
export const MAX_OPSET = Math.max(...Object.keys(IR_VERSION).map(Number));

export function irVersionFor(opset: number): number {
  return IR_VERSION[opset];
}

export function checkOpset(opset: number): Diagnostic | undefined {
  if (IR_VERSION[opset] !== undefined) return undefined;
  return makeDiagnostic(
    OnnxCodes.BadOpset,
    `opset ${opset} is not supported; the ONNX backend writes opsets ${DEFAULT_OPSET} to ${MAX_OPSET}`,
    undefined,
    {
      hint: `use --opset ${DEFAULT_OPSET} (the default)`,
    },
  );
}
