// A tensor whose values are made only when a writer needs them: read from its checkpoint, drawn from the seeded
// generator, or already in memory. Writers of large outputs (the ONNX file, its external data) take one at a time
// and let it go, so a model's weights are never all held at once.
import { byteSize, bytesOf, type DType, type HostTensor, numel } from "./tensor.js";

/**
 * How another thread can make a tensor's values by itself (see read-ahead.ts): a seeded normal draw (f32/f64), or a
 * contiguous byte range of a file that must still have the size and modification time it had when it was opened.
 */
export type TensorRecipe =
  | { kind: "normal"; stream: number; std: number }
  | { kind: "file"; path: string; position: number; size: number; mtimeMs: number };

export interface LazyTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** The size of the values, row-major: elements times the element size. */
  readonly byteLength: number;
  /**
   * The values, made anew on each call (a file read, a draw): keep them only while they are needed. A bad source
   * (a checkpoint cut short after it was opened) throws a DiagnosticError.
   */
  read(): HostTensor;
  /** Set when the values can be made elsewhere; `read` stays the reference (and reports a bad source). */
  readonly recipe?: TensorRecipe;
}

/** Weights by parameter path, in memory or lazy. */
export type WeightMap = ReadonlyMap<string, HostTensor | LazyTensor>;

export function isLazyTensor(t: HostTensor | LazyTensor): t is LazyTensor {
  return typeof (t as Partial<LazyTensor>).read === "function";
}

/** A lazy tensor of `dtype` and `shape` made by `read`. */
export function lazyTensor(
  dtype: DType,
  shape: readonly number[],
  read: () => HostTensor,
  recipe?: TensorRecipe,
): LazyTensor {
  return { dtype, shape: [...shape], byteLength: numel(shape) * byteSize(dtype), read, recipe };
}

/** A tensor already in memory, behind the same interface. */
export function heldTensor(t: HostTensor): LazyTensor {
  return { dtype: t.dtype, shape: t.shape, byteLength: t.data.byteLength, read: () => t };
}

export function asLazy(t: HostTensor | LazyTensor): LazyTensor {
  return isLazyTensor(t) ? t : heldTensor(t);
}

/** The values' bytes, once read. */
export const readBytes = (t: LazyTensor): Uint8Array => bytesOf(t.read());

/** Every weight's values, read now (the tensors already in memory are not copied). */
export function readAll(weights: WeightMap): Map<string, HostTensor> {
  return new Map([...weights].map(([path, t]) => [path, isLazyTensor(t) ? t.read() : t]));
}
