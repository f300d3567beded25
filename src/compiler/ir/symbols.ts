// Where a symbolic dim's value can be read from: a dim c*S (one symbol, any coefficient) determines S.
import { type Dim, isStatic } from "./dim.js";

/** [S, c] when `d` is c*S for a single symbol S, else undefined. */
export function symbolFactor(d: Dim): [string, number] | undefined {
  if (isStatic(d) || d.terms.size !== 1) return undefined;
  const [[key, coef]] = [...d.terms];
  return key !== "" && !key.includes("*") ? [key, coef] : undefined;
}
