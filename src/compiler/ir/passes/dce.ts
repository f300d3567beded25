// Dead-code elimination: keeps what outputs and taps depend on, plus every input node (the model's interface).
// A parameter that nothing reads any more stays declared but is marked `unused`, so it can be reported.
import type { Graph } from "../ir.js";
import { liveNodes } from "../liveness.js";

export function eliminateDeadCode(graph: Graph): boolean {
  const live = liveNodes([...graph.outputs, ...graph.taps]);
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
