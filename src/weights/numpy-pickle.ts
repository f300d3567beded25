// numpy values as training scripts pickle them inside checkpoints (best_acc = np.float64(...), recorder curves as
// arrays): numpy.dtype, numpy.core.multiarray.scalar and _reconstruct + BUILD, rebuilt as inert data, never as numpy.
import { f16BitsToNumber } from "../util/tensor.js";
import { BuiltValue, OpaqueObject, PickleGlobal, type GlobalHandler, type HandlerContext, type PickleValue } from "./pickle.js";

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

  /** (version, byteorder, subdescr, names, fields, elsize, alignment, flags) */
  override setState(state: PickleValue, ctx: HandlerContext): void {
    if (!Array.isArray(state) || state.length < 2) ctx.fail("a numpy dtype state that is not a tuple");
    if (state[1] === ">") this.littleEndian = false;
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
    return NUMERIC.test(this.code) && [1, 2, 4, 8].includes(this.itemSize) && !(this.code[0] === "f" && this.itemSize === 1);
  }

  /** Element `i` of `bytes` as data: a number, an exact bigint beyond 2^53, or a bool. */
  decode(bytes: Uint8Array, i: number): number | bigint | boolean {
    const size = this.itemSize;
    const view = new DataView(bytes.buffer, bytes.byteOffset + i * size, size);
    const le = this.littleEndian;
    const kind = this.code[0];
    if (kind === "b") return view.getUint8(0) !== 0;
    if (kind === "f") return size === 2 ? f16BitsToNumber(view.getUint16(0, le)) : size === 4 ? view.getFloat32(0, le) : view.getFloat64(0, le);
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

  override setState(state: PickleValue, ctx: HandlerContext): void {
    if (!Array.isArray(state) || state.length !== 5) return ctx.fail("a numpy array state that is not (version, shape, dtype, order, data)");
    const [, shape, dtype, fortran, data] = state;
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)) {
      return ctx.fail("a numpy array shape that is not a tuple of sizes");
    }
    if (!(dtype instanceof NumpyDType)) return ctx.fail("a numpy array whose dtype is not a numpy dtype");
    let count = 1;
    for (const d of shape as number[]) count = count * d;
    if (!Number.isSafeInteger(count)) return ctx.fail("a numpy array shape too large to address");
    this.shape = shape as number[];
    this.dtype = dtype;
    this.fortran = fortran === true;
    if (Array.isArray(data)) {
      if (data.length !== count) return ctx.fail(`a numpy object array of shape [${this.shape.join(", ")}] holding ${data.length} objects`);
      this.objects = data;
    } else if (data instanceof Uint8Array) {
      if (dtype.itemSize > 0 && data.byteLength !== count * dtype.itemSize) {
        return ctx.fail(`a numpy ${dtype.name} array of shape [${this.shape.join(", ")}] with ${data.byteLength} bytes of data`);
      }
      this.data = data;
    } else {
      return ctx.fail("a numpy array whose data is neither bytes nor a list");
    }
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

function makeDType(args: PickleValue[], ctx: HandlerContext): NumpyDType {
  const [code] = args;
  if (typeof code !== "string" || !/^[a-zA-Z]\d*$/.test(code)) return ctx.fail("numpy.dtype of something that is not a type code");
  return new NumpyDType(code);
}

/** `scalar(dtype, bytes)`: the value as data; `scalar(dtype('O'), obj)`: the object. Other kinds stay opaque. */
function makeScalar(name: string) {
  return (args: PickleValue[], ctx: HandlerContext): PickleValue => {
    const [dtype, payload] = args;
    if (!(dtype instanceof NumpyDType)) return ctx.fail(`${name} of something that is not a numpy dtype`);
    if (dtype.code.startsWith("O")) return payload ?? null;
    if (!dtype.numeric) return new OpaqueObject(name, "call", args);
    if (!(payload instanceof Uint8Array) || payload.byteLength !== dtype.itemSize) {
      return ctx.fail(`a numpy ${dtype.name} scalar whose data is not ${dtype.itemSize} bytes`);
    }
    return dtype.decode(payload, 0);
  };
}

function makeReconstruct(name: string) {
  return (args: PickleValue[]): PickleValue => {
    const [cls] = args;
    // A subclass of ndarray (a masked array, a matrix) is not plain data: it stays opaque, with its arguments.
    return cls instanceof PickleGlobal && cls.qualifiedName === "numpy.ndarray" ? new NumpyArray() : new OpaqueObject(name, "call", args);
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
