// Assembles one kernel's WGSL module: storage bindings for the buffers it touches, a load or store function per
// buffer-held value (hiding chunked values and storage conversions), a function per inlined node, the epilogue,
// and the entry point that a kernel family writes.
import type { Node, Value } from "../../../compiler/ir/ir.js";
import type { BatchDispatch, BindingEntry } from "../../../runtime/manifest.js";
import type { ValueLayout } from "../memory.js";
import type { PlannedKernel } from "../plan.js";
import { shapeOf } from "../prepare.js";
import { inlineBody, operandShape, scalarExpr } from "../ops.js";
import { broadcastIndex, u } from "./indexing.js";
import { HELPERS } from "./scalar-ops.js";
import { type ExprType, exprTypeOf, literal } from "./scalar-types.js";
import { toNumbers } from "../../../compiler/ir/interp/numeric.js";

/** What every kernel's code generation needs to know about the whole program. */
export interface CodegenContext {
  layouts: ReadonlyMap<Value, ValueLayout>;
  inlined: ReadonlySet<Node>;
  literals: ReadonlySet<Value>;
  maxWorkgroupsPerDimension: number;
  maxWorkgroupStorageBytes: number;
  maxInvocations: number;
  /** Set for a bundle whose batch is chosen at run time. */
  batch?: RuntimeBatch;
}

/**
 * How kernels with a run-time batch are generated: the graph's shapes are those at batch `at` (the largest, or a
 * probe; see compile.ts), and every value's batch, when it has one, is a multiple of its first axis.
 */
export interface RuntimeBatch {
  at: number;
  max: number;
  /** Whether the first axis of a value grows with the batch. */
  batched: (v: Value) => boolean;
  /** The axis of a value that is a multiple of the batch; one other than the first is laid out at the largest. */
  batchAxis: (v: Value) => number | undefined;
}

/** A count of work items, `perBatch * batch + fixed`; perBatch is 0 for a count the batch does not change. */
export interface Extent {
  perBatch: number;
  fixed: number;
}

export const fixedExtent = (n: number): Extent => ({ perBatch: 0, fixed: n });

/** Work that is not a multiple of the run-time batch (e.g. the batch times itself); reported as a diagnostic. */
export class BatchDependent extends Error {}

/** A dispatch too large for the adapter's grid; reported as a diagnostic on the anchor node. */
export class DispatchTooLarge extends Error {}

export interface KernelModule {
  code: string;
  bindings: BindingEntry[];
  /** At the largest batch. */
  workgroups: [number, number, number];
  /** The workgroup counts at any batch, for a kernel whose work grows with the run-time batch. */
  dispatch?: BatchDispatch;
  /** The binding of the uniform holding the run-time batch, for a kernel that reads it. */
  batchBinding?: number;
}

/** The WGSL name of the run-time batch (a uniform). */
const BATCH = "batch_size";

export const ENTRY = `@compute @workgroup_size`;
export const ENTRY_ARGS = `@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32`;

export class KernelWriter {
  private readonly bindings: BindingEntry[] = [];
  private readonly declarations: string[] = [];
  private readonly functions = new Map<string, string>();
  private readonly helpers = new Set<string>();
  private readonly bindingOf = new Map<string, string>();
  /** Values numbered in order of first use, so that kernels of the same structure get the same WGSL. */
  private readonly localIds = new Map<Value, number>();
  private needsF16 = false;
  private readsBatch = false;
  private dispatch?: BatchDispatch;

  constructor(
    readonly ctx: CodegenContext,
    readonly kernel: PlannedKernel,
  ) {}

  readonly use = (helper: string): void => {
    this.helpers.add(helper);
  };

  /**
   * `count` items over `v` (a number of elements, rows or blocks at the shapes given) as an extent: it grows with
   * the run-time batch when v's first axis does and the items keep that axis (a reduction over it does not).
   */
  items(count: number, v: Value, keepsFirstAxis = true): Extent {
    const b = this.ctx.batch;
    if (!b || !keepsFirstAxis || !b.batched(v)) return fixedExtent(count);
    if (count % b.at !== 0) throw new BatchDependent(`${count} work items at batch ${b.at} are not a multiple of it`);
    return { perBatch: count / b.at, fixed: 0 };
  }

  /**
   * One work item per element of v's `axis`, when that axis holds the batch wherever it lies in v (an LSTM's
   * sequences, batch second): a value laid out at the largest batch still needs only the items of the batch given,
   * since no op reads across the batch (backends/wgsl/batch.ts).
   */
  itemsAlong(v: Value, axis: number): Extent {
    const b = this.ctx.batch;
    const count = shapeOf(v)[axis];
    if (!b || b.batchAxis(v) !== axis) return fixedExtent(count);
    const boundAt = axis === 0 ? b.at : b.max;
    if (count % boundAt !== 0) throw new BatchDependent(`${count} items at batch ${boundAt} are not a multiple of it`);
    return { perBatch: count / boundAt, fixed: 0 };
  }

  /** The product of two extents; the batch times itself is not an extent. */
  product(a: Extent, b: Extent): Extent {
    if (a.perBatch !== 0 && b.perBatch !== 0) throw new BatchDependent("the work grows with the square of the batch");
    return { perBatch: a.perBatch * b.fixed + b.perBatch * a.fixed, fixed: a.fixed * b.fixed };
  }

  /** The extent's count at the largest batch: where kernels choose a specialisation, it holds for every batch. */
  atMax(e: Extent): number {
    return e.perBatch * (this.ctx.batch?.max ?? 0) + e.fixed;
  }

  /** `e * k` as a u32 WGSL expression: a literal, or read from the run-time batch. */
  times(e: Extent, k = 1): string {
    if (e.perBatch === 0) return u(e.fixed * k);
    this.readsBatch = true;
    return `(${BATCH} * ${u(e.perBatch * k)}${e.fixed === 0 ? "" : ` + ${u(e.fixed * k)}`})`;
  }

  /**
   * A 1-D grid of workgroups, each taking `per` of `items`, laid out in x then y (sized at the largest batch), and
   * the WGSL for the flat workgroup index. A grid that grows with the batch is recorded as the kernel's dispatch.
   */
  grid(items: Extent, per: number): { workgroups: [number, number, number]; index: string } {
    const max = this.ctx.maxWorkgroupsPerDimension;
    const count = Math.ceil(this.atMax(items) / per);
    const x = Math.max(1, Math.min(count, max));
    const y = Math.ceil(count / x);
    if (y > max) throw new DispatchTooLarge(`${count} workgroups exceed the adapter's ${max}² grid`);
    if (items.perBatch !== 0)
      this.dispatch = { x: [{ perBatch: items.perBatch, fixed: items.fixed, divisor: per }], y: [], z: [], wrap: x };
    return { workgroups: [x, Math.max(1, y), 1], index: y > 1 ? `(wid.y * ${u(x)} + wid.x)` : "wid.x" };
  }

  /** Records a dispatch that is not a flat grid (each of x, y, z counting `ceil(extent / divisor)`). */
  setDispatch(dims: [Extent, number][]): void {
    if (dims.every(([e]) => e.perBatch === 0)) return;
    const [x, y, z] = dims.map(([e, divisor]) => [{ perBatch: e.perBatch, fixed: e.fixed, divisor }]);
    this.dispatch = { x, y, z };
  }

  /** The WGSL expression of `v`'s element at the flat index `index` (a u32 expression). */
  read(v: Value, index: string): string {
    const source = v.producer;
    if (this.ctx.literals.has(v) && source.op === "const") {
      return literal(v.dtype, toNumbers(source.attrs.value)[0]);
    }
    if (this.ctx.inlined.has(v.producer) || (v.producer === this.kernel.anchor && this.kernel.kind === "pointwise"))
      return `${this.inlineFunction(v.producer)}(${index})`;
    return `${this.loadFunction(v)}(${index})`;
  }

  /** A statement storing `expr` as `v`'s element at `index`; nothing when no other kernel reads `v`. */
  store(v: Value, index: string, expr: string): string {
    return this.kernel.stores.includes(v) ? `${this.storeFunction(v)}(${index}, ${expr});` : "";
  }

  private binding(buffer: number, access: "read" | "read_write", storage: string): string {
    const key = `${buffer}:${access}`;
    let name = this.bindingOf.get(key);
    if (!name) {
      const binding = this.bindings.length;
      name = `b${binding}`;
      this.bindings.push({ binding, buffer, access });
      if (storage === "f16") this.needsF16 = true;
      this.declarations.push(`@group(0) @binding(${binding}) var<storage, ${access}> ${name}: array<${storage}>;`);
      this.bindingOf.set(key, name);
    }
    return name;
  }

  private id(v: Value): number {
    let n = this.localIds.get(v);
    if (n === undefined) {
      n = this.localIds.size;
      this.localIds.set(v, n);
    }
    return n;
  }

  private layout(v: Value): ValueLayout {
    const l = this.ctx.layouts.get(v);
    if (!l) throw new Error(`value ${v.id} (${v.producer.op}) has no buffer (a compiler bug)`);
    return l;
  }

  /** Picks the chunk holding element `i` and evaluates `access(buffer, localIndex)` there. */
  private chunked(l: ValueLayout, access: "read" | "read_write", at: (name: string, index: string) => string): string {
    if (l.chunks.length === 1) return `  ${at(this.binding(l.chunks[0].buffer, access, l.storage), "i")}`;
    const lines: string[] = [];
    let start = 0;
    l.chunks.forEach((c, k) => {
      const body = at(this.binding(c.buffer, access, l.storage), start === 0 ? "i" : `i - ${u(start)}`);
      const last = k === l.chunks.length - 1;
      lines.push(last ? `  ${body}` : `  if (i < ${u(start + c.elements)}) { ${body} }`);
      start += c.elements;
    });
    return lines.join("\n");
  }

  private loadFunction(v: Value): string {
    const name = `ld${this.id(v)}`;
    if (this.functions.has(name)) return name;
    const l = this.layout(v);
    const t = exprTypeOf(v.dtype);
    const convert = (x: string) => (t === "bool" ? `${x} != 0i` : l.storage === "f16" ? `f32(${x})` : x);
    const body = this.chunked(l, "read", (b, i) => `return ${convert(`${b}[${i}]`)};`);
    this.functions.set(name, `fn ${name}(i: u32) -> ${t} {\n${body}\n}`);
    return name;
  }

  private storeFunction(v: Value): string {
    const name = `st${this.id(v)}`;
    if (this.functions.has(name)) return name;
    const l = this.layout(v);
    const t = exprTypeOf(v.dtype);
    const convert = t === "bool" ? "select(0i, 1i, x)" : l.storage === "f16" ? "f16(x)" : "x";
    const body = this.chunked(l, "read_write", (b, i) => `${b}[${i}] = ${convert}; return;`);
    this.functions.set(name, `fn ${name}(i: u32, x: ${t}) {\n${body}\n}`);
    return name;
  }

  private inlineFunction(node: Node): string {
    const name = `v${this.id(node.outputs[0])}`;
    if (this.functions.has(name)) return name;
    this.functions.set(name, ""); // reserved first: the body may read other values
    const t = exprTypeOf(node.outputs[0].dtype);
    this.functions.set(name, `fn ${name}(i: u32) -> ${t} {\n${inlineBody(this, node)}\n}`);
    return name;
  }

  /**
   * `fn emit(i: u32, a: T)`: takes the anchor's value at output index i, computes the epilogue there and stores
   * what other kernels read. Kernel families call it once per output element.
   */
  epilogue(): string {
    const { anchor, epilogue, stores } = this.kernel;
    const out = anchor.outputs[0];
    const shape = shapeOf(out);
    const local = new Set([anchor, ...epilogue]);
    const lines = [`  let x${this.id(out)} = a;`];
    for (const n of epilogue) {
      const operands = n.inputs.map((v, k) =>
        local.has(v.producer) ? `x${this.id(v)}` : this.read(v, broadcastIndex(shape, operandShape(n, k), "i")),
      );
      lines.push(`  let x${this.id(n.outputs[0])} = ${scalarExpr(n, operands, this.use)};`);
    }
    for (const v of stores) lines.push(`  ${this.store(v, "i", `x${this.id(v)}`)}`);
    return `fn emit(i: u32, a: ${exprTypeOf(out.dtype)}) {\n${lines.join("\n")}\n}`;
  }

  /** The whole module around the kernel family's entry point and workgroup variables. */
  finish(main: string, workgroups: [number, number, number]): KernelModule {
    const functions = [...this.functions.values()];
    // Every helper the code calls, and the helpers those call, until nothing new turns up.
    for (let grew = true; grew; ) {
      const code = [main, ...functions, ...[...this.helpers].map((h) => HELPERS[h])];
      const missing = Object.keys(HELPERS).filter(
        (h) => !this.helpers.has(h) && code.some((c) => new RegExp(`\\b${h}\\(`).test(c)),
      );
      missing.forEach((h) => this.use(h));
      grew = missing.length > 0;
    }
    const batchBinding = this.readsBatch ? this.bindings.length : undefined;
    const uniform =
      batchBinding === undefined ? [] : [`@group(0) @binding(${batchBinding}) var<uniform> ${BATCH}: u32;`];
    const parts = [
      ...(this.needsF16 ? ["enable f16;"] : []),
      [...this.declarations, ...uniform].join("\n"),
      ...[...this.helpers].sort().map((h) => HELPERS[h]),
      ...functions,
      main,
    ];
    return {
      code: `${parts.join("\n\n")}\n`,
      bindings: this.bindings,
      workgroups,
      ...(this.dispatch ? { dispatch: this.dispatch } : {}),
      ...(batchBinding === undefined ? {} : { batchBinding }),
    };
  }
}

/** The expression type of the anchor's (first) output. */
export const anchorType = (k: PlannedKernel): ExprType => exprTypeOf(k.anchor.outputs[0].dtype);
