// A safe unpickler for exactly what checkpoints contain (protocols 2-5 as torch.save writes them).
// Nothing is ever executed: a global resolves only through an allow-list of handlers that build inert data;
// any other global becomes an OpaqueObject that records what the pickle asked for (the name, the arguments, the
// state) and is never called or constructed; globals that can only mean an attack (os.system, eval, ...) refuse
// the file. Dicts become Maps (so a key such as "__proto__" is just a key), and objects keep their state in Maps.
import { WeightCodes, weightError } from "../diagnostics/weight-codes.js";

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PickleDict
  | PickleSet
  | PickleObject
  | PickleGlobal
  | BuiltValue
  | OpaqueObject;

export type PickleDict = Map<PickleValue, PickleValue>;
export type PickleSet = Set<PickleValue>;

/** A value made by a handler (a tensor, a storage, a numpy array); the unpickler passes it through untouched. */
export abstract class BuiltValue {
  abstract readonly kind: string;
  /** BUILD: the pickle sets the value's state (a numpy dtype's byte order, an array's data). Without it, refused. */
  setState?(state: PickleValue, ctx: HandlerContext): void;
}

/**
 * What the pickle made of a global netc does not know, recorded and inert: `global` for the bare name, `call` for
 * REDUCE (`name(*args)`), `new` for NEWOBJ (`name.__new__(name, *args)`). BUILD states, SETITEMS and APPENDS on
 * it are only recorded. Nothing is ever called: `qualifiedName` is text.
 */
export class OpaqueObject {
  readonly states: PickleValue[] = [];
  readonly items: PickleValue[] = [];
  readonly entries: PickleDict = new Map();

  constructor(
    readonly qualifiedName: string,
    readonly made: "global" | "call" | "new",
    readonly args: readonly PickleValue[] = [],
  ) {}
}

/** An instance of an allow-listed plain-data class (e.g. argparse.Namespace): its attributes, nothing more. */
export class PickleObject {
  constructor(
    readonly className: string,
    readonly fields: PickleDict = new Map(),
  ) {}
}

/** What GLOBAL pushes for an allow-listed name: the name and what calling it may do. */
export class PickleGlobal {
  constructor(
    readonly qualifiedName: string,
    readonly handler: GlobalHandler,
  ) {}
}

export interface HandlerContext {
  /** Throws a BadPickle diagnostic at the current opcode. */
  fail(message: string): never;
}

export interface GlobalHandler {
  /** REDUCE: `global(*args)`. Without it, calling the global is refused. */
  reduce?(args: PickleValue[], ctx: HandlerContext): PickleValue;
  /** NEWOBJ: `cls.__new__(cls, *args)`. Without it, instantiating the global is refused. */
  construct?(args: PickleValue[], ctx: HandlerContext): PickleValue;
}

/** Sequential input: a buffer, or a window sliding over a file. */
export interface PickleInput {
  /** Offset of the next byte, in the underlying buffer or file. */
  readonly position: number;
  /** The next `n` bytes; throws a Truncated diagnostic past the end. */
  take(n: number): Uint8Array;
}

export class BufferInput implements PickleInput {
  private cursor = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}

  get position(): number {
    return this.cursor;
  }

  take(n: number): Uint8Array {
    if (n > this.bytes.byteLength - this.cursor) {
      throw weightError(
        WeightCodes.Truncated,
        `${this.what} ends at byte ${this.bytes.byteLength}, inside a pickle opcode`,
      );
    }
    this.cursor += n;
    return this.bytes.subarray(this.cursor - n, this.cursor);
  }
}

export interface UnpickleOptions {
  /** Names the stream in messages, e.g. "model.pth (data.pkl)". */
  source: string;
  /** Allow-list, keyed by "module.name". */
  globals: ReadonlyMap<string, GlobalHandler>;
  /** Resolves BINPERSID ids (torch: storages); without it persistent ids are refused. */
  persistentLoad?(pid: PickleValue, ctx: HandlerContext): PickleValue;
}

/** Plain containers that protocol 2 can only express through globals. */
export const CONTAINER_GLOBALS: ReadonlyMap<string, GlobalHandler> = new Map<string, GlobalHandler>([
  ["collections.OrderedDict", { reduce: (args, ctx) => dictFromArgs(args, ctx) }],
  ["builtins.set", { reduce: (args, ctx) => new Set(iterableArg(args, ctx)) }],
  ["builtins.frozenset", { reduce: (args, ctx) => new Set(iterableArg(args, ctx)) }],
  ["_codecs.encode", { reduce: (args, ctx) => encodeText(args, ctx) }],
  // Protocol 2 writes b"" as bytes().
  [
    "builtins.bytes",
    { reduce: (args, ctx) => (args.length === 0 ? new Uint8Array(0) : ctx.fail("bytes() with arguments")) },
  ],
  ["argparse.Namespace", { construct: () => new PickleObject("argparse.Namespace") }],
]);

function dictFromArgs(args: PickleValue[], ctx: HandlerContext): PickleDict {
  const dict: PickleDict = new Map();
  for (const pair of iterableArg(args, ctx)) {
    if (!Array.isArray(pair) || pair.length !== 2) ctx.fail("OrderedDict expects (key, value) pairs");
    dict.set(pair[0], pair[1]);
  }
  return dict;
}

function iterableArg(args: PickleValue[], ctx: HandlerContext): PickleValue[] {
  if (args.length === 0) return [];
  if (args.length === 1 && Array.isArray(args[0])) return args[0];
  return ctx.fail("a container global expects one list argument");
}

/** Protocol 2 pickles `bytes` as `_codecs.encode(text, "latin1")`. */
function encodeText(args: PickleValue[], ctx: HandlerContext): Uint8Array {
  const [text, encoding] = args;
  if (typeof text !== "string" || (encoding !== "latin1" && encoding !== "latin-1")) {
    return ctx.fail("_codecs.encode is accepted only as protocol 2 writes bytes: (text, 'latin1')");
  }
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) ctx.fail("_codecs.encode text is not latin1");
    out[i] = c;
  }
  return out;
}

export function unpickle(input: PickleInput, options: UnpickleOptions): PickleValue {
  return new Unpickler(input, options).run();
}

const MAX_PROTOCOL = 5;
/** Python 2 module names that protocol 2 pickles use for builtins. */
const PY2_MODULES: ReadonlyMap<string, string> = new Map([
  ["__builtin__", "builtins"],
  ["copy_reg", "copyreg"],
]);
/**
 * Globals that only an attack puts in a checkpoint (they run commands, evaluate code, load more pickles, open files
 * or sockets, or reach any attribute): such a file is refused as a whole. Any other unknown global is merely opaque,
 * and inert; this list only makes an attack plain to see. Standard-library modules, by their top-level name:
 */
const DANGEROUS_MODULES = new Set([
  "os",
  "posix",
  "nt",
  "subprocess",
  "sys",
  "importlib",
  "runpy",
  "pty",
  "socket",
  "shutil",
  "pickle",
  "_pickle",
  "marshal",
  "ctypes",
  "webbrowser",
  "multiprocessing",
  "threading",
  "signal",
  "pdb",
  "timeit",
  "commands",
  "popen2",
  "urllib",
  "http",
  "ftplib",
  "smtplib",
  "telnetlib",
  "zipimport",
  "pkgutil",
  "asyncio",
  "shelve",
  "dill",
  "cloudpickle",
]);
const DANGEROUS_NAMES = new Set([
  ...[
    "eval",
    "exec",
    "compile",
    "getattr",
    "setattr",
    "delattr",
    "__import__",
    "open",
    "globals",
    "locals",
    "vars",
  ].map((n) => `builtins.${n}`),
  ...["input", "breakpoint", "exit", "quit", "help", "execfile", "apply", "reload", "file"].map((n) => `builtins.${n}`),
  "operator.attrgetter",
  "operator.methodcaller",
  "types.FunctionType",
  "types.CodeType",
  "types.LambdaType",
  "code.interact",
  "code.InteractiveConsole",
  "code.InteractiveInterpreter",
  "codeop.compile_command",
  "torch.load",
  "numpy.load",
  "numpy.testing._private.utils.runstring",
]);

function isDangerous(qualified: string): boolean {
  if (DANGEROUS_NAMES.has(qualified)) return true;
  const root = qualified.slice(0, qualified.indexOf("."));
  // torch.hub, torch.package, TorchScript and C++ extensions load and run code.
  return DANGEROUS_MODULES.has(root) || /^torch\.(hub|package|jit|utils\.cpp_extension)\./.test(qualified);
}

const MAX_GLOBAL_LINE = 256;
/** Longer integers than this (LONG4) are no part of any checkpoint. */
const MAX_LONG_BYTES = 1024;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const utf8 = new TextDecoder("utf-8");

class Unpickler implements HandlerContext {
  private readonly stack: PickleValue[] = [];
  /** Stack heights at each MARK. */
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private opStart = 0;

  constructor(
    private readonly input: PickleInput,
    private readonly options: UnpickleOptions,
  ) {}

  fail(message: string): never {
    throw weightError(
      WeightCodes.BadPickle,
      `${this.options.source}: ${message} (pickle opcode at offset ${this.opStart})`,
    );
  }

  run(): PickleValue {
    for (;;) {
      this.opStart = this.input.position;
      const op = this.u8();
      switch (op) {
        case 0x80: // PROTO
          if (this.u8() > MAX_PROTOCOL) this.fail(`pickle protocol above ${MAX_PROTOCOL}`);
          break;
        case 0x95: // FRAME: a length hint only
          this.input.take(8);
          break;
        case 0x2e: // STOP
          return this.pop();
        case 0x4e: // NONE
          this.push(null);
          break;
        case 0x88: // NEWTRUE
          this.push(true);
          break;
        case 0x89: // NEWFALSE
          this.push(false);
          break;
        case 0x4b: // BININT1
          this.push(this.u8());
          break;
        case 0x4d: // BININT2
          this.push(this.view(2).getUint16(0, true));
          break;
        case 0x4a: // BININT
          this.push(this.view(4).getInt32(0, true));
          break;
        case 0x8a: // LONG1
          this.push(this.long(this.u8()));
          break;
        case 0x8b: // LONG4
          this.push(this.long(this.length(4)));
          break;
        case 0x47: // BINFLOAT (big-endian)
          this.push(this.view(8).getFloat64(0, false));
          break;
        case 0x8c: // SHORT_BINUNICODE
        case 0x55: // SHORT_BINSTRING (Python 2 str; torch.load decodes it as UTF-8)
          this.push(utf8.decode(this.input.take(this.u8())));
          break;
        case 0x58: // BINUNICODE
        case 0x54: // BINSTRING
          this.push(utf8.decode(this.input.take(this.length(4))));
          break;
        case 0x8d: // BINUNICODE8
          this.push(utf8.decode(this.input.take(this.length(8))));
          break;
        case 0x43: // SHORT_BINBYTES
          this.push(this.input.take(this.u8()).slice());
          break;
        case 0x42: // BINBYTES
          this.push(this.input.take(this.length(4)).slice());
          break;
        case 0x8e: // BINBYTES8
        case 0x96: // BYTEARRAY8
          this.push(this.input.take(this.length(8)).slice());
          break;
        case 0x7d: // EMPTY_DICT
          this.push(new Map());
          break;
        case 0x5d: // EMPTY_LIST
        case 0x29: // EMPTY_TUPLE
          this.push([]);
          break;
        case 0x8f: // EMPTY_SET
          this.push(new Set());
          break;
        case 0x28: // MARK
          this.marks.push(this.stack.length);
          break;
        case 0x74: // TUPLE
        case 0x6c: // LIST
          this.push(this.popMark());
          break;
        case 0x85: // TUPLE1
          this.push([this.pop()]);
          break;
        case 0x86: {
          // TUPLE2
          const b = this.pop();
          this.push([this.pop(), b]);
          break;
        }
        case 0x87: {
          // TUPLE3
          const c = this.pop();
          const b = this.pop();
          this.push([this.pop(), b, c]);
          break;
        }
        case 0x64: // DICT
          this.push(this.setItems(new Map(), this.popMark()));
          break;
        case 0x91: // FROZENSET
          this.push(new Set(this.popMark()));
          break;
        case 0x61: {
          // APPEND
          const item = this.pop();
          this.list().push(item);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = this.popMark();
          const list = this.list();
          for (const item of items) list.push(item);
          break;
        }
        case 0x73: {
          // SETITEM
          const value = this.pop();
          const key = this.pop();
          this.dict().set(key, value);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = this.popMark();
          this.setItems(this.dict(), items);
          break;
        }
        case 0x90: {
          // ADDITEMS
          const items = this.popMark();
          const set = this.top();
          if (!(set instanceof Set)) this.fail("ADDITEMS on a value that is not a set");
          for (const item of items) set.add(item);
          break;
        }
        case 0x71: // BINPUT
          this.memo.set(this.u8(), this.top());
          break;
        case 0x72: // LONG_BINPUT
          this.memo.set(this.length(4), this.top());
          break;
        case 0x94: // MEMOIZE
          this.memo.set(this.memo.size, this.top());
          break;
        case 0x68: // BINGET
          this.push(this.recall(this.u8()));
          break;
        case 0x6a: // LONG_BINGET
          this.push(this.recall(this.length(4)));
          break;
        case 0x63: {
          // GLOBAL
          const module = this.line();
          this.push(this.global(module, this.line()));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== "string" || typeof name !== "string") this.fail("STACK_GLOBAL needs two strings");
          this.push(this.global(module, name));
          break;
        }
        case 0x52: {
          // REDUCE
          const args = this.args(this.pop());
          this.push(this.invoke(this.pop(), "reduce", args));
          break;
        }
        case 0x81: {
          // NEWOBJ
          const args = this.args(this.pop());
          this.push(this.invoke(this.pop(), "construct", args));
          break;
        }
        case 0x92: {
          // NEWOBJ_EX
          const kwargs = this.pop();
          const args = this.args(this.pop());
          if (!(kwargs instanceof Map)) this.fail("NEWOBJ_EX with keyword arguments that are not a dict");
          const made = this.invoke(this.pop(), "construct", args);
          if (kwargs.size > 0 && !(made instanceof OpaqueObject)) this.fail("NEWOBJ_EX with keyword arguments");
          if (made instanceof OpaqueObject) for (const [k, v] of kwargs) made.entries.set(k, v);
          this.push(made);
          break;
        }
        case 0x62: // BUILD
          this.build(this.pop(), this.top());
          break;
        case 0x51: {
          // BINPERSID
          const pid = this.pop();
          if (!this.options.persistentLoad) this.fail("a persistent id where none can occur");
          this.push(this.options.persistentLoad(pid, this));
          break;
        }
        case 0x30: // POP
          if (this.stack.length === this.fence() && this.marks.length > 0) this.marks.pop();
          else this.pop();
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          this.push(this.top());
          break;
        default:
          this.fail(`opcode 0x${op.toString(16).padStart(2, "0")} does not occur in checkpoints`);
      }
    }
  }

  private u8(): number {
    return this.input.take(1)[0];
  }

  private view(n: number): DataView {
    const bytes = this.input.take(n);
    return new DataView(bytes.buffer, bytes.byteOffset, n);
  }

  /** An unsigned little-endian count of 4 or 8 bytes. */
  private length(n: 4 | 8): number {
    const view = this.view(n);
    if (n === 4) return view.getUint32(0, true);
    const v = view.getBigUint64(0, true);
    if (v > MAX_SAFE) this.fail(`length ${v} is out of range`);
    return Number(v);
  }

  /** Little-endian two's complement; a number when exact, else a bigint. */
  private long(n: number): number | bigint {
    if (n > MAX_LONG_BYTES) this.fail(`an integer of ${n} bytes`);
    const bytes = this.input.take(n);
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
    if (bytes[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
  }

  private line(): string {
    const chars: number[] = [];
    for (;;) {
      const c = this.u8();
      if (c === 0x0a) return String.fromCharCode(...chars);
      if (chars.length >= MAX_GLOBAL_LINE) this.fail("a GLOBAL name that is too long");
      chars.push(c);
    }
  }

  private global(module: string, name: string): PickleGlobal | OpaqueObject {
    const qualified = `${PY2_MODULES.get(module) ?? module}.${name}`;
    const handler = this.options.globals.get(qualified);
    if (handler) return new PickleGlobal(qualified, handler);
    if (isDangerous(qualified)) {
      throw weightError(
        WeightCodes.ForbiddenGlobal,
        `${this.options.source}: the pickle names the Python global '${qualified}', which is not allowed ` +
          `(offset ${this.opStart}); nothing was executed`,
      );
    }
    return new OpaqueObject(qualified, "global");
  }

  private invoke(target: PickleValue, how: "reduce" | "construct", args: PickleValue[]): PickleValue {
    const opcode = how === "reduce" ? "REDUCE" : "NEWOBJ";
    if (target instanceof OpaqueObject)
      return new OpaqueObject(target.qualifiedName, how === "reduce" ? "call" : "new", args);
    if (!(target instanceof PickleGlobal)) return this.fail(`${opcode} of a value that is not a global`);
    const { handler } = target;
    if (how === "reduce" && handler.reduce) return handler.reduce(args, this);
    if (how === "construct" && handler.construct) return handler.construct(args, this);
    throw weightError(
      WeightCodes.ForbiddenGlobal,
      `${this.options.source}: the pickle ${how === "reduce" ? "calls" : "instantiates"} ` +
        `'${target.qualifiedName}', which is not allowed (offset ${this.opStart}); nothing was executed`,
    );
  }

  private args(value: PickleValue): PickleValue[] {
    return Array.isArray(value) ? value : this.fail("call arguments that are not a tuple");
  }

  /**
   * BUILD sets an object's state: plain-data objects take its fields, an opaque object records it, a handler's value
   * takes it only if it says how; a dict's state is its `_metadata` (module versions).
   */
  private build(state: PickleValue, target: PickleValue): void {
    if (target instanceof OpaqueObject) {
      target.states.push(state);
    } else if (target instanceof BuiltValue && target.setState) {
      target.setState(state, this);
    } else if (target instanceof PickleObject) {
      const parts = Array.isArray(state) ? state : [state];
      for (const part of parts) {
        if (part === null) continue;
        if (!(part instanceof Map)) this.fail(`state of ${target.className} that is not a dict`);
        for (const [k, v] of part) target.fields.set(k, v);
      }
    } else if (!(target instanceof Map)) {
      this.fail("BUILD on a value that takes no state");
    }
  }

  private setItems(dict: PickleDict, items: PickleValue[]): PickleDict {
    if (items.length % 2 !== 0) this.fail("a dict with a key but no value");
    for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
    return dict;
  }

  private fence(): number {
    return this.marks.length > 0 ? this.marks[this.marks.length - 1] : 0;
  }

  private push(v: PickleValue): void {
    this.stack.push(v);
  }

  private pop(): PickleValue {
    if (this.stack.length <= this.fence()) this.fail("stack underflow");
    return this.stack.pop() as PickleValue;
  }

  private top(): PickleValue {
    if (this.stack.length <= this.fence()) this.fail("stack underflow");
    return this.stack[this.stack.length - 1];
  }

  private popMark(): PickleValue[] {
    const at = this.marks.pop();
    if (at === undefined) this.fail("no MARK to pop to");
    return this.stack.splice(at);
  }

  /** APPEND's target: a list, or an opaque object (a list subclass), which records the items. */
  private list(): PickleValue[] {
    const list = this.top();
    if (list instanceof OpaqueObject) return list.items;
    if (!Array.isArray(list)) this.fail("APPEND to a value that is not a list");
    return list;
  }

  /** SETITEM's target: a dict, or an opaque object (a dict subclass), which records the entries. */
  private dict(): PickleDict {
    const dict = this.top();
    if (dict instanceof OpaqueObject) return dict.entries;
    if (!(dict instanceof Map)) this.fail("SETITEM on a value that is not a dict");
    return dict;
  }

  private recall(index: number): PickleValue {
    if (!this.memo.has(index)) this.fail(`memo entry ${index} was never stored`);
    return this.memo.get(index) as PickleValue;
  }
}
