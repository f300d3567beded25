// What the WGSL backend needs before planning: the live part of the graph, every shape static, every element
// type one a shader can compute in, and every op one the backend lowers. Anything else is a diagnostic.
import { makeDiagnostic } from "../../diagnostics/codes.js";
import type { Diagnostic } from "../../diagnostics/diagnostics.js";
import { dimSymbols, isStatic, shapeToString } from "../../compiler/ir/dim.js";
import type { Graph, GraphOutput, Node, Value } from "../../compiler/ir/ir.js";
import { liveNodes } from "../../compiler/ir/liveness.js";
import { WgslCodes } from "../../diagnostics/wgsl-codes.js";
import { isSupported } from "./ops.js";
import { isSupportedType } from "./codegen/scalar-types.js";

export interface PreparedGraph {
  graph: Graph;
  /** Live nodes in graph (topological) order. */
  nodes: Node[];
  /** Position of each live node in `nodes`. */
  order: Map<Node, number>;
  /** The values the bundle returns: outputs, then taps with `debugOutputs`. */
  outputs: GraphOutput[];
  /** Live consumer nodes of each value, each once. */
  consumers: Map<Value, Node[]>;
}

export function shapeOf(v: Value): number[] {
  return v.shape as number[];
}

function liveNodesInOrder(graph: Graph, outputs: readonly GraphOutput[]): Node[] {
  const live = liveNodes(outputs);
  return graph.nodes.filter((n) => live.has(n));
}

function checkNode(node: Node, reported: Set<string>): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (!isSupported(node.op))
    out.push(makeDiagnostic(WgslCodes.Unsupported, `the WGSL backend has no kernel for ${node.op}`, node.span));
  for (const v of node.outputs) {
    for (const s of v.shape.flatMap(dimSymbols)) {
      if (reported.has(s)) continue;
      reported.add(s);
      const what = node.op === "input" ? `the input ${(node.attrs as { name: string }).name}` : `a ${node.op} result`;
      out.push(
        makeDiagnostic(
          WgslCodes.SymbolicShape,
          `the dimension ${s} of ${what} ${shapeToString(v.shape)} is symbolic; WGSL kernels need static shapes`,
          node.span,
          {
            hint:
              `bind it at compile time: --set ${s}=...; only a batch (the first axis of inputs, the one ` +
              `symbol left) is chosen at run time`,
          },
        ),
      );
    }
    if (!isSupportedType(v.dtype))
      out.push(
        makeDiagnostic(
          WgslCodes.UnsupportedType,
          `${node.op} computes ${v.dtype}, which WGSL has no type for`,
          node.span,
        ),
      );
    if (v.shape.every(isStatic) && shapeOf(v).reduce((a, b) => a * b, 1) > 0xffffffff)
      out.push(
        makeDiagnostic(
          WgslCodes.TooLarge,
          `${node.op} makes ${shapeToString(v.shape)}, more elements than a 32-bit index reaches`,
          node.span,
        ),
      );
  }
  return out;
}

export function prepareGraph(
  graph: Graph,
  debugOutputs = false,
): { prepared?: PreparedGraph; diagnostics: Diagnostic[] } {
  const outputs = [...graph.outputs, ...(debugOutputs ? graph.taps : [])];
  const nodes = liveNodesInOrder(graph, outputs);
  const reported = new Set<string>();
  const diagnostics = nodes.flatMap((n) => checkNode(n, reported));
  if (diagnostics.length > 0) return { diagnostics };
  const consumers = new Map<Value, Node[]>();
  for (const n of nodes)
    for (const v of new Set(n.inputs)) {
      const list = consumers.get(v);
      if (list) list.push(n);
      else consumers.set(v, [n]);
    }
  return { prepared: { graph, nodes, order: new Map(nodes.map((n, i) => [n, i])), outputs, consumers }, diagnostics };
}
