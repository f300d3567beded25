// The opsets the backend writes, and the IR version that goes with each (the ONNX release that introduced it).
import { makeDiagnostic, OnnxCodes } from "../../compiler/codes.js";
import type { Diagnostic } from "../../compiler/diagnostics.js";

export const DEFAULT_OPSET = 17;
const IR_VERSION: Record<number, number> = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

export function irVersionFor(opset: number): number {
  return IR_VERSION[opset];
}

export function checkOpset(opset: number): Diagnostic | undefined {
  if (IR_VERSION[opset] !== undefined) return undefined;
  const known = Object.keys(IR_VERSION);
  return makeDiagnostic(OnnxCodes.BadOpset, `opset ${opset} is not supported; the ONNX backend writes opsets ${known[0]} to ${known[known.length - 1]}`, undefined, {
    hint: `use --opset ${DEFAULT_OPSET} (the default)`,
  });
}
