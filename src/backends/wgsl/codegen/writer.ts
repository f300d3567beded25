// Assembles one kernel's WGSL module: storage bindings for the buffers it touches, a load or store function per
// buffer-held value (hiding chunked values and storage conversions), a function per inlined node, the epilogue,
// and the entry point that a kernel family writes.
import type { Node, Value } from "../../../compiler/ir/ir.js";
import type { BindingEntry } from "../../../runtime/manifest.js";
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
}

/** A dispatch too large for the adapter's grid; reported as a diagnostic on the anchor node. */
export class DispatchTooLarge extends Error {}

export interface KernelModule {
  code: string;
  bindings: BindingEntry[];
  workgroups: [number, number, number];
}

/** A 1-D grid of `count` workgroups laid out in x then y, and the WGSL for the flat workgroup index. */
export function grid(count: number, maxPerDimension: number): { workgroups: [number, number, number]; index: string } {
  const x = Math.max(1, Math.min(count, maxPerDimension));
  const y = Math.ceil(count / x);
  if (y > maxPerDimension)
    throw new DispatchTooLarge(`${count} workgroups exceed the adapter's ${maxPerDimension}² grid`);
  return { workgroups: [x, Math.max(1, y), 1], index: y > 1 ? `(wid.y * ${u(x)} + wid.x)` : "wid.x" };
}

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

  constructor(
    readonly ctx: CodegenContext,
    readonly kernel: PlannedKernel,
  ) {}

  readonly use = (helper: string): void => {
    this.helpers.add(helper);
  };

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
    const parts = [
      ...(this.needsF16 ? ["enable f16;"] : []),
      this.declarations.join("\n"),
      ...[...this.helpers].sort().map((h) => HELPERS[h]),
      ...functions,
      main,
    ];
    return { code: `${parts.join("\n\n")}\n`, bindings: this.bindings, workgroups };
  }
}

/** The expression type of the anchor's (first) output. */
export const anchorType = (k: PlannedKernel): ExprType => exprTypeOf(k.anchor.outputs[0].dtype);
