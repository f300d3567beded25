// A picture of a model's block structure as Graphviz DOT: block instances are nested clusters, blocks below the chosen
// depth fold into one box, and every tensor that crosses between drawn things is an edge labelled with its shape.
// Pure: IR graph + instance tree in, a Picture (for tests) and its DOT text out. Rendering is in ./render.ts.
import { shapeToString } from "../compiler/ir/dim.js";
import type { Graph, Node, Value } from "../compiler/ir/ir.js";
import { liveNodes } from "../compiler/ir/liveness.js";
import { type BlockInstance, instancesByPath } from "./blocks.js";

/** How many levels of blocks to open: a number (the model is level 0) or every op. */
export type PictureDepth = number | "all";

export interface PictureNode {
  id: string;
  /**
   * `op`: one IR op, or a chain of layout ops folded together; `construct`: the ops one use of `lift`, `split_index` or
   * `cross_attention` made; `block`: a folded block instance.
   */
  kind: "op" | "construct" | "block" | "input" | "output";
  /** The ops it stands for, in graph order (empty for inputs and outputs). */
  ops: string[];
  /** The language constructs its ops came from. */
  constructs: string[];
  /** Whether every op came from a construct (a projection layer that a cross_attention calls, say). */
  allConstruct: boolean;
  /** For a block: the instance. */
  block?: BlockInstance;
  /** The name of an input or output, the source line of a construct. */
  name?: string;
  /** Hover text: the source location of an op, the full path of a block. */
  tooltip: string;
  /** The tensor an input or output carries. */
  value?: Value;
}

export interface PictureCluster {
  id: string;
  block: BlockInstance;
  nodes: PictureNode[];
  clusters: PictureCluster[];
}

export interface PictureEdge {
  from: string;
  to: string;
  /** The tensor's shape as the language writes it: `[B, 1569, 384]`, with the dtype when not f32. */
  label: string;
  /** The IR value it carries. */
  value: number;
}

export interface Picture {
  graph: Graph;
  depth: PictureDepth;
  root: PictureCluster;
  edges: PictureEdge[];
}

/** Weights and constants are not drawn: their sizes are in the block labels. */
const SOURCE_OPS = new Set(["param", "const"]);

/** Ops that only move or view data; chains of them fold into one node unless every op is drawn. */
const LAYOUT_OPS = new Set(["reshape", "transpose", "slice", "expand", "pad", "cast"]);

/** Fill colours of the language's constructs, and darker ones for their names in text. */
const CONSTRUCT_COLORS: Readonly<Record<string, { fill: string; text: string }>> = {
  lift: { fill: "#fde2b8", text: "#a05a00" },
  split_index: { fill: "#cdebd3", text: "#1f7a35" },
  cross_attention: { fill: "#e3d4f5", text: "#6a3d9a" },
};
const OTHER_CONSTRUCT = { fill: "#eeeeee", text: "#555555" };

/** Cluster fills by nesting level, light enough for black text and edges. */
const CLUSTER_FILLS = ["#ffffff", "#f3f6fb", "#e8eef7", "#dde6f3", "#d2ddef"];

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

function valueLabel(v: Value): string {
  return `${v.dtype === "f32" ? "" : v.dtype}${shapeToString(v.shape)}`;
}

function opLabel(n: Node): string {
  const attrs = n.attrs as Record<string, unknown>;
  if (n.op === "reduce") return `reduce_${attrs.kind}`;
  if (n.op === "conv" || n.op === "max_pool" || n.op === "avg_pool") {
    const strides = attrs.strides as number[];
    return strides.some((s) => s !== 1) ? `${n.op} /${strides.join("×")}` : n.op;
  }
  return n.op;
}

const fileName = (file: string) => file.slice(file.lastIndexOf("/") + 1);

function where(n: Node): string {
  return n.span ? `${fileName(n.span.file)}:${n.span.line}` : "";
}

function parentOf(instances: ReadonlyMap<string, BlockInstance>, b: BlockInstance): BlockInstance | undefined {
  if (b.depth === 0) return undefined;
  const cut = b.path.length - b.name.length - 1;
  return instances.get(cut > 0 ? b.path.slice(0, cut) : "");
}

/**
 * Lays the graph out as clusters and boxes. A block is opened (a cluster of its own ops and its children) when it is
 * above `depth` and has child blocks; a block at `depth`, or a leaf layer such as a Linear, is one box. Inside an
 * opened block, the ops of one construct use become one node and chains of layout ops one node. `all` opens every
 * block, leaves too, and draws every op. Ops that only taps need, and weight preprocessing, are left out.
 */
export function buildPicture(graph: Graph, tree: BlockInstance, depth: PictureDepth): Picture {
  const everyOp = depth === "all";
  const instances = instancesByPath(tree);
  const live = liveNodes(graph.outputs);
  // Ops computed from weights and constants alone (a transposed weight, a gathered bias table) are part of the weights.
  const weightOnly = new Set<Node>();
  for (const n of graph.nodes)
    if (SOURCE_OPS.has(n.op) || (n.inputs.length > 0 && n.inputs.every((v) => weightOnly.has(v.producer))))
      weightOnly.add(n);
  const drawn = graph.nodes.filter((n) => live.has(n) && !weightOnly.has(n));
  const consumers = new Map<Node, number>();
  for (const n of drawn) for (const v of n.inputs) consumers.set(v.producer, (consumers.get(v.producer) ?? 0) + 1);
  for (const o of graph.outputs) consumers.set(o.value.producer, (consumers.get(o.value.producer) ?? 0) + 1);

  const opened = (b: BlockInstance) =>
    b.depth === 0 || everyOp || (b.depth < (depth as number) && b.children.length > 0);
  let nextId = 0;
  const clusters = new Map<BlockInstance, PictureCluster>();
  const boxes = new Map<BlockInstance, PictureNode>();
  const newNode = (kind: PictureNode["kind"], tooltip: string, extra: Partial<PictureNode> = {}): PictureNode => ({
    id: `${kind[0]}${nextId++}`,
    kind,
    ops: [],
    constructs: [],
    allConstruct: true,
    tooltip,
    ...extra,
  });
  const layout = (b: BlockInstance): PictureCluster => {
    const cluster: PictureCluster = { id: `cluster_${nextId++}`, block: b, nodes: [], clusters: [] };
    clusters.set(b, cluster);
    for (const child of b.children) {
      if (opened(child)) cluster.clusters.push(layout(child));
      else {
        const box = newNode("block", child.path, { block: child });
        boxes.set(child, box);
        cluster.nodes.push(box);
      }
    }
    return cluster;
  };
  const root = layout(tree);

  const drawnAs = new Map<Node, PictureNode>();
  for (const input of graph.inputs) {
    const node = newNode("input", `input ${input.name}`, { name: input.name, value: input.value });
    drawnAs.set(input.value.producer, node);
    root.nodes.push(node);
  }
  const constructUses = new Map<string, PictureNode>();
  const addOp = (node: PictureNode, n: Node) => {
    node.ops.push(opLabel(n));
    if (n.construct && !node.constructs.includes(n.construct)) node.constructs.push(n.construct);
    if (!n.construct) node.allConstruct = false;
    drawnAs.set(n, node);
  };
  for (const n of drawn) {
    if (drawnAs.has(n)) continue;
    let owner = instances.get(n.scope) ?? tree;
    // The outermost folded block on the way up, if any, stands for the op.
    for (let b: BlockInstance | undefined = owner; b; b = parentOf(instances, b)) if (boxes.has(b)) owner = b;
    const box = boxes.get(owner);
    if (box) {
      addOp(box, n);
      continue;
    }
    const cluster = clusters.get(owner)!;
    // One node per use of a construct: its own ops share the construct's source span.
    if (n.construct && !everyOp && n.span) {
      const key = `${owner.path}|${n.construct}|${n.span.file}|${n.span.start}|${n.span.end}`;
      let use = constructUses.get(key);
      if (!use) {
        use = newNode("construct", `${n.construct} at ${where(n)}`, { name: `line ${n.span.line}` });
        constructUses.set(key, use);
        cluster.nodes.push(use);
      }
      addOp(use, n);
      continue;
    }
    // A layout op whose only input is a layout chain's sole output joins that chain.
    const from = n.inputs.filter((v) => !weightOnly.has(v.producer)).map((v) => v.producer);
    const chain = from.length === 1 ? drawnAs.get(from[0]) : undefined;
    if (
      !everyOp &&
      LAYOUT_OPS.has(n.op) &&
      !n.construct &&
      chain?.kind === "op" &&
      consumers.get(from[0]) === 1 &&
      LAYOUT_OPS.has(from[0].op) &&
      cluster.nodes.includes(chain)
    ) {
      addOp(chain, n);
      if (!chain.tooltip.endsWith(where(n))) chain.tooltip += `, ${where(n)}`;
      continue;
    }
    const node = newNode("op", [n.scope, n.construct, where(n)].filter(Boolean).join(" "));
    addOp(node, n);
    cluster.nodes.push(node);
  }

  const edges: PictureEdge[] = [];
  const seen = new Set<string>();
  const connect = (from: PictureNode, to: PictureNode, v: Value) => {
    const key = `${from.id}>${to.id}>${v.id}`;
    if (from === to || seen.has(key)) return;
    seen.add(key);
    edges.push({ from: from.id, to: to.id, label: valueLabel(v), value: v.id });
  };
  for (const n of drawn) {
    const to = drawnAs.get(n)!;
    for (const v of n.inputs) {
      const from = drawnAs.get(v.producer);
      if (from) connect(from, to, v);
    }
  }
  for (const output of graph.outputs) {
    const node = newNode("output", `output ${output.name}`, { name: output.name, value: output.value });
    root.nodes.push(node);
    const from = drawnAs.get(output.value.producer);
    if (from) connect(from, node, output.value);
  }
  // Folded blocks left without a drawn op (all weights, or all for taps) say nothing about the computation.
  const prune = (c: PictureCluster): boolean => {
    c.nodes = c.nodes.filter((n) => n.kind !== "block" || n.ops.length > 0);
    c.clusters = c.clusters.filter(prune);
    return c.nodes.length + c.clusters.length > 0;
  };
  prune(root);
  return { graph, depth, root, edges };
}

// ---- DOT text ----------------------------------------------------------------------------------

/** Text for an HTML-like label. */
function html(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A DOT double-quoted string. */
function quote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

type Attr = string | number | { html: string } | undefined;

function attrs(a: Record<string, Attr>): string {
  const parts = Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "number" ? v : typeof v === "object" ? `<${v.html}>` : quote(v!)}`);
  return parts.length ? ` [${parts.join(", ")}]` : "";
}

const small = (text: string, color = "#555555") => `<FONT POINT-SIZE="9" COLOR="${color}">${text}</FONT>`;
const constructText = (c: string) => `<FONT COLOR="${(CONSTRUCT_COLORS[c] ?? OTHER_CONSTRUCT).text}">${html(c)}</FONT>`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function blockCaption(b: BlockInstance): string {
  return b.type && b.type !== b.name ? `${html(b.type)}` : "";
}

/** Folded layout chains read as their ops in order, shortened when long. */
function chainText(ops: readonly string[]): string {
  return ops.length <= 4 ? ops.join(" → ") : `${ops[0]} → … → ${ops[ops.length - 1]} (${ops.length} ops)`;
}

function nodeStatement(n: PictureNode): string {
  const common = { tooltip: n.tooltip, style: "rounded,filled" };
  switch (n.kind) {
    case "input":
    case "output": {
      const type = small(html(`${n.value!.dtype}${shapeToString(n.value!.shape)}`));
      const label = { html: `<B>${html(n.name!)}</B><BR/>${type}` };
      return `${n.id}${attrs({ ...common, shape: "oval", fillcolor: "#fff3c4", label })};`;
    }
    case "construct": {
      const color = CONSTRUCT_COLORS[n.constructs[0]] ?? OTHER_CONSTRUCT;
      const ops = n.ops.length === 1 ? html(n.ops[0]) : plural(n.ops.length, "op");
      const label = `<B>${html(n.constructs[0])}</B><BR/>${small(`${html(n.name!)} · ${ops}`)}`;
      const style = { style: "rounded,filled,bold", color: color.text, fillcolor: color.fill, label: { html: label } };
      return `${n.id}${attrs({ ...common, shape: "box", ...style })};`;
    }
    case "block": {
      const b = n.block!;
      const lines = [`<B>${html(b.name)}</B>`];
      if (blockCaption(b)) lines.push(blockCaption(b));
      lines.push(small(`${formatCount(b.parameters)} params · ${plural(n.ops.length, "op")}`));
      // A layer that a construct calls (a cross_attention's projections) takes the construct's colour; a block that
      // contains constructs lists them.
      const inside = n.allConstruct && n.constructs.length === 1;
      if (n.constructs.length && !inside) lines.push(small(`has ${n.constructs.map(constructText).join(", ")}`));
      const fill = inside ? (CONSTRUCT_COLORS[n.constructs[0]] ?? OTHER_CONSTRUCT).fill : "#ffffff";
      const label = { html: lines.join("<BR/>") };
      return `${n.id}${attrs({ ...common, shape: "box", penwidth: 1.3, fillcolor: fill, label })};`;
    }
    case "op": {
      const fill = n.allConstruct ? (CONSTRUCT_COLORS[n.constructs[0]] ?? OTHER_CONSTRUCT).fill : "#fafafa";
      return `${n.id}${attrs({ ...common, shape: "box", fontsize: 10, fillcolor: fill, label: chainText(n.ops) })};`;
    }
  }
}

function clusterStatements(c: PictureCluster, indent: string): string[] {
  const b = c.block;
  const caption = [blockCaption(b), `${formatCount(b.parameters)} params`].filter(Boolean).join(" · ");
  const lines = [
    `${indent}subgraph ${c.id} {`,
    `${indent}  graph${attrs({
      label: { html: `<B>${html(b.name)}</B>  ${small(caption)}` },
      tooltip: b.path,
      style: "rounded,filled",
      fillcolor: CLUSTER_FILLS[Math.min(b.depth, CLUSTER_FILLS.length - 1)],
      color: "#8899bb",
      labeljust: "l",
      fontsize: 12,
    })};`,
    ...c.nodes.map((n) => `${indent}  ${nodeStatement(n)}`),
  ];
  for (const sub of c.clusters) lines.push(...clusterStatements(sub, `${indent}  `));
  lines.push(`${indent}}`);
  return lines;
}

/** The picture's layout: top to bottom, compact ranks. */
const GRAPH_LAYOUT = {
  labelloc: "t",
  fontname: "Arial",
  fontsize: 16,
  rankdir: "TB",
  nodesep: 0.25,
  ranksep: 0.3,
  newrank: "true",
};

export function pictureToDot(picture: Picture): string {
  const { graph, root } = picture;
  const io = (xs: Graph["inputs"]) =>
    xs.map((x) => html(`${x.name} ${x.value.dtype}${shapeToString(x.value.shape)}`)).join(", ");
  const constructs = new Set<string>();
  const collect = (c: PictureCluster) => {
    for (const n of c.nodes) n.constructs.forEach((k) => constructs.add(k));
    c.clusters.forEach(collect);
  };
  collect(root);
  const title = [
    `<B>${html(graph.name)}</B>`,
    small(`${io(graph.inputs)} → ${io(graph.outputs)}`),
    small(
      `${formatCount(root.block.parameters)} params · depth ` +
        `${picture.depth}${graph.symbols.length ? ` · symbolic ${html(graph.symbols.join(", "))}` : ""}`,
    ),
    // The legend of the construct colours.
    ...(constructs.size ? [small(`constructs: ${[...constructs].map(constructText).join(", ")}`)] : []),
  ].join("<BR/>");
  const lines = [
    `digraph ${quote(graph.name)} {`,
    `  graph${attrs({ label: { html: title }, ...GRAPH_LAYOUT })};`,
    `  node${attrs({ fontname: "Arial", fontsize: 11, margin: "0.14,0.05", height: 0.3 })};`,
    `  edge${attrs({ fontname: "Arial", fontsize: 9, color: "#555555", fontcolor: "#333333", arrowsize: 0.6 })};`,
    ...root.nodes.map((n) => `  ${nodeStatement(n)}`),
    ...root.clusters.flatMap((c) => clusterStatements(c, "  ")),
    ...picture.edges.map((e) => `  ${e.from} -> ${e.to}${attrs({ label: e.label })};`),
    "}",
  ];
  return `${lines.join("\n")}\n`;
}

export function graphToDot(graph: Graph, tree: BlockInstance, depth: PictureDepth): string {
  return pictureToDot(buildPicture(graph, tree, depth));
}
