import { describe, expect, it } from "vitest";
import { NUMPY_GLOBALS, NumpyArray } from "../../src/weights/numpy-pickle.js";
import {
  BufferInput,
  CONTAINER_GLOBALS,
  OpaqueObject,
  PickleObject,
  unpickle,
  type PickleValue,
} from "../../src/weights/pickle.js";
import { expectDiagnostic, readJson } from "./helpers.js";

const options = { source: "test.pkl", globals: CONTAINER_GLOBALS };
const load = (bytes: Uint8Array): PickleValue => unpickle(new BufferInput(bytes, "test.pkl"), options);

/** Pickle bytes from opcodes: numbers are bytes, strings are latin1 text. */
function pk(...parts: (number | string)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === "number") out.push(p);
    else for (let i = 0; i < p.length; i++) out.push(p.charCodeAt(i));
  }
  return Uint8Array.from(out);
}

/** The same text form tools/make_checkpoints.py writes for the Python value (floats by their bits). */
function canonical(v: PickleValue): string {
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "bigint") return `i:${v}`;
  if (typeof v === "number") {
    if (Object.is(v, -0)) return "f:8000000000000000";
    if (Number.isInteger(v)) return `i:${BigInt(v)}`;
    const bits = new DataView(new ArrayBuffer(8));
    bits.setFloat64(0, v);
    return `f:${bits.getBigUint64(0).toString(16).padStart(16, "0")}`;
  }
  if (typeof v === "string") return `s:${JSON.stringify(v)}`;
  if (v instanceof Uint8Array) return `b:${Buffer.from(v).toString("hex")}`;
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${canonical(k)}=${canonical(x)}`).join(",")}}`;
  if (v instanceof Set) return `set(${[...v].map(canonical).sort().join(",")})`;
  throw new Error(`unexpected value ${String(v)}`);
}

describe("unpickler on CPython's own pickles", () => {
  const cases = readJson<{ protocol: number; hex: string; expected: string }[]>("pickles.json");

  for (const c of cases) {
    it(`decodes protocol ${c.protocol} exactly`, () => {
      const value = load(Buffer.from(c.hex, "hex"));
      // JavaScript cannot tell 1.0 from 1: the fixture's floats that are whole numbers print as ints here.
      const expected = c.expected.replace(/f:([0-9a-f]{16})/g, (m, hex: string) => {
        const x = Buffer.from(hex, "hex").readDoubleBE(0);
        return Number.isInteger(x) && !Object.is(x, -0) ? `i:${BigInt(x)}` : m;
      });
      expect(canonical(value)).toBe(expected);
    });
  }

  it("keeps ints beyond 2^53 - 1 exact as bigints, and smaller ones as numbers", () => {
    const value = load(Buffer.from(cases[0].hex, "hex")) as Map<PickleValue, PickleValue>;
    const ints = value.get("ints") as PickleValue[];
    expect(ints).toContain(2 ** 31);
    expect(ints).toContain(2n ** 53n);
    expect(ints).toContain(2n ** 53n + 1n);
    expect(ints).toContain(-(2n ** 63n));
    expect(ints).toContain(-1);
  });

  it("shares memoised objects the way Python did", () => {
    const value = load(Buffer.from(cases[2].hex, "hex")) as Map<PickleValue, PickleValue>;
    const [a, b] = value.get("shared") as PickleValue[];
    expect(a).toBe(b);
  });

  it("leaves a '__proto__' key inert", () => {
    const value = load(Buffer.from(cases[0].hex, "hex")) as Map<PickleValue, PickleValue>;
    expect(value.get("__proto__")).toBeInstanceOf(Map);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(value)).toBe(Map.prototype);
  });
});

describe("unpickler refusals", () => {
  it("refuses a global outside the allow-list, naming it, before anything runs", () => {
    const d = expectDiagnostic(
      () => load(pk(0x80, 2, "cposix\nsystem\nX", 2, 0, 0, 0, "ls\x85R.")),
      "NET6007",
      "'posix.system'",
      "test.pkl",
    );
    expect(d.message).toContain("nothing was executed");
  });

  it("refuses STACK_GLOBAL names too", () => {
    expectDiagnostic(
      () => load(pk(0x80, 4, 0x8c, 8, "builtins", 0x8c, 4, "eval", 0x93, ".")),
      "NET6007",
      "'builtins.eval'",
    );
  });

  it("maps Python 2 module names before checking them", () => {
    expectDiagnostic(() => load(pk(0x80, 2, "c__builtin__\ngetattr\n.")), "NET6007", "'builtins.getattr'");
    expect(load(pk(0x80, 2, "c__builtin__\nset\n]K", 1, "a\x85R."))).toEqual(new Set([1]));
  });

  it("refuses calling an allowed global that is data only", () => {
    const globals = new Map([...CONTAINER_GLOBALS, ["torch.FloatStorage", {}]]);
    const bytes = pk(0x80, 2, "ctorch\nFloatStorage\n)R.");
    expectDiagnostic(
      () => unpickle(new BufferInput(bytes, "t"), { source: "t", globals }),
      "NET6007",
      "calls 'torch.FloatStorage'",
    );
  });

  it("builds argparse.Namespace as inert fields", () => {
    const ns = load(
      pk(0x80, 2, "cargparse\nNamespace\n)\x81}X", 2, 0, 0, 0, "lrG", 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, "sb."),
    );
    expect(ns).toBeInstanceOf(PickleObject);
    expect((ns as PickleObject).fields.get("lr")).toBe(1.5);
  });

  it("decodes protocol 2 bytes (_codecs.encode) but no other use of it", () => {
    expect(load(pk(0x80, 2, "c_codecs\nencode\nX", 2, 0, 0, 0, "\xc3\xbfX", 6, 0, 0, 0, "latin1\x86R."))).toEqual(
      Uint8Array.from([0xff]),
    );
    expectDiagnostic(
      () => load(pk(0x80, 2, "c_codecs\nencode\nX", 1, 0, 0, 0, "aX", 5, 0, 0, 0, "rot13\x86R.")),
      "NET6006",
      "_codecs.encode",
    );
  });

  const malformed: [string, Uint8Array, string][] = [
    ["an opcode checkpoints never use (INST)", pk(0x80, 2, "iposix\nsystem\n."), "opcode 0x69"],
    ["STOP on an empty stack", pk(0x80, 2, "."), "stack underflow"],
    ["a memo entry never stored", pk(0x80, 2, "h", 5, "."), "memo entry 5"],
    ["a protocol from the future", pk(0x80, 6, "N."), "protocol"],
    ["an absurdly long integer", pk(0x80, 2, 0x8b, 0, 0, 0, 1, "."), "integer of"],
    ["SETITEMS with a dangling key", pk(0x80, 2, "}(K", 1, "u."), "key but no value"],
    ["APPEND to a dict", pk(0x80, 2, "}K", 1, "a."), "not a list"],
    ["BUILD on a list", pk(0x80, 2, "]}b."), "takes no state"],
    ["REDUCE of a non-global", pk(0x80, 2, "K", 1, ")R."), "not a global"],
    ["a persistent id outside a checkpoint", pk(0x80, 2, "K", 1, "Q."), "persistent id"],
    ["POP_MARK without MARK", pk(0x80, 2, "1."), "no MARK"],
  ];
  for (const [what, bytes, fragment] of malformed) {
    it(`reports ${what}`, () => {
      const d = expectDiagnostic(() => load(bytes), "NET6006", "test.pkl", fragment);
      expect(d.message).toMatch(/offset \d+/);
    });
  }

  it("reports a stream that ends inside an opcode as truncated", () => {
    expectDiagnostic(() => load(pk(0x80, 2, "X", 0xff, 0, 0, 0, "ab")), "NET6003", "test.pkl");
    expectDiagnostic(() => load(pk(0x80, 2, "K", 1)), "NET6003");
  });

  it("survives a list that contains itself", () => {
    const list = load(pk(0x80, 2, "]q", 0, "h", 0, "a.")) as PickleValue[];
    expect(list[0]).toBe(list);
  });
});

describe("unknown globals are opaque: recorded, never called", () => {
  it("refuses globals that only an attack names, whichever opcode reaches them", () => {
    expectDiagnostic(
      () => load(pk(0x80, 2, "cbuiltins\neval\nX", 1, 0, 0, 0, "1\x85R.")),
      "NET6007",
      "'builtins.eval'",
      "nothing was executed",
    );
    expectDiagnostic(() => load(pk(0x80, 2, "csubprocess\nPopen\n)\x81.")), "NET6007", "'subprocess.Popen'");
    expectDiagnostic(() => load(pk(0x80, 2, "ctorch.hub\nload\n.")), "NET6007", "'torch.hub.load'");
    expectDiagnostic(() => load(pk(0x80, 2, "cnt\nsystem\n.")), "NET6007", "'nt.system'");
  });

  it("records a call of an unknown global with its arguments, and its BUILD state, as inert data", () => {
    // mylib.Meter(5) then BUILD {'__proto__': 1, 'n': 2}: what an object's __reduce__ pickles
    const v = load(
      pk(0x80, 2, "cmylib\nMeter\nK", 5, "\x85R}(X", 9, 0, 0, 0, "__proto__K", 1, "X", 1, 0, 0, 0, "nK", 2, "ub."),
    );
    expect(v).toBeInstanceOf(OpaqueObject);
    const o = v as OpaqueObject;
    expect([o.qualifiedName, o.made, o.args]).toEqual(["mylib.Meter", "call", [5]]);
    expect(o.states).toEqual([
      new Map<PickleValue, PickleValue>([
        ["__proto__", 1],
        ["n", 2],
      ]),
    ]);
    expect(({} as Record<string, unknown>).n).toBeUndefined();
    expect(Object.getPrototypeOf(o)).toBe(OpaqueObject.prototype);
  });

  it("records NEWOBJ, SETITEMS and APPENDS on an unknown class (dict and list subclasses)", () => {
    const dict = load(pk(0x80, 2, "cmylib\nMyDict\n)\x81(X", 1, 0, 0, 0, "aK", 1, "u.")) as OpaqueObject;
    expect([dict.made, [...dict.entries]]).toEqual(["new", [["a", 1]]]);
    const list = load(pk(0x80, 2, "cmylib\nMyList\n)\x81(K", 1, "K", 2, "e.")) as OpaqueObject;
    expect(list.items).toEqual([1, 2]);
  });

  it("keeps a bare unknown global as a name", () => {
    const g = load(pk(0x80, 2, "ctorch\nfloat32\n.")) as OpaqueObject;
    expect([g.qualifiedName, g.made]).toEqual(["torch.float32", "global"]);
  });
});

describe("numpy values", () => {
  const numpy = { source: "np.pkl", globals: new Map([...CONTAINER_GLOBALS, ...NUMPY_GLOBALS]) };
  const np = (bytes: Uint8Array): PickleValue => unpickle(new BufferInput(bytes, "np.pkl"), numpy);
  /** numpy.dtype(code, False, True) with BUILD setting the byte order. */
  const dtype = (code: string, order = "<") => [
    "cnumpy\ndtype\nX",
    code.length,
    0,
    0,
    0,
    code,
    "\x89\x88\x87R(K",
    3,
    "X",
    1,
    0,
    0,
    0,
    order,
    "NNNJ",
    0xff,
    0xff,
    0xff,
    0xff,
    "J",
    0xff,
    0xff,
    0xff,
    0xff,
    "K",
    0,
    "tb",
  ];
  const scalar = (code: string, data: number[], order = "<") =>
    np(pk(0x80, 2, "cnumpy.core.multiarray\nscalar\n", ...dtype(code, order), "C", data.length, ...data, "\x86R."));

  it("reads scalars as numbers, exact bigints and bools, in either byte order", () => {
    expect(scalar("f8", [0, 0, 0, 0, 0, 0, 0xf8, 0x3f])).toBe(1.5);
    expect(scalar("f4", [0x3f, 0xc0, 0, 0], ">")).toBe(1.5);
    expect(scalar("f2", [0x00, 0x3e])).toBe(1.5);
    expect(scalar("i8", [1, 0, 0, 0, 0, 0, 0x20, 0])).toBe(2n ** 53n + 1n);
    expect(scalar("u4", [7, 0, 0, 0])).toBe(7);
    expect(scalar("i2", [0xfe, 0xff])).toBe(-2);
    expect(scalar("b1", [1])).toBe(true);
  });

  it("keeps scalars of kinds it does not decode (strings, complex), or with the wrong data, opaque", () => {
    expect(scalar("c8", [0, 0, 0, 0, 0, 0, 0, 0])).toBeInstanceOf(OpaqueObject);
    expect(scalar("f8", [0, 0])).toBeInstanceOf(OpaqueObject);
  });

  it(
    "rebuilds arrays from _reconstruct and their BUILD state; data that disagrees with the shape leaves it " +
      "unreadable",
    () => {
      const array = (shape: number[], data: number[], fortran = false) =>
        np(
          pk(
            0x80,
            2,
            "cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK",
            0,
            "\x85C",
            1,
            "b\x87R(K",
            1,
            "(",
            ...shape.flatMap((d) => ["K", d]),
            "t",
            ...dtype("i1"),
            fortran ? "\x88" : "\x89",
            "C",
            data.length,
            ...data,
            "tb.",
          ),
        );
      const a = array([2, 3], [1, 2, 3, 4, 5, 6]) as NumpyArray;
      expect(a).toBeInstanceOf(NumpyArray);
      expect([a.shape, a.dtype?.name, [...a.data]]).toEqual([[2, 3], "int8", [1, 2, 3, 4, 5, 6]]);
      const short = array([2, 3], [1, 2]) as NumpyArray;
      expect([short.dtype, short.problem]).toEqual([undefined, "int8 [2, 3] holds 2 bytes"]);
    },
  );

  it("keeps a subclass of ndarray opaque", () => {
    const v = np(
      pk(0x80, 2, "cnumpy.core.multiarray\n_reconstruct\ncnumpy.ma.core\nMaskedArray\nK", 0, "\x85C", 1, "b\x87R."),
    );
    expect(v).toBeInstanceOf(OpaqueObject);
  });
});
