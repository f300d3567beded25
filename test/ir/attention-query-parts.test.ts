// An attention whose scores outgrow the cache (over 8 MiB per clip) is computed over consecutive query rows apart.
// Values kept (the reference interpreter before and after the pipeline, and onnxruntime after it); the parts, their
// bias and where the pass leaves an attention whole.
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { type Dim, sym } from "../../src/compiler/ir/dim.js";
import type { Graph } from "../../src/compiler/ir/ir.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import { ATTENTION_QUERY_PARTS, runPasses } from "../../src/compiler/ir/passes/index.js";
import { compile } from "../../src/index.js";
import type { HostTensor } from "../../src/util/tensor.js";
import { at, expectClose, optimisedKeepingValues, random } from "../helpers/ir.js";
import { inOnnxruntime } from "../helpers/ort.js";

const B = sym("B");

interface Case {
  q: Dim[];
  k: Dim[];
  /** The bias's shape, if any. */
  bias?: number[];
}

/** attention(q, k, v[, bias]) with v shaped as k; feeds with B = 1 (and T as given). */
function attentionGraph(c: Case, bind: (d: Dim) => number = () => 1) {
  const b = new GraphBuilder("Attend");
  const q = b.input("q", "f32", c.q, at(1));
  const k = b.input("k", "f32", c.k, at(2));
  const v = b.input("v", "f32", c.k, at(3));
  const bias = c.bias ? [b.input("bias", "f32", c.bias, at(4))] : [];
  b.output("out", b.op1("attention", { scale: 0.35 }, [q, k, v, ...bias], at(5)));
  const shape = (s: Dim[]) => s.map((d) => (typeof d === "number" ? d : bind(d)));
  const feeds: Record<string, HostTensor> = {
    q: random("f32", shape(c.q), 1),
    k: random("f32", shape(c.k), 2),
    v: random("f32", shape(c.k), 3),
    ...(c.bias ? { bias: random("f32", c.bias, 4) } : {}),
  };
  return { graph: b.graph, feeds };
}

/** Each attention as [query rows, the bias's rows or "-"], in graph order. */
const attentions = (g: Graph) =>
  g.nodes
    .filter((n) => n.op === "attention")
    .map((n) => [n.inputs[0].shape.at(-2), n.inputs[3] ? n.inputs[3].shape.at(-2) : "-"]);

describe("attention queries in cache-sized parts", () => {
  it("cuts 32 MiB of scores into 4 parts of consecutive query rows, joined in order; onnxruntime agrees", async () => {
    const { graph, feeds } = attentionGraph({ q: [B, 2, 2048, 8], k: [B, 2, 2048, 8] });
    const g = optimisedKeepingValues(graph, feeds);
    expect(attentions(g)).toEqual([
      [512, "-"],
      [512, "-"],
      [512, "-"],
      [512, "-"],
    ]);
    const concat = g.nodes.find((n) => n.op === "concat")!;
    expect(concat.attrs).toEqual({ axis: 2 });
    const slices = g.nodes.filter((n) => n.op === "slice").map((n) => [n.attrs.start, n.attrs.end]);
    expect(slices).toEqual([
      [0, 512],
      [512, 1024],
      [1024, 1536],
      [1536, 2048],
    ]);
    const want = interpret(g, new Map(Object.entries(feeds)), new Map()).outputs.get("out")!;
    expectClose((await inOnnxruntime(g, feeds)).get("out")!, want, 1e-5, "out");
  }, 60_000);

  it("cuts a bias that varies along the queries with them; each part reads one broadcast along them whole", () => {
    const varying = attentionGraph({ q: [1, 1, 4096, 4], k: [1, 1, 1024, 4], bias: [1, 1, 4096, 1024] });
    expect(attentions(optimisedKeepingValues(varying.graph, varying.feeds))).toEqual([
      [2048, 2048],
      [2048, 2048],
    ]);
    const broadcast = attentionGraph({ q: [1, 1, 4096, 4], k: [1, 1, 1024, 4], bias: [1, 1, 1, 1024] });
    expect(attentions(optimisedKeepingValues(broadcast.graph, broadcast.feeds))).toEqual([
      [2048, 1],
      [2048, 1],
    ]);
  }, 60_000);

  it("leaves whole: 8 MiB of scores, parts under 128 rows or twice k's and v's widths, a symbolic length", () => {
    const fits = attentionGraph({ q: [B, 2, 1024, 8], k: [B, 2, 1024, 8] });
    expect(attentions(optimisedKeepingValues(fits.graph, fits.feeds))).toEqual([[1024, "-"]]);
    const thin = attentionGraph({ q: [1, 64, 200, 4], k: [1, 64, 200, 4] });
    expect(attentions(optimisedKeepingValues(thin.graph, thin.feeds))).toEqual([[200, "-"]]);
    // 19.6 MiB of scores would be 3 parts of 130 rows, each reading k and v (2 x 100 columns) again.
    const wide = attentionGraph({ q: [1, 8, 392, 100], k: [1, 8, 1569, 100] });
    expect(attentions(optimisedKeepingValues(wide.graph, wide.feeds))).toEqual([[392, "-"]]);
    // The same with 32 columns: 128 rows per part are enough, and it is cut into 3.
    const narrow = attentionGraph({ q: [1, 8, 392, 32], k: [1, 8, 1569, 32] });
    expect(attentions(optimisedKeepingValues(narrow.graph, narrow.feeds))).toEqual([
      [130, "-"],
      [131, "-"],
      [131, "-"],
    ]);
    const T = sym("T");
    const open = attentionGraph({ q: [1, 2, T, 8], k: [1, 2, 2048, 8] }, () => 300);
    expect(attentions(optimisedKeepingValues(open.graph, open.feeds))).toEqual([[T, "-"]]);
  }, 60_000);

  it("makes at most 64 parts, whatever the shape (a million queries and keys: 4 TiB of scores)", () => {
    const { graph } = attentionGraph({ q: [1, 1, 2 ** 20, 4], k: [1, 1, 2 ** 20, 4] });
    expect(runPasses(graph).diagnostics).toEqual([]);
    expect(attentions(graph)).toHaveLength(64);
    expect(attentions(graph)[0]).toEqual([2 ** 14, "-"]);
  });

  it("is left out by name like every speed rewrite", () => {
    const { graph } = attentionGraph({ q: [B, 2, 2048, 8], k: [B, 2, 2048, 8] });
    expect(runPasses(graph, { skip: [ATTENTION_QUERY_PARTS] }).diagnostics).toEqual([]);
    expect(attentions(graph)).toEqual([[2048, "-"]]);
  });

  it("is left out of a graph for onnxruntime's MultiHeadAttention and of a WGSL bundle", () => {
    const source = `import "std/nn.net"

model Attend()(x: f32[B, 4096, 16]) -> (y: f32[B, 4096, 16]) {
  layer attn = SelfAttention(16, 2)
  return attn(x)
}
`;
    const count = (options: Parameters<typeof compile>[1]) =>
      compile(source, { file: "attend.net", ...options }).graph!.nodes.filter((n) => n.op === "attention").length;
    // 2 heads x 4096 x 4096 scores = 128 MiB: 16 parts of 256 rows.
    expect(count({})).toBe(16);
    expect(count({ onnxruntimeOps: true })).toBe(1);
    expect(count({ target: "wgsl" })).toBe(1);
  });
});
