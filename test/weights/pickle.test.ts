import { describe, expect, it } from "vitest";
import { BufferInput, CONTAINER_GLOBALS, PickleObject, unpickle, type PickleValue } from "../../src/weights/pickle.js";
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
    const d = expectDiagnostic(() => load(pk(0x80, 2, "cposix\nsystem\nX", 2, 0, 0, 0, "ls\x85R.")), "NET6007", "'posix.system'", "test.pkl");
    expect(d.message).toContain("nothing was executed");
  });

  it("refuses STACK_GLOBAL names too", () => {
    expectDiagnostic(() => load(pk(0x80, 4, 0x8c, 8, "builtins", 0x8c, 4, "eval", 0x93, ".")), "NET6007", "'builtins.eval'");
  });

  it("maps Python 2 module names before checking them", () => {
    expectDiagnostic(() => load(pk(0x80, 2, "c__builtin__\ngetattr\n.")), "NET6007", "'builtins.getattr'");
    expect(load(pk(0x80, 2, "c__builtin__\nset\n]K", 1, "a\x85R."))).toEqual(new Set([1]));
  });

  it("refuses calling an allowed global that is data only", () => {
    const globals = new Map([...CONTAINER_GLOBALS, ["torch.FloatStorage", {}]]);
    const bytes = pk(0x80, 2, "ctorch\nFloatStorage\n)R.");
    expectDiagnostic(() => unpickle(new BufferInput(bytes, "t"), { source: "t", globals }), "NET6007", "calls 'torch.FloatStorage'");
  });

  it("builds argparse.Namespace as inert fields", () => {
    const ns = load(pk(0x80, 2, "cargparse\nNamespace\n)\x81}X", 2, 0, 0, 0, "lrG", 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, "sb."));
    expect(ns).toBeInstanceOf(PickleObject);
    expect((ns as PickleObject).fields.get("lr")).toBe(1.5);
  });

  it("decodes protocol 2 bytes (_codecs.encode) but no other use of it", () => {
    expect(load(pk(0x80, 2, "c_codecs\nencode\nX", 2, 0, 0, 0, "\xc3\xbfX", 6, 0, 0, 0, "latin1\x86R."))).toEqual(Uint8Array.from([0xff]));
    expectDiagnostic(() => load(pk(0x80, 2, "c_codecs\nencode\nX", 1, 0, 0, 0, "aX", 5, 0, 0, 0, "rot13\x86R.")), "NET6006", "_codecs.encode");
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
