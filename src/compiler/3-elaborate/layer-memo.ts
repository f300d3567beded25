// Reuse of layer calls between elaborations of edited versions of a program (the language server's edits), and
// within one: a call whose block, every declaration that block can reach by name, configuration and inputs are the
// same as a call of the previous elaboration or an earlier one of this elaboration is replayed from what that call
// did (its nodes, weights, layers, taps, observed values and result; under another weight path, its paths moved)
// instead of being run again. Declarations are compared as objects: the language server's parse
// cache hands back the same syntax tree for a declaration that neither changed nor moved (src/lsp/reuse.ts), so a
// declaration that is the same object has the same text at the same place, and so gives the same spans.
import type * as A from "../../dsl/1-parse/ast.js";
import type { Span } from "../../diagnostics/diagnostics.js";
import { isStdlibFile } from "../../util/source-paths.js";
import { dimToString } from "../ir/dim.js";
import type { GraphOutput, Node, ParamInfo, Value as IrValue } from "../ir/ir.js";
import type { CallArg } from "./call-binding.js";
import { hasCallSite, setCallSite } from "./context.js";
import { userLayerSpan } from "./declarations.js";
import type { Elaborator, ValueObserver } from "./elaborate.js";
import type { LayerInstance, Val } from "./values.js";

/** What one call did, in the order it did it, by the objects of the elaboration that ran it. */
interface Entry {
  /** The weight path its body ran under (a fn's: its caller's). */
  path: string;
  /** A layer call's layer, then the tensors and layers of its configuration and arguments, in the key's order. */
  externals: object[];
  /** Whether externals[0] is the called layer. */
  layerCall: boolean;
  nodes: Node[];
  /** Per node: whether it recorded the outermost call (provenance notes point there). */
  callSites: boolean[];
  /** The weights its param nodes declared, as they were when the call returned (passes mark them later). */
  params: ParamInfo[];
  /** Weights it declared (`el.params`), layers it filed and layers it called, in order. */
  paramPaths: [string, IrValue][];
  layers: [string, LayerInstance][];
  called: string[];
  /** Weights declared before the call that it used again (a layer called twice), by path. */
  paramRefs: [string, IrValue][];
  /** Its `tap` statements' graph taps. */
  taps: GraphOutput[];
  observations: Observation[];
  listElements: number;
  /** How much deeper than at its start bodies and expressions nested during the call (the limits must hold). */
  nesting: { depth: number; evalDepth: number };
  result: Val;
  /** Keys of the calls inside it: kept while it is. */
  inner: string[];
}

type Observation = [Span, Val, string];

/** A call being run for the first time, and where each of the elaborator's logs stood when it began. */
interface Recording {
  key: string;
  /** The weight path its body runs under (a fn's: its caller's). */
  path: string;
  layerCall: boolean;
  externals: object[];
  nodes: number;
  params: number;
  paramPaths: number;
  layers: number;
  called: number;
  taps: number;
  observations: number;
  listElements: number;
  /** Other state that a call is not reused across when it changes (errors, prints, taps, inputs, rules). */
  sideEffects: string;
  /** Read state made before it began (other than its inputs), or failed: not kept. */
  tainted: boolean;
  inner: string[];
  /** The calls inside it that were kept or replayed: their observations need no second check, only their inputs. */
  children: { observations: [number, number]; inputs: object[] }[];
  nesting: { depth: number; evalDepth: number };
}

/** Declarations numbered by object identity (a changed or moved declaration is a new object). */
const declIds = new WeakMap<object, number>();
let nextDeclId = 0;
/** The names a declaration mentions (anything its body may look up), by declaration. */
const mentionedNames = new WeakMap<object, string[]>();

function declId(decl: object): number {
  let id = declIds.get(decl);
  if (id === undefined) declIds.set(decl, (id = nextDeclId++));
  return id;
}

function namesIn(decl: A.BlockDecl | A.FnDecl): string[] {
  let names = mentionedNames.get(decl);
  if (names) return names;
  const found = new Set<string>();
  const walk = (o: unknown): void => {
    if (typeof o !== "object" || o === null) return;
    if (Array.isArray(o)) return o.forEach(walk);
    for (const [k, v] of Object.entries(o)) {
      if (k === "span") continue;
      if (k === "name" && typeof v === "string") found.add(v);
      else walk(v);
    }
  };
  walk(decl);
  mentionedNames.set(decl, (names = [...found]));
  return names;
}

/** Counts of one elaboration, for tests (reuse is checked by counting, not by timing). */
export interface MemoStats {
  /** Calls replayed, outermost ones only (not inside another call that was recorded or replayed). */
  hits: number;
  /** Calls replayed, at any depth (a call replayed within a recorded one included). */
  replays: number;
  /** Calls run and kept for the next elaboration. */
  stored: number;
  /** Calls that could not be kept (errors, prints, taps, weights declared before the call re-declared, ...). */
  notKept: number;
}

/**
 * Layer calls of the last elaboration, to replay in the next. One per document: an elaboration keeps the entries it
 * replayed or stored, and drops the rest.
 */
export class LayerCallMemo {
  private entries = new Map<string, Entry>();
  private used = new Map<string, Entry>();
  stats: MemoStats = { hits: 0, replays: 0, stored: 0, notKept: 0 };

  /** Starts an elaboration. */
  begin(): CallTrace {
    this.used = new Map();
    this.stats = { hits: 0, replays: 0, stored: 0, notKept: 0 };
    return new CallTrace(this);
  }

  /** Ends an elaboration: only its entries stay. */
  end(): void {
    this.entries = this.used;
  }

  lookup(key: string): Entry | undefined {
    return this.entries.get(key) ?? this.used.get(key);
  }

  keep(key: string, entry: Entry): void {
    if (this.used.has(key)) return;
    this.used.set(key, entry);
    for (const k of entry.inner) {
      const e = this.entries.get(k);
      if (e) this.keep(k, e);
    }
  }
}

/** One elaboration's logs of what its calls did, and the calls being recorded. */
export class CallTrace {
  readonly observations: Observation[] = [];
  /** The observer the elaboration's values go to (each is also logged in `observations`). */
  forward?: ValueObserver;
  readonly paramPaths: [string, IrValue][] = [];
  readonly layers: [string, LayerInstance][] = [];
  readonly called: string[] = [];
  private readonly recording: Recording[] = [];
  /** Where each weight and layer of this elaboration is in its log (to tell a call's own from earlier ones). */
  private readonly paramAt = new Map<IrValue, number>();
  private readonly layerAt = new Map<LayerInstance, number>();
  private readonly closures = new Map<object, string>();

  constructor(readonly memo: LayerCallMemo) {}

  declaredParam(path: string, v: IrValue): void {
    this.paramAt.set(v, this.paramPaths.length);
    this.paramPaths.push([path, v]);
  }

  filedLayer(path: string, layer: LayerInstance): void {
    this.layerAt.set(layer, this.layers.length);
    this.layers.push([path, layer]);
  }

  /** A weight declared again: a call recorded since before the first declaration did not make it. */
  reusedParam(v: IrValue): void {
    const at = this.paramAt.get(v) ?? -1;
    for (const r of this.recording) if (at < r.paramPaths) r.tainted = true;
  }

  reusedLayer(layer: LayerInstance): void {
    const at = this.layerAt.get(layer) ?? -1;
    for (const r of this.recording) if (at < r.layers) r.tainted = true;
  }

  /**
   * Runs the body of a layer (or of a fn called under the weight path `path`) through `run`, or replays what an
   * earlier identical call did. The key holds everything the body can depend on: the block or fn and the
   * declarations it reaches by name (as objects), the blocks and configurations of the layers around a layer, its
   * configuration and the argument values (tensors by type and by which are the same value), the construct and the
   * elaborator's modes; the nesting limits are checked on replay.
   */
  call(
    el: Elaborator,
    callee: { layer: LayerInstance } | { fn: A.FnDecl; path: string },
    args: CallArg[],
    span: Span,
    construct: string | undefined,
    run: () => Val,
  ) {
    const layer = "layer" in callee ? callee.layer : undefined;
    const externals: object[] = layer ? [layer] : [];
    const configKey = layer ? keyOfEntries([...layer.config], externals, this, el) : "";
    const argsKey = keyOfEntries(
      args.map((a) => [a.name ?? "", a.value]),
      externals,
      this,
      el,
    );
    if (configKey === undefined || argsKey === undefined) return run();
    const key = [
      this.closureOf(el, layer?.decl ?? (callee as { fn: A.FnDecl }).fn),
      layer ? this.ancestorsOf(el, layer) : "fn",
      configKey,
      argsKey,
      construct ?? "",
      el.memoContext(),
    ].join("\u0001");
    const entry = this.memo.lookup(key);
    if (entry) {
      const observed = this.observations.length;
      const result = this.replay(el, entry, externals, layer?.path ?? (callee as { path: string }).path, span);
      if (result) {
        if (!this.recording.length) this.memo.stats.hits++;
        this.memo.stats.replays++;
        const parent = this.recording.at(-1);
        if (parent) {
          parent.inner.push(key);
          const inputs = [...externals, ...entry.paramRefs.map(([p]) => el.params.get(p)!)];
          parent.children.push({ observations: [observed, this.observations.length], inputs });
        }
        this.memo.keep(key, entry);
        return result;
      }
    }
    const rec: Recording = {
      key,
      path: layer?.path ?? (callee as { path: string }).path,
      layerCall: layer !== undefined,
      externals,
      nodes: el.builder.graph.nodes.length,
      params: el.builder.graph.params.length,
      paramPaths: this.paramPaths.length,
      layers: this.layers.length,
      called: this.called.length,
      taps: el.builder.graph.taps.length,
      observations: this.observations.length,
      listElements: el.listElementsSpent,
      sideEffects: el.memoSideEffects(),
      tainted: false,
      inner: [],
      children: [],
      nesting: { depth: 0, evalDepth: 0 },
    };
    this.recording.push(rec);
    const start = el.depths;
    const outer = { ...el.nesting };
    el.nesting.depthHigh = start.depth;
    el.nesting.evalHigh = start.evalDepth;
    let result: Val;
    try {
      result = run();
    } catch (e) {
      for (const r of this.recording) r.tainted = true;
      throw e;
    } finally {
      this.recording.pop();
      rec.nesting = { depth: el.nesting.depthHigh - start.depth, evalDepth: el.nesting.evalHigh - start.evalDepth };
      el.nesting.depthHigh = Math.max(outer.depthHigh, el.nesting.depthHigh);
      el.nesting.evalHigh = Math.max(outer.evalHigh, el.nesting.evalHigh);
    }
    const stored = !rec.tainted && rec.sideEffects === el.memoSideEffects() && this.store(el, rec, result);
    const parent = this.recording.at(-1);
    if (stored && parent) {
      parent.inner.push(key);
      const inputs = [...externals, ...stored.paramRefs.map(([, v]) => v)];
      parent.children.push({ observations: [rec.observations, this.observations.length], inputs });
    } else if (!stored) {
      this.memo.stats.notKept++;
      for (const r of this.recording) r.tainted = true;
    }
    return result;
  }

  /** The call as an entry, if everything it made or returned can be found again from its inputs. */
  private store(el: Elaborator, rec: Recording, result: Val): Entry | undefined {
    const graph = el.builder.graph;
    const nodes = graph.nodes.slice(rec.nodes);
    const firstId = nodes[0]?.id ?? Number.POSITIVE_INFINITY;
    const externals = new Set(rec.externals);
    const layers = this.layers.slice(rec.layers);
    const ownLayers = new Set(layers.map(([, l]) => l));
    const paramRefs = new Map<string, IrValue>();
    const known = (v: IrValue): boolean => {
      if (v.producer.id >= firstId || externals.has(v)) return true;
      if (v.producer.op !== "param") return false;
      const path = v.producer.attrs.path;
      if (el.params.get(path) !== v) return false;
      paramRefs.set(path, v);
      return true;
    };
    const knownLayer = (l: LayerInstance): boolean => ownLayers.has(l) || externals.has(l);
    const knownVal = (v: Val): boolean => {
      if (isPlain(v)) return true;
      switch (v.kind) {
        case "tensor":
          return known(v.v);
        case "layer":
          return knownLayer(v.layer);
        case "list":
        case "tuple":
          return v.items.every(knownVal);
        case "ns":
          return [...v.entries.values()].every(knownVal);
        default:
          return true;
      }
    };
    if (!nodes.every((n) => n.inputs.every(known))) return undefined;
    if (!knownVal(result)) return undefined;
    for (const [, l] of layers) {
      if (l.parent && !knownLayer(l.parent)) return undefined;
      if (![...l.config.values()].every(knownVal)) return undefined;
    }
    const taps = graph.taps.slice(rec.taps);
    if (!taps.every((t) => known(t.value))) return undefined;
    // Observations of the calls inside were checked against their inputs: check those inputs instead.
    const end = this.observations.length;
    let at = rec.observations;
    for (const child of rec.children) {
      for (; at < child.observations[0]; at++) if (!knownVal(this.observations[at][1])) return undefined;
      if (!child.inputs.every((x) => ("decl" in x ? knownLayer(x as LayerInstance) : known(x as IrValue))))
        return undefined;
      at = child.observations[1];
    }
    for (; at < end; at++) if (!knownVal(this.observations[at][1])) return undefined;
    const observations = this.observations.slice(rec.observations);
    const entry: Entry = {
      path: rec.path,
      externals: rec.externals,
      layerCall: rec.layerCall,
      nodes,
      callSites: nodes.map(hasCallSite),
      params: graph.params.slice(rec.params).map((p) => ({ ...p })),
      paramPaths: this.paramPaths.slice(rec.paramPaths),
      layers,
      called: this.called.slice(rec.called),
      paramRefs: [...paramRefs],
      taps,
      observations,
      listElements: el.listElementsSpent - rec.listElements,
      nesting: rec.nesting,
      result,
      inner: rec.inner,
    };
    this.memo.stats.stored++;
    this.memo.keep(rec.key, entry);
    return entry;
  }

  /**
   * Does again what the entry's call did, on this call's inputs, under this call's weight path (the paths it made
   * below the recorded call's path move below this one); undefined (nothing done) when it cannot: when a weight,
   * layer or tap it would make exists already (the call's error, or a layer called again, which reuses its
   * weights), or an input layer sits below the recorded path (its paths would move too).
   */
  private replay(el: Elaborator, entry: Entry, externals: object[], to: string, span: Span): Val | undefined {
    const from = entry.path;
    const below = (p: string) => p === from || p.startsWith(`${from}.`) || p.startsWith(`${from}/`);
    const moved = new Map<string, string>();
    const path =
      from === to
        ? (p: string) => p
        : (p: string) => {
            let now = moved.get(p);
            if (now === undefined) moved.set(p, (now = below(p) ? to + p.slice(from.length) : p));
            return now;
          };
    if (from !== to) {
      // The model's own paths have no prefix (a tap there is `name`, in a layer `path/name`): not moved.
      if (from === "" || to === "") return undefined;
      const inputLayers = entry.externals.slice(entry.layerCall ? 1 : 0).filter((x) => "decl" in x);
      if (inputLayers.some((x) => below((x as LayerInstance).path))) return undefined;
    }
    const mapped = new Map<object, object>();
    entry.externals.forEach((x, i) => mapped.set(x, externals[i]));
    for (const [p, v] of entry.paramRefs) {
      const now = el.params.get(p);
      if (!now || now.dtype !== v.dtype || now.shape.join() !== v.shape.join() || path(p) !== p) return undefined;
      mapped.set(v, now);
    }
    if (!el.canSpendListElements(entry.listElements)) return undefined;
    if (!el.fitsNesting(entry.nesting.depth, entry.nesting.evalDepth)) return undefined;
    if (entry.taps.some((t) => el.tapNames.has(path(t.name)))) return undefined;
    if (entry.paramPaths.some(([p]) => el.params.has(path(p)))) return undefined;
    if (entry.layers.some(([p]) => el.layerRegistry.has(path(p)))) return undefined;
    for (const [, v] of entry.paramRefs) this.reusedParam(mapped.get(v) as IrValue);
    const now = el.depths;
    el.nesting.depthHigh = Math.max(el.nesting.depthHigh, now.depth + entry.nesting.depth);
    el.nesting.evalHigh = Math.max(el.nesting.evalHigh, now.evalDepth + entry.nesting.evalDepth);
    const graph = el.builder.graph;
    const callSite = el.emit.calls[0] ?? span;
    const copies: { info: ParamInfo; scope: string }[] = [];
    entry.nodes.forEach((n, i) => {
      const inputs = n.inputs.map((v) => mapped.get(v) as IrValue);
      const scope = path(n.scope);
      if (n.op === "param") {
        const info = { ...entry.params[copies.length] };
        delete info.layerSpan;
        info.path = path(info.path);
        graph.params.push(info);
        copies.push({ info, scope });
      }
      const attrs = n.op === "param" ? { path: path(n.attrs.path) } : n.attrs;
      const copy = el.builder.copy(from === to ? n : ({ ...n, scope, attrs } as Node), inputs);
      if (entry.callSites[i]) setCallSite(copy, callSite);
      n.outputs.forEach((v, k) => mapped.set(v, copy.outputs[k]));
    });
    const val = (v: Val): Val => translate(v, mapped, path);
    for (const [p, v] of entry.paramPaths) {
      const now = mapped.get(v) as IrValue;
      el.params.set(path(p), now);
      this.declaredParam(path(p), now);
    }
    for (const [p, l] of entry.layers) {
      const config = new Map([...l.config].map(([k, v]) => [k, val(v)]));
      const parent = l.parent && (mapped.get(l.parent) as LayerInstance);
      const now: LayerInstance = { decl: l.decl, path: path(l.path), config, span: l.span, parent };
      mapped.set(l, now);
      el.layerRegistry.set(path(p), now);
      this.filedLayer(path(p), now);
    }
    // Where a standard-library weight's diagnostics point: the user's `layer` statement around it, as it is now.
    for (const { info, scope } of copies) {
      const layerSpan = info.span && isStdlibFile(info.span.file) ? userLayerSpan(el, scope) : undefined;
      if (layerSpan) info.layerSpan = layerSpan;
    }
    for (const p of entry.called) {
      el.calledLayers.add(path(p));
      this.called.push(path(p));
    }
    for (const t of entry.taps) {
      el.tapNames.add(path(t.name));
      el.builder.tap(path(t.name), mapped.get(t.value) as IrValue, t.span);
    }
    const forward = this.forward;
    if (forward)
      for (const seen of entry.observations) {
        const [s, v, p] = seen;
        const value = val(v);
        const scope = path(p);
        this.observations.push(value === v && scope === p ? seen : [s, value, scope]);
        forward(s, value, scope);
      }
    el.spendListElements(entry.listElements, span);
    return val(entry.result);
  }

  /**
   * The blocks and configurations of the layers that declared this one: a layer it declares that repeats one of them
   * is refused (checkNotRecursive), so they are part of the key; its path is not (replays move paths).
   */
  private ancestorsOf(el: Elaborator, layer: LayerInstance): string {
    const chain: string[] = [];
    for (let p = layer.parent; p; p = p.parent)
      chain.push(`${declId(p.decl)}${keyOfEntries([...p.config], [], this, el) ?? "?"}`);
    return chain.join(">");
  }

  /** The declarations a block can reach by name, transitively, as one key (their identities, sorted). */
  private closureOf(el: Elaborator, decl: A.BlockDecl | A.FnDecl): string {
    const have = this.closures.get(decl);
    if (have) return have;
    const seen = new Set<A.BlockDecl | A.FnDecl>([decl]);
    const queue: (A.BlockDecl | A.FnDecl)[] = [decl];
    const bound: string[] = [];
    while (queue.length) {
      for (const name of namesIn(queue.pop()!)) {
        const v = el.globals.lookup(name)?.value;
        if (v?.kind !== "block" && v?.kind !== "fn") continue;
        bound.push(`${name}=${declId(v.decl)}`);
        if (!seen.has(v.decl)) {
          seen.add(v.decl);
          queue.push(v.decl);
        }
      }
    }
    const key = `${declId(decl)}[${[...new Set(bound)].sort().join(",")}]`;
    this.closures.set(decl, key);
    return key;
  }

  /** Key of a value passed in (see keyOfEntries). */
  valKey(v: Val, externals: object[], el: Elaborator): string | undefined {
    switch (v.kind) {
      case "int":
        return `i${dimToString(v.v)}`;
      case "float":
        return `f${Object.is(v.v, -0) ? "-0" : String(v.v)}`;
      case "bool":
      case "string":
      case "dtype":
        return `${v.kind[0]}${JSON.stringify(v.v)}`;
      case "none":
        return "n";
      case "builtin":
        return `B${v.name}`;
      case "block":
      case "fn":
        return `D${this.closureOf(el, v.decl)}`;
      case "tensor": {
        let at = externals.indexOf(v.v);
        if (at < 0) at = externals.push(v.v) - 1;
        return `t${v.v.dtype}[${v.v.shape.map(dimToString).join(",")}]#${at}`;
      }
      case "layer": {
        let at = externals.indexOf(v.layer);
        if (at >= 0) return `L#${at}`;
        at = externals.push(v.layer) - 1;
        const config = keyOfEntries([...v.layer.config], externals, this, el);
        if (config === undefined) return undefined;
        return `L#${at}${v.layer.path}:${this.closureOf(el, v.layer.decl)}${config}`;
      }
      case "list":
      case "tuple": {
        const items = v.items.map((x) => this.valKey(x, externals, el));
        if (items.some((x) => x === undefined)) return undefined;
        return `${v.kind === "list" ? "[" : "("}${items.join(",")})`;
      }
      case "ns": {
        const entries = keyOfEntries([...v.entries], externals, this, el);
        return entries === undefined ? undefined : `N${v.path}${entries}`;
      }
      case "poison":
        return undefined;
    }
  }
}

/** Named values as a key; the tensors and layers among them are added to `externals` (the replay's inputs). */
function keyOfEntries(
  entries: [string, Val][],
  externals: object[],
  trace: CallTrace,
  el: Elaborator,
): string | undefined {
  const parts: string[] = [];
  for (const [name, v] of entries) {
    const key = trace.valKey(v, externals, el);
    if (key === undefined) return undefined;
    parts.push(`${name}=${key}`);
  }
  return `{${parts.join(";")}}`;
}

/** Values that hold no tensor, layer or namespace (the same in every replay), by value. */
const plain = new WeakMap<Val, boolean>();

function isPlain(v: Val): boolean {
  if (v.kind === "tensor" || v.kind === "layer" || v.kind === "ns") return false;
  if (v.kind !== "list" && v.kind !== "tuple") return true;
  let known = plain.get(v);
  if (known === undefined) plain.set(v, (known = v.items.every(isPlain)));
  return known;
}

/** A recorded value with the tensors and layers it holds replaced by this elaboration's, its paths moved by `path`. */
function translate(v: Val, mapped: Map<object, object>, path: (p: string) => string): Val {
  if (isPlain(v)) return v;
  switch (v.kind) {
    case "tensor": {
      const now = mapped.get(v.v) as IrValue | undefined;
      return now ? { kind: "tensor", v: now } : v;
    }
    case "layer": {
      const now = mapped.get(v.layer) as LayerInstance | undefined;
      return now ? { kind: "layer", layer: now } : v;
    }
    case "list":
    case "tuple":
      return { kind: v.kind, items: v.items.map((x) => translate(x, mapped, path)) };
    case "ns":
      return {
        kind: "ns",
        path: path(v.path),
        entries: new Map([...v.entries].map(([k, x]) => [k, translate(x, mapped, path)])),
      };
    default:
      return v;
  }
}
