// Symbolic dimensions: polynomials with integer coefficients over named symbols (e.g. B, 8*B, B*T + 1).
// Dimension arithmetic in types and in the IR uses these; a static dimension is a plain number.

export interface SymDim {
  /** Monomial key (symbols joined by '*', sorted; '' for the constant) -> coefficient; no zero entries. */
  readonly terms: ReadonlyMap<string, number>;
}

export type Dim = number | SymDim;

export function sym(name: string): SymDim {
  return { terms: new Map([[name, 1]]) };
}

function termsOf(d: Dim): Map<string, number> {
  if (typeof d === "number") return d === 0 ? new Map() : new Map([["", d]]);
  return new Map(d.terms);
}

function normalize(terms: Map<string, number>): Dim {
  for (const [k, v] of terms) if (v === 0) terms.delete(k);
  if (terms.size === 0) return 0;
  if (terms.size === 1 && terms.has("")) return terms.get("")!;
  return { terms };
}

export function isStatic(d: Dim): d is number {
  return typeof d === "number";
}

export function dimAdd(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a + b;
  const t = termsOf(a);
  for (const [k, v] of termsOf(b)) t.set(k, (t.get(k) ?? 0) + v);
  return normalize(t);
}

export function dimNeg(a: Dim): Dim {
  if (typeof a === "number") return -a;
  const t = new Map<string, number>();
  for (const [k, v] of a.terms) t.set(k, -v);
  return normalize(t);
}

export function dimSub(a: Dim, b: Dim): Dim {
  return dimAdd(a, dimNeg(b));
}

function mulKeys(a: string, b: string): string {
  if (a === "") return b;
  if (b === "") return a;
  return [...a.split("*"), ...b.split("*")].sort().join("*");
}

export function dimMul(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a * b;
  const t = new Map<string, number>();
  for (const [ka, va] of termsOf(a))
    for (const [kb, vb] of termsOf(b)) {
      const k = mulKeys(ka, kb);
      t.set(k, (t.get(k) ?? 0) + va * vb);
    }
  return normalize(t);
}

/** Exact division; undefined when the quotient is not a polynomial with integer coefficients. */
export function dimDivExact(a: Dim, b: Dim): Dim | undefined {
  if (typeof b === "number") {
    if (b === 0) return undefined;
    if (typeof a === "number") return a % b === 0 ? a / b : undefined;
    const t = new Map<string, number>();
    for (const [k, v] of a.terms) {
      if (v % b !== 0) return undefined;
      t.set(k, v / b);
    }
    return normalize(t);
  }
  // Symbolic divisor: only a single monomial that divides every term of a.
  if (b.terms.size !== 1) return dimEq(a, b) ? 1 : undefined;
  const [[kb, vb]] = [...b.terms];
  const syms = kb.split("*");
  const t = new Map<string, number>();
  for (const [k, v] of termsOf(a)) {
    const rest = k === "" ? [] : k.split("*");
    for (const s of syms) {
      const i = rest.indexOf(s);
      if (i < 0) return undefined;
      rest.splice(i, 1);
    }
    if (v % vb !== 0) return undefined;
    t.set(rest.join("*"), v / vb);
  }
  return normalize(t);
}

export function dimEq(a: Dim, b: Dim): boolean {
  if (typeof a === "number" || typeof b === "number") return typeof a === typeof b && a === b;
  if (a.terms.size !== b.terms.size) return false;
  for (const [k, v] of a.terms) if (b.terms.get(k) !== v) return false;
  return true;
}

export function shapeEq(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => dimEq(d, b[i]));
}

export function dimToString(d: Dim): string {
  if (typeof d === "number") return String(d);
  const parts: string[] = [];
  const keys = [...d.terms.keys()].sort((x, y) => (x === "" ? 1 : y === "" ? -1 : x.localeCompare(y)));
  for (const k of keys) {
    const v = d.terms.get(k)!;
    const mag = Math.abs(v);
    const body = k === "" ? String(mag) : mag === 1 ? k : `${mag}*${k}`;
    parts.push(parts.length === 0 ? (v < 0 ? `-${body}` : body) : v < 0 ? ` - ${body}` : ` + ${body}`);
  }
  return parts.join("");
}

export function shapeToString(shape: readonly Dim[]): string {
  return `[${shape.map(dimToString).join(", ")}]`;
}

/** Symbols a dimension mentions. */
export function dimSymbols(d: Dim): string[] {
  if (typeof d === "number") return [];
  const out = new Set<string>();
  for (const k of d.terms.keys()) if (k !== "") for (const s of k.split("*")) out.add(s);
  return [...out];
}

/** Substitutes symbol values; the result is static when every symbol is bound. */
export function dimSubstitute(d: Dim, values: ReadonlyMap<string, Dim>): Dim {
  if (typeof d === "number") return d;
  let acc: Dim = 0;
  for (const [k, v] of d.terms) {
    let term: Dim = v;
    if (k !== "") for (const s of k.split("*")) term = dimMul(term, values.get(s) ?? sym(s));
    acc = dimAdd(acc, term);
  }
  return acc;
}

/** The product of a shape's dimensions. */
export function dimProduct(shape: readonly Dim[]): Dim {
  return shape.reduce<Dim>((acc, d) => dimMul(acc, d), 1);
}
