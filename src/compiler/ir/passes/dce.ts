// Dead-code elimination: keeps what outputs and taps depend on, plus every input node (the model's interface).
// A parameter that nothing reads any more stays declared but is marked `unused`, so it can be reported.
import type { Graph, Node } from "../ir.js";

export function eliminateDeadCode(graph: Graph): boolean {
  const live = new Set<Node>();
  const stack = [...graph.outputs, ...graph.taps].map((o) => o.value.producer);
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (live.has(n)) continue;
    live.add(n);
    for (const v of n.inputs) stack.push(v.producer);
  }
  const before = graph.nodes.length;
  graph.nodes = graph.nodes.filter((n) => live.has(n) || n.op === "input");
  const read = new Set(graph.nodes.filter((n) => n.op === "param").map((n) => n.attrs.path));
  let changed = graph.nodes.length !== before;
  for (const p of graph.params) {
    const unused = !read.has(p.path);
    if (p.unused !== unused) {
      p.unused = unused;
      changed = true;
    }
  }
  return changed;
}
