// Scalar functions behind the elementwise ops' reference semantics (see ../elementwise-ops.ts): floats and narrow
// integers as float64 numbers, i64 as BigInt.
import type { DType } from "../../../util/tensor.js";
import { KernelError } from "./numeric.js";

export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  const a = Math.abs(x);
  if (a > 6) return Math.sign(x);
  // erf(a) = 2/sqrt(pi) e^{-a^2} Σ 2^n a^{2n+1} / (1·3···(2n+1)): positive terms, so no cancellation.
  let term = a;
  let sum = a;
  for (let n = 1; term > sum * 1e-17; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum;
}

export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/** C `pow`, which JS's Math.pow differs from at base 1 and at (-1)^±inf. */
export function powFloat(a: number, b: number): number {
  if (a === 1 || (a === -1 && Math.abs(b) === Infinity)) return 1;
  return a ** b;
}

/** Multiplication that wraps like the element type (i32, i8, u8). */
export function intMul(dtype: DType): (a: number, b: number) => number {
  if (dtype === "i32") return Math.imul;
  if (dtype === "i8") return (a, b) => ((a * b) << 24) >> 24;
  return (a, b) => (a * b) & 255;
}

function negativePower(a: number | bigint, b: number | bigint): number {
  // biome-ignore lint/suspicious/noDoubleEquals: a is a number or a bigint, and 1n == 1
  if (a == 1) return 1;
  // biome-ignore lint/suspicious/noDoubleEquals: as above
  if (a == -1) return BigInt(b) % 2n === 0n ? 1 : -1;
  // biome-ignore lint/suspicious/noDoubleEquals: as above
  if (a == 0) throw new KernelError("pow: zero to a negative integer power");
  return 0;
}

export function powInt(dtype: DType): (a: number, b: number) => number {
  const mul = intMul(dtype);
  return (a, b) => {
    if (b < 0) return negativePower(a, b);
    let r = 1;
    for (let base = a, e = b; e > 0; e = Math.floor(e / 2), base = mul(base, base)) if (e % 2 === 1) r = mul(r, base);
    return r;
  };
}

export function powI64(a: bigint, b: bigint): bigint {
  if (b < 0n) return BigInt(negativePower(a, b));
  let r = 1n;
  for (let base = a, e = b; e > 0n; e >>= 1n, base = BigInt.asIntN(64, base * base))
    if (e & 1n) r = BigInt.asIntN(64, r * base);
  return r;
}

export function divInt(a: number, b: number): number {
  if (b === 0) throw new KernelError("integer division by zero");
  return Math.trunc(a / b);
}

export function divI64(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new KernelError("integer division by zero");
  return a / b;
}
