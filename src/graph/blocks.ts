// The tree of block instances behind an IR graph's node scopes, with each instance's block type and weights.
// The IR keeps only the instance path (`backbone.blocks.3.attn`); which segments name an instance (`blocks.3` is one,
// `blocks` alone is not) and which block it instantiates come from the `layer` statements of the program.
import type * as A from "../dsl/1-parse/ast.js";
import type { Span } from "../diagnostics/diagnostics.js";
import type { Graph } from "../compiler/ir/ir.js";
import type { Program } from "../dsl/2-analyze/load.js";

export interface BlockInstance {
  /** Full instance path, "" for the model. */
  path: string;
  /** The path relative to the parent instance: `blocks.3`, `attn`; the model's name at the root. */
  name: string;
  /** The block it instantiates (`MultiscaleBlock`); the model's name at the root; undefined when not resolvable. */
  type?: string;
  /** 0 for the model, 1 for its layers, and so on. */
  depth: number;
  children: BlockInstance[];
  /** Elements of the weights this instance and its descendants use. */
  parameters: number;
}

type Decl = A.BlockDecl | A.ModelDecl;

/** Every `layer` statement of a body, inside `if` and `for` too. */
function layerStatements(body: readonly A.Stmt[]): A.LayerStmt[] {
  return body.flatMap((s) =>
    s.kind === "Layer"
      ? [s]
      : s.kind === "If"
        ? layerStatements([...s.then, ...(s.else ?? [])])
        : s.kind === "For"
          ? layerStatements(s.body)
          : [],
  );
}

/** How many leading segments of `rest` the statement's path names (`blocks[i]` matches `blocks.3`), or 0. */
function matchLength(stmt: A.LayerStmt, rest: readonly string[]): number {
  if (stmt.path.length > rest.length) return 0;
  const ok = stmt.path.every((seg, i) =>
    seg.kind === "Name"
      ? seg.name === rest[i]
      : seg.expr.kind === "Number"
        ? String(seg.expr.value) === rest[i]
        : /^\d+$/.test(rest[i]),
  );
  return ok ? stmt.path.length : 0;
}

const within = (inner: Span, outer: Span) =>
  inner.file === outer.file && inner.start >= outer.start && inner.end <= outer.end;

/**
 * Builds the instance tree from the scopes of the graph's nodes. `blockDecls` resolves a `layer` statement's callee.
 * When several statements could have made an instance (`layer blocks[i] = A` and, in another branch, `= B`), the one
 * whose block's source holds the instance's own ops wins; an instance no statement explains has no type.
 */
export function blockTree(
  graph: Graph,
  model: A.ModelDecl,
  blockDecls: ReadonlyMap<string, A.BlockDecl>,
): BlockInstance {
  const scopes = [...new Set(graph.nodes.map((n) => n.scope))].filter((s) => s !== "").map((s) => s.split("."));
  const usedParams = graph.params.filter((p) => !p.unused);
  const spansByScope = new Map<string, Span[]>();
  for (const n of graph.nodes) if (n.span) spansByScope.set(n.scope, [...(spansByScope.get(n.scope) ?? []), n.span]);

  const resolve = (path: string, candidates: ReadonlySet<A.BlockDecl | undefined>): A.BlockDecl | undefined => {
    if (candidates.size <= 1) return [...candidates][0];
    const spans = spansByScope.get(path) ?? [];
    const holding = [...candidates].filter((d) => d && spans.some((s) => within(s, d.span)));
    return holding.length === 1 ? holding[0] : undefined;
  };

  const build = (
    path: string,
    name: string,
    depth: number,
    decl: Decl | undefined,
    below: string[][],
  ): BlockInstance => {
    const prefix = path ? `${path}.` : "";
    const node: BlockInstance = {
      path,
      name,
      type: decl?.name.name,
      depth,
      children: [],
      parameters: usedParams
        .filter((p) => p.path.startsWith(prefix))
        .reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0),
    };
    const statements = decl ? layerStatements(decl.body) : [];
    const groups = new Map<string, { decls: Set<A.BlockDecl | undefined>; rests: string[][] }>();
    for (const rest of below) {
      if (rest.length === 0) continue;
      const matches = statements.map((stmt) => ({ stmt, taken: matchLength(stmt, rest) })).filter((m) => m.taken > 0);
      let taken = matches[0]?.taken ?? 0;
      // Not expected from the elaborator: a name, and any indices after it, as an instance of unknown type.
      if (!taken) for (taken = 1; taken < rest.length && /^\d+$/.test(rest[taken]); ) taken++;
      const key = rest.slice(0, taken).join(".");
      const group = groups.get(key) ?? { decls: new Set(), rests: [] };
      for (const m of matches.filter((m) => m.taken === taken))
        group.decls.add(m.stmt.init.callee.kind === "Name" ? blockDecls.get(m.stmt.init.callee.name) : undefined);
      group.rests.push(rest.slice(taken));
      groups.set(key, group);
    }
    // Children in the order the graph first computes in them, which is roughly data-flow order.
    for (const [key, group] of groups)
      node.children.push(build(prefix + key, key, depth + 1, resolve(prefix + key, group.decls), group.rests));
    return node;
  };
  return build("", model.name.name, 0, model, scopes);
}

/** Instances by path; every node scope of the graph the tree was built from is one of them. */
export function instancesByPath(root: BlockInstance): Map<string, BlockInstance> {
  const byPath = new Map<string, BlockInstance>();
  const visit = (b: BlockInstance) => {
    byPath.set(b.path, b);
    b.children.forEach(visit);
  };
  visit(root);
  return byPath;
}

/** The instance tree of a graph compiled from `program` (the front end's result). */
export function programBlockTree(graph: Graph, program: Program): BlockInstance {
  const model = program.entry.items.find((i): i is A.ModelDecl => i.kind === "Model");
  if (!model) throw new Error("a compiled graph without a model declaration");
  // Later declarations shadow earlier ones, as in elaboration.
  const blocks = new Map(
    program.files
      .flatMap((f) => f.items.filter((i): i is A.BlockDecl => i.kind === "Block"))
      .map((b) => [b.name.name, b]),
  );
  return blockTree(graph, model, blocks);
}
