// Liveness, the one analysis behind dead-code elimination, the interpreter's schedule, the back ends' choice of
// nodes and the WGSL memory plan: which nodes the outputs need, and the last step that reads each value.
import type { GraphOutput, Node, Value } from "./ir.js";

/** Nodes that the given outputs depend on. */
export function liveNodes(outputs: readonly GraphOutput[]): Set<Node> {
  const live = new Set<Node>();
  const stack = outputs.map((o) => o.value.producer);
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (live.has(n)) continue;
    live.add(n);
    for (const v of n.inputs) stack.push(v.producer);
  }
  return live;
}

/**
 * The index of the last of `steps` (nodes, kernels) that reads each value, so its storage can be freed or reused
 * after it; the `outputs` are read after every step (Infinity).
 */
export function lastUses<T>(
  steps: readonly T[],
  reads: (step: T) => readonly Value[],
  outputs: readonly GraphOutput[],
): Map<Value, number> {
  const last = new Map<Value, number>();
  steps.forEach((step, i) => reads(step).forEach((v) => last.set(v, i)));
  for (const o of outputs) last.set(o.value, Infinity);
  return last;
}
