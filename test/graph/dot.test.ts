// The model picture's structure: block instances as clusters or folded boxes, constructs marked, edges with shapes.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compileToGraph } from "../../src/driver.js";
import { shapeToString } from "../../src/compiler/ir/dim.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { type BlockInstance, instancesByPath, programBlockTree } from "../../src/graph/blocks.js";
import {
  buildPicture,
  type Picture,
  type PictureCluster,
  type PictureNode,
  pictureToDot,
} from "../../src/graph/dot.js";
import { renderSvg } from "../../src/graph/render.js";
import { expectWellFormedXml } from "./xml.js";

const ROOT = resolve(__dirname, "../..");

function compile(file: string, overrides: Record<string, string> = {}): { graph: Graph; tree: BlockInstance } {
  const path = resolve(ROOT, file);
  const front = compileToGraph(readFileSync(path, "utf8"), { file: path, overrides });
  expect(front.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return { graph: front.graph!, tree: programBlockTree(front.graph!, front.program!) };
}

const allNodes = (c: PictureCluster): PictureNode[] => [...c.nodes, ...c.clusters.flatMap(allNodes)];
const allClusters = (c: PictureCluster): PictureCluster[] => [c, ...c.clusters.flatMap(allClusters)];
const clusterOf = (p: Picture, path: string) => allClusters(p.root).find((c) => c.block.path === path);
const boxOf = (p: Picture, path: string) => allNodes(p.root).find((n) => n.kind === "block" && n.block!.path === path);
const opCount = (p: Picture) => allNodes(p.root).reduce((sum, n) => sum + n.ops.length, 0);
const byId = (p: Picture) => new Map(allNodes(p.root).map((n) => [n.id, n]));

describe("examples/tiny.net", () => {
  let tiny: ReturnType<typeof compile>;
  beforeAll(() => {
    tiny = compile("examples/tiny.net");
  });

  it("knows each instance's block type and weight count from the program's layer statements", () => {
    const { graph, tree } = tiny;
    expect(tree.type).toBe("Tiny");
    expect(tree.children.map((c) => [c.name, c.type])).toEqual([
      ["q", "Linear"],
      ["kv", "Linear"],
      ["classify", "Classifier"],
    ]);
    const classify = instancesByPath(tree).get("classify")!;
    expect(classify.children.map((c) => [c.path, c.type, c.depth])).toEqual([
      ["classify.norm", "LayerNorm", 2],
      ["classify.head", "Linear", 2],
    ]);
    const used = graph.params
      .filter((p) => !p.unused)
      .map((p) => ({ path: p.path, size: p.shape.reduce((a, b) => a * b, 1) }));
    expect(tree.parameters).toBe(used.reduce((s, p) => s + p.size, 0));
    expect(classify.parameters).toBe(
      used.filter((p) => p.path.startsWith("classify.")).reduce((s, p) => s + p.size, 0),
    );
    expect(classify.parameters).toBe(classify.children.reduce((s, c) => s + c.parameters, 0));
  });

  it("opens blocks with children, folds leaf layers into boxes and gives each construct use one node", () => {
    const picture = buildPicture(tiny.graph, tiny.tree, 2);
    expect(allClusters(picture.root).map((c) => c.block.path)).toEqual(["", "classify"]);
    expect(picture.root.nodes.filter((n) => n.kind === "block").map((n) => n.block!.path)).toEqual(["q", "kv"]);
    expect(
      clusterOf(picture, "classify")!
        .nodes.filter((n) => n.kind === "block")
        .map((n) => n.block!.type),
    ).toEqual(["LayerNorm", "Linear"]);
    const constructs = allNodes(picture.root).filter((n) => n.kind === "construct");
    expect(constructs.map((n) => n.constructs[0]).sort()).toEqual(["cross_attention", "lift", "split_index"]);
    // The projections a cross_attention calls are its own; the classifier's layers have nothing to do with it.
    expect(boxOf(picture, "q")!.constructs).toEqual(["cross_attention"]);
    expect(boxOf(picture, "classify.head")!.constructs).toEqual([]);
  });

  it("labels every edge with the shape of the tensor it carries, keeping the symbolic batch size", () => {
    const picture = buildPicture(tiny.graph, tiny.tree, 2);
    const nodes = byId(picture);
    const output = picture.edges.find((e) => nodes.get(e.to)!.kind === "output")!;
    expect(output.label).toBe(shapeToString(tiny.graph.outputs[0].value.shape));
    expect(output.label).toContain("B");
    const input = picture.edges.filter((e) => nodes.get(e.from)!.kind === "input");
    expect(input.map((e) => e.label)).toEqual([shapeToString(tiny.graph.inputs[0].value.shape)]);
    expect(nodes.get(input[0].to)!.constructs).toEqual(["split_index"]);
    for (const e of picture.edges) expect(e.label).toMatch(/^[a-z0-9]*\[[^\]]*\]$/);

    const bound = compile("examples/tiny.net", { B: "3" });
    const boundPicture = buildPicture(bound.graph, bound.tree, 2);
    expect(boundPicture.edges.some((e) => e.label.includes("B"))).toBe(false);
    expect(boundPicture.edges.map((e) => e.label)).toContain("[3, 7]");
  });

  it("draws every op in its own instance's cluster at depth all, and folding loses none of them", () => {
    const all = buildPicture(tiny.graph, tiny.tree, "all");
    expect(
      allClusters(all.root)
        .map((c) => c.block.path)
        .sort(),
    ).toEqual(["", "classify", "classify.head", "classify.norm", "kv", "q"]);
    const nodes = allNodes(all.root);
    expect(nodes.filter((n) => n.kind === "block" || n.kind === "construct")).toEqual([]);
    for (const n of nodes.filter((n) => n.kind === "op")) expect(n.ops).toHaveLength(1);
    expect(clusterOf(all, "classify.norm")!.nodes.map((n) => n.ops)).toEqual([["layer_norm"]]);
    expect(opCount(buildPicture(tiny.graph, tiny.tree, 1))).toBe(opCount(all));
    expect(opCount(buildPicture(tiny.graph, tiny.tree, 2))).toBe(opCount(all));
  });

  it("writes DOT with one cluster per opened block and a labelled statement per edge", () => {
    const picture = buildPicture(tiny.graph, tiny.tree, "all");
    const dot = pictureToDot(picture);
    expect(dot.startsWith(`digraph "Tiny" {`)).toBe(true);
    expect(dot.match(/subgraph cluster_\d+ \{/g)).toHaveLength(allClusters(picture.root).length - 1);
    for (const e of picture.edges) expect(dot).toContain(`${e.from} -> ${e.to} [label="${e.label}"];`);
    for (const name of ["classify", "norm", "head", "q", "kv"]) expect(dot).toContain(`<B>${name}</B>`);
  });

  it("renders to an SVG document naming the blocks", async () => {
    const svg = await renderSvg(pictureToDot(buildPicture(tiny.graph, tiny.tree, 2)));
    expectWellFormedXml(svg);
    expect(svg).toMatch(/<svg[\s>]/);
    const words = new Set([...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].flatMap((m) => m[1].split(/[\s·,]+/)));
    for (const name of [
      "classify",
      "Classifier",
      "q",
      "kv",
      "Linear",
      "LayerNorm",
      "cross_attention",
      "lift",
      "split_index",
    ])
      expect(words).toContain(name);
  });
});

describe("block types", () => {
  it("tells apart layers whose paths differ only by a literal index or by the branch that declared them", () => {
    const source = `import "std/nn.net"

model Mixed()(x: f32[B, 4]) -> (y: f32[B, 4]) {
  for i in 0..2 {
    layer stack[i][0] = Linear(4, 4)
    layer stack[i][1] = LayerNorm(4)
    x = stack[i][1](stack[i][0](x))
    if i == 0 {
      layer extra[i] = Linear(4, 4)
      x = extra[i](x)
    } else {
      layer extra[i] = LayerNorm(4)
      x = extra[i](x)
    }
  }
  return x
}
`;
    const front = compileToGraph(source, { file: resolve(ROOT, "mixed.net") });
    expect(front.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const tree = programBlockTree(front.graph!, front.program!);
    expect(tree.children.map((c) => [c.path, c.type])).toEqual([
      ["stack.0.0", "Linear"],
      ["stack.0.1", "LayerNorm"],
      ["extra.0", "Linear"],
      ["stack.1.0", "Linear"],
      ["stack.1.1", "LayerNorm"],
      ["extra.1", "LayerNorm"],
    ]);
  });
});

describe("models/ifdd.net", () => {
  let ifdd: ReturnType<typeof compile>;
  beforeAll(() => {
    ifdd = compile("models/ifdd.net");
  });

  it("shows the model's three stages as clusters at depth 2 with the backbone's parts folded", () => {
    const picture = buildPicture(ifdd.graph, ifdd.tree, 2);
    expect(picture.root.clusters.map((c) => c.block.name)).toEqual(["embed", "backbone", "head"]);
    const backbone = clusterOf(picture, "backbone")!;
    expect(backbone.clusters).toEqual([]);
    const boxes = backbone.nodes.filter((n) => n.kind === "block");
    expect(boxes.map((n) => [n.block!.name, n.block!.type])).toEqual([
      ["backbone", "MViT"],
      ["PANLayer.0", "Conv"],
      ["CatConv", "Conv"],
      ["WaveLifts", "WaveLift"],
    ]);
    const waveLifts = boxOf(picture, "backbone.WaveLifts")!;
    expect(waveLifts.constructs.sort()).toEqual(["cross_attention", "lift", "split_index"]);
    // The box stands for every op of its subtree.
    const all = buildPicture(ifdd.graph, ifdd.tree, "all");
    const inside = allClusters(clusterOf(all, "backbone.WaveLifts")!).flatMap((c) => c.nodes);
    expect(waveLifts.ops.length).toBe(inside.length);
    expect(opCount(picture)).toBe(opCount(all));
  });

  it("keeps repeated layers as separate boxes and labels the stage outputs with the declared shapes", () => {
    const picture = buildPicture(ifdd.graph, ifdd.tree, 3);
    const mvit = clusterOf(picture, "backbone.backbone")!;
    const blocks = mvit.nodes.filter((n) => n.kind === "block" && n.block!.type === "MultiscaleBlock");
    expect(blocks.map((n) => n.block!.name)).toEqual(Array.from({ length: 10 }, (_, i) => `blocks.${i}`));
    expect(new Set(blocks.map((n) => n.ops.length)).size).toBeGreaterThan(1); // blocks that pool the skip have more ops
    const nodes = byId(picture);
    const leaving = (n: PictureNode) =>
      picture.edges.filter((e) => e.from === n.id && !allNodes(mvit).includes(nodes.get(e.to)!));
    // MViT's signature: -> (f32[B, 1569, 384], f32[B, 393, 768]): stage 2 after block 7, the final norm after block 9.
    expect(leaving(blocks[7]).map((e) => e.label)).toEqual(["[B, 1569, 384]"]);
    const norm = mvit.nodes.find((n) => n.block?.name === "norm")!;
    expect(leaving(norm).map((e) => e.label)).toEqual(["[B, 393, 768]"]);
  });

  it("draws the lifting scheme as two lift steps, each fed by a cross_attention", () => {
    const picture = buildPicture(ifdd.graph, ifdd.tree, 3);
    const waveLifts = clusterOf(picture, "backbone.WaveLifts")!;
    const uses = (c: string) => waveLifts.nodes.filter((n) => n.kind === "construct" && n.constructs[0] === c);
    expect(uses("lift").map((n) => n.ops)).toEqual([["add"], ["sub"]]);
    expect(uses("cross_attention")).toHaveLength(2);
    expect(boxOf(picture, "backbone.WaveLifts.adapt_split")!.constructs).toEqual(["split_index"]);
    const nodes = byId(picture);
    for (const [i, lift] of uses("lift").entries()) {
      // Each step's input passes through the output projection the cross_attention names (project_a[0], project_d[0]).
      const from = picture.edges.filter((e) => e.to === lift.id).map((e) => nodes.get(e.from)!);
      const projection = from.find((n) => n.block?.name === ["project_a.0", "project_d.0"][i])!;
      expect(projection).toBeDefined();
      expect(picture.edges.some((e) => e.from === uses("cross_attention")[i].id && e.to === projection.id)).toBe(true);
    }
  });
});
