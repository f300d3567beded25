import { DiagnosticError } from "../../src/diagnostics/diagnostics.js";

/** The codes of the diagnostics a promise rejects with ([] when it resolves); any other error is rethrown. */
export async function rejectedCodes(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DiagnosticError) return e.diagnostics.map((d) => d.code);
    throw e;
  }
  return [];
}
