// The kernel planner: decides which IR nodes share a kernel, which values live in buffers, and the dispatch order.
//
// Every kernel has an anchor (a matmul, conv, pool, reduction, softmax, layer norm, attention, top-k or LSTM, or
// an elementwise/layout node that has to be stored) and an epilogue: elementwise consumers computed at the
// anchor's own output index (bias, activation, residual add), stored only where something outside the kernel
// reads them. Layout and cheap elementwise nodes that are not stored are inlined: each consuming kernel
// recomputes them from index arithmetic, so transposes, reshapes, slices, pads, concats and broadcasts never
// touch memory. The split-index construct's sampling is stored where it leaves the construct: it is a kernel of
// its own, named in the manifest, rather than recomputed by each reader. When a kernel would need more storage
// bindings than the adapter allows, inlined nodes (then epilogue nodes) are split off until it fits.
import { makeDiagnostic } from "../../diagnostics/codes.js";
import type { Diagnostic } from "../../diagnostics/diagnostics.js";
import type { Node, OpName, Value } from "../../compiler/ir/ir.js";
import { WgslCodes } from "../../diagnostics/wgsl-codes.js";
import { numelOf } from "./codegen/indexing.js";
import {
  type Anchored,
  anchoredBy,
  type KernelKind,
  anchorsKernel,
  interpolates,
  isExpensive,
  isGatherOp,
  isLayoutOp,
  isScalarOp,
} from "./ops.js";
import { type PreparedGraph, shapeOf } from "./prepare.js";

/** Recomputation budgets (in rough ALU operations per element; index arithmetic is free). */
const MAX_RECOMPUTE_COST = 8;
const MAX_OPERAND_COST = 4;

/** A planned kernel of kind K. */
export type KernelOf<K extends KernelKind> = Extract<PlannedKernel, { kind: K }>;

/** A kernel: its kind and anchor (typed by the kind), the nodes it computes, and the buffers it writes and reads. */
export type PlannedKernel = Anchored & {
  /** Elementwise nodes computed at the anchor's output index, in topological order. */
  epilogue: Node[];
  /** Values the kernel writes to buffers. */
  stores: Value[];
  /** Buffer-held values the kernel reads, directly or through inlined nodes. */
  reads: Value[];
};

export interface KernelPlan {
  /** In dispatch order. */
  kernels: PlannedKernel[];
  /** Nodes recomputed inside each kernel that reads them. */
  inlined: Set<Node>;
  /** Values written into the shaders as literals (scalar constants). */
  literals: Set<Value>;
}

export interface PlanOptions {
  maxStorageBindings: number;
  /** How many buffers (bindings) a stored value takes; large values are split. */
  chunksOf: (v: Value) => number;
}

type Group = Anchored & { members: Node[] };

function ownCost(op: OpName): number {
  if (isLayoutOp(op)) return 0;
  // Interpolation reads 2-8 values per element: recomputed for every tap of a convolution or every row of a matmul
  // it costs far more than one store, so it never becomes a kernel's inlined operand (but may feed elementwise code).
  if (interpolates(op)) return MAX_OPERAND_COST + 1;
  if (isGatherOp(op)) return 1;
  return isExpensive(op) ? 4 : 1;
}

const sameShape = (a: Value, b: Value) =>
  a.shape.length === b.shape.length && shapeOf(a).every((d, i) => d === shapeOf(b)[i]);
const isSplitIndex = (n: Node) => n.construct === "split_index";

/** Groups nodes into kernels; `forced` nodes anchor kernels of their own (never inlined, never in an epilogue). */
class Grouping {
  readonly groups: Group[] = [];
  readonly groupOf = new Map<Node, Group>();
  readonly inlined = new Set<Node>();
  private readonly costs = new Map<Node, number>();
  private readonly outputs: Set<Value>;

  constructor(
    private readonly p: PreparedGraph,
    private readonly forced: ReadonlySet<Node>,
  ) {
    this.outputs = new Set(p.outputs.map((o) => o.value));
    for (const node of p.nodes) this.place(node);
  }

  private place(node: Node): void {
    if (node.op === "input" || node.op === "param" || node.op === "const") return;
    const anchored = anchoredBy(node);
    if (anchored) return this.start(anchored);
    const joined = isScalarOp(node.op) && !this.forced.has(node) ? this.joinableGroup(node) : undefined;
    if (joined) {
      joined.members.push(node);
      this.groupOf.set(node, joined);
    } else if (this.forced.has(node) || this.mustStore(node)) this.start({ kind: "pointwise", anchor: node });
    else this.inlined.add(node);
  }

  private start(anchored: Anchored): void {
    const g: Group = { ...anchored, members: [] };
    this.groups.push(g);
    this.groupOf.set(anchored.anchor, g);
  }

  /** The group whose output `node` reads at its own index, if `node` can be computed in its epilogue. */
  private joinableGroup(node: Node): Group | undefined {
    const out = node.outputs[0];
    for (const v of node.inputs) {
      const g = this.groupOf.get(v.producer);
      // Multi-output anchors (top-k, LSTM) take no epilogue.
      if (!g || g.anchor.outputs.length > 1 || !sameShape(v, out) || isSplitIndex(node) !== isSplitIndex(g.anchor))
        continue;
      const fits = node.inputs.every(
        (w) => (this.groupOf.get(w.producer) === g && sameShape(w, out)) || !this.dependsOn(w, g),
      );
      if (fits) return g;
    }
    return undefined;
  }

  /** Whether computing `v` needs anything that group `g` computes (so `v` cannot be read inside `g`'s kernel). */
  private dependsOn(v: Value, g: Group): boolean {
    const floor = this.p.order.get(g.anchor)!;
    const seen = new Set<Node>();
    const stack = [v.producer];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (seen.has(n) || this.p.order.get(n)! < floor) continue;
      seen.add(n);
      const h = this.groupOf.get(n);
      if (h === g) return true;
      // A node of another kernel needs everything that kernel reads.
      for (const m of h ? [h.anchor, ...h.members] : [n]) for (const w of m.inputs) stack.push(w.producer);
    }
    return false;
  }

  private cost(node: Node): number {
    let c = this.costs.get(node);
    if (c === undefined) {
      c =
        ownCost(node.op) +
        node.inputs.reduce((s, v) => s + (this.inlined.has(v.producer) ? this.cost(v.producer) : 0), 0);
      this.costs.set(node, c);
    }
    return c;
  }

  private mustStore(node: Node): boolean {
    const v = node.outputs[0];
    const consumers = this.p.consumers.get(v) ?? [];
    const cost = this.cost(node);
    return (
      this.outputs.has(v) ||
      (isSplitIndex(node) && consumers.some((c) => !isSplitIndex(c))) ||
      (consumers.length > 1 && cost > MAX_RECOMPUTE_COST) ||
      (consumers.some((c) => anchorsKernel(c.op)) && cost > MAX_OPERAND_COST)
    );
  }
}

/** The buffer-held values reached from `roots` through inlined nodes, and the inlined nodes passed on the way. */
function readsThrough(
  roots: readonly Value[],
  inlined: ReadonlySet<Node>,
  literals: ReadonlySet<Value>,
): { reads: Set<Value>; via: Map<Node, Set<Value>> } {
  const reads = new Set<Value>();
  const via = new Map<Node, Set<Value>>();
  const visit = (v: Value): Set<Value> => {
    const n = v.producer;
    if (literals.has(v)) return new Set();
    if (!inlined.has(n)) {
      reads.add(v);
      return new Set([v]);
    }
    let below = via.get(n);
    if (!below) {
      below = new Set(n.inputs.flatMap((w) => [...visit(w)]));
      via.set(n, below);
    }
    return below;
  };
  roots.forEach(visit);
  return { reads, via };
}

function kernelOf(
  g: Group,
  grouping: Grouping,
  outputs: ReadonlySet<Value>,
  literals: ReadonlySet<Value>,
  p: PreparedGraph,
): PlannedKernel & { via: Map<Node, Set<Value>> } {
  const inGroup = (n: Node) => grouping.groupOf.get(n) === g;
  const nodes = [g.anchor, ...g.members];
  const stores = nodes
    .flatMap((n) => n.outputs)
    .filter((v) => outputs.has(v) || (p.consumers.get(v) ?? []).some((c) => !inGroup(c)));
  // A pointwise anchor is an expression of its inputs like any inlined node, so its inputs are read the same way.
  const roots = [...g.anchor.inputs, ...g.members.flatMap((n) => n.inputs.filter((v) => !inGroup(v.producer)))];
  const { reads, via } = readsThrough(roots, grouping.inlined, literals);
  const { members: epilogue, ...anchored } = g;
  return { ...anchored, epilogue, stores, reads: [...reads], via };
}

/** Dispatch order: a kernel runs once every kernel whose stores it reads has run; ties keep graph order. */
function schedule(kernels: PlannedKernel[], order: ReadonlyMap<Node, number>): PlannedKernel[] {
  const producer = new Map<Value, PlannedKernel>();
  for (const k of kernels) for (const v of k.stores) producer.set(v, k);
  const pending = [...kernels].sort((a, b) => order.get(a.anchor)! - order.get(b.anchor)!);
  const done = new Set<PlannedKernel>();
  const out: PlannedKernel[] = [];
  while (pending.length > 0) {
    const i = pending.findIndex((k) => k.reads.every((v) => !producer.has(v) || done.has(producer.get(v)!)));
    if (i < 0) throw new Error("the WGSL planner made a cycle between kernels (a compiler bug)");
    const [k] = pending.splice(i, 1);
    done.add(k);
    out.push(k);
  }
  return out;
}

export function planKernels(p: PreparedGraph, opts: PlanOptions): { plan?: KernelPlan; diagnostics: Diagnostic[] } {
  const outputs = new Set(p.outputs.map((o) => o.value));
  // Scalar constants become shader literals, unless they are returned (a returned value needs a buffer).
  const literals = new Set(
    p.nodes
      .filter((n) => n.op === "const" && numelOf(shapeOf(n.outputs[0])) === 1 && !outputs.has(n.outputs[0]))
      .map((n) => n.outputs[0]),
  );
  const forced = new Set<Node>();
  for (;;) {
    const grouping = new Grouping(p, forced);
    const kernels = grouping.groups.map((g) => kernelOf(g, grouping, outputs, literals, p));
    let refined = false;
    for (const k of kernels) {
      const bindings = [...k.stores, ...k.reads].reduce((s, v) => s + opts.chunksOf(v), 0);
      if (bindings <= opts.maxStorageBindings) continue;
      // Storing the inlined node that reads the most buffers turns those bindings into one; failing that, the
      // last epilogue node moves to a kernel of its own, with whatever it reads.
      const inlined = [...k.via]
        .filter(([n, below]) => below.size > 1 && !forced.has(n))
        .sort((a, b) => b[1].size - a[1].size)[0]?.[0];
      const split = inlined ?? k.epilogue.at(-1);
      if (!split) {
        const message =
          `this ${k.anchor.op} needs ${bindings} storage buffers in one kernel, the adapter ` +
          `allows ${opts.maxStorageBindings}`;
        const chunked = [...k.stores, ...k.reads].filter((v) => opts.chunksOf(v) > 1);
        // Tensors over the per-binding size limit take one binding per chunk: then the tensors are too big, not too
        // many.
        const hint =
          chunked.length > 0
            ? `${chunked.length === 1 ? "a tensor here is" : "tensors here are"} larger than one storage ` +
              `binding holds and split across several: use a smaller batch (--max-batch N where the batch is left to ` +
              "run time, else --set B=...)"
            : undefined;
        return {
          diagnostics: [makeDiagnostic(WgslCodes.TooManyBindings, message, k.anchor.span, hint ? { hint } : {})],
        };
      }
      forced.add(split);
      refined = true;
    }
    if (refined) continue;
    const planned = kernels.map(({ via: _via, ...k }) => k);
    return { plan: { kernels: schedule(planned, p.order), inlined: grouping.inlined, literals }, diagnostics: [] };
  }
}
