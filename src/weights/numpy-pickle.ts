// numpy values as training scripts pickle them inside checkpoints (best_acc = np.float64(...), recorder curves as
// arrays): numpy.dtype, numpy.core.multiarray.scalar and _reconstruct + BUILD, rebuilt as inert data, never as numpy.
import { f16BitsToNumber } from "../util/tensor.js";
import { BuiltValue, OpaqueObject, PickleGlobal, type GlobalHandler, type PickleValue } from "./pickle.js";

/** Arrays whose elements netc decodes; others (strings, complex, records) are kept as bytes and shown by type. */
const NUMERIC = /^[biuf]\d+$/;
/** numpy's own names, for display: "f8" is float64. */
const KIND_NAMES: Readonly<Record<string, string>> = { b: "bool", i: "int", u: "uint", f: "float" };

/** numpy.dtype(str, align, copy) and the byte order its BUILD state sets. */
export class NumpyDType extends BuiltValue {
  readonly kind = "numpy dtype";
  littleEndian = true;

  constructor(readonly code: string) {
    super();
  }

  /** (version, byteorder, subdescr, names, fields, elsize, alignment, flags): only the byte order matters here. */
  override setState(state: PickleValue): void {
    if (Array.isArray(state) && state[1] === ">") this.littleEndian = false;
  }

  /** Bytes per element; 0 when the code does not say (object arrays). */
  get itemSize(): number {
    const m = /^[a-zA-Z](\d+)$/.exec(this.code);
    return m ? Number(m[1]) : 0;
  }

  get name(): string {
    if (this.code === "b1") return "bool";
    const kind = KIND_NAMES[this.code[0]];
    return kind && NUMERIC.test(this.code) ? `${kind}${this.itemSize * 8}` : this.code;
  }

  get numeric(): boolean {
    return (
      NUMERIC.test(this.code) && [1, 2, 4, 8].includes(this.itemSize) && !(this.code[0] === "f" && this.itemSize === 1)
    );
  }

  /** Element `i` of `bytes` as data: a number, an exact bigint beyond 2^53, or a bool. */
  decode(bytes: Uint8Array, i: number): number | bigint | boolean {
    const size = this.itemSize;
    const view = new DataView(bytes.buffer, bytes.byteOffset + i * size, size);
    const le = this.littleEndian;
    const kind = this.code[0];
    if (kind === "b") return view.getUint8(0) !== 0;
    if (kind === "f")
      return size === 2
        ? f16BitsToNumber(view.getUint16(0, le))
        : size === 4
          ? view.getFloat32(0, le)
          : view.getFloat64(0, le);
    if (size === 8) {
      const v = kind === "i" ? view.getBigInt64(0, le) : view.getBigUint64(0, le);
      return v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    if (kind === "i") return size === 1 ? view.getInt8(0) : size === 2 ? view.getInt16(0, le) : view.getInt32(0, le);
    return size === 1 ? view.getUint8(0) : size === 2 ? view.getUint16(0, le) : view.getUint32(0, le);
  }
}

/** numpy.core.multiarray._reconstruct(ndarray, (0,), b'b'), then BUILD (version, shape, dtype, fortran, data). */
export class NumpyArray extends BuiltValue {
  readonly kind = "numpy array";
  shape: number[] = [0];
  dtype: NumpyDType | undefined;
  fortran = false;
  /** The raw elements (numeric and fixed-size dtypes). */
  data: Uint8Array = new Uint8Array(0);
  /** The elements of an object array, as pickled. */
  objects: PickleValue[] | undefined;

  /** Why the state could not be taken as data, if it could not: the array is then shown, not read. */
  problem: string | undefined;

  /** An array whose state is not numpy's is kept as an unreadable value, so that the rest of the file still loads. */
  override setState(state: PickleValue): void {
    this.problem = this.take(state);
  }

  private take(state: PickleValue): string | undefined {
    if (!Array.isArray(state) || state.length !== 5) return "its state is not (version, shape, dtype, order, data)";
    const [, shape, dtype, fortran, data] = state;
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)) {
      return "its shape is not a tuple of sizes";
    }
    if (!(dtype instanceof NumpyDType)) return "its dtype is not a numpy dtype";
    let count = 1;
    for (const d of shape as number[]) count = count * d;
    if (!Number.isSafeInteger(count)) return "its shape is too large to address";
    const dims = `${dtype.name} [${shape.join(", ")}]`;
    if (Array.isArray(data)) {
      if (data.length !== count) return `${dims} holds ${data.length} objects`;
      this.objects = data;
    } else if (data instanceof Uint8Array) {
      if (dtype.itemSize > 0 && data.byteLength !== count * dtype.itemSize)
        return `${dims} holds ${data.byteLength} bytes`;
      this.data = data;
    } else {
      return "its data is neither bytes nor a list";
    }
    this.shape = shape as number[];
    this.dtype = dtype;
    this.fortran = fortran === true;
    return undefined;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

/** numpy.dtype('f8', False, True); a code netc does not parse (a record, a datetime unit) stays opaque. */
function makeDType(args: PickleValue[]): PickleValue {
  const [code] = args;
  return typeof code === "string" && /^[a-zA-Z]\d*$/.test(code)
    ? new NumpyDType(code)
    : new OpaqueObject("numpy.dtype", "call", args);
}

/**
 * `scalar(dtype, bytes)`: the value as data; `scalar(dtype('O'), obj)`: the object. Anything else (other kinds,
 * arguments that are not numpy's) stays opaque, so that the rest of the file still loads.
 */
function makeScalar(name: string) {
  return (args: PickleValue[]): PickleValue => {
    const [dtype, payload] = args;
    if (dtype instanceof NumpyDType && dtype.code.startsWith("O")) return payload ?? null;
    const readable =
      dtype instanceof NumpyDType &&
      dtype.numeric &&
      payload instanceof Uint8Array &&
      payload.byteLength === dtype.itemSize;
    return readable ? dtype.decode(payload, 0) : new OpaqueObject(name, "call", args);
  };
}

function makeReconstruct(name: string) {
  return (args: PickleValue[]): PickleValue => {
    const [cls] = args;
    // A subclass of ndarray (a masked array, a matrix) is not plain data: it stays opaque, with its arguments.
    return cls instanceof PickleGlobal && cls.qualifiedName === "numpy.ndarray"
      ? new NumpyArray()
      : new OpaqueObject(name, "call", args);
  };
}

/** numpy 1.x pickles under numpy.core, numpy 2 under numpy._core. */
export const NUMPY_GLOBALS: ReadonlyMap<string, GlobalHandler> = new Map<string, GlobalHandler>([
  ["numpy.dtype", { reduce: makeDType }],
  ["numpy.ndarray", {}],
  ...["numpy.core.multiarray", "numpy._core.multiarray"].flatMap((m): [string, GlobalHandler][] => [
    [`${m}.scalar`, { reduce: makeScalar(`${m}.scalar`) }],
    [`${m}._reconstruct`, { reduce: makeReconstruct(`${m}._reconstruct`) }],
  ]),
]);
