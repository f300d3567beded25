// Mapping checkpoints' state dicts onto a model's declared weights.
// Planning works on names, shapes and dtypes only, so the report is known before any tensor data is read;
// loading then reads each needed checkpoint tensor once and applies the planned steps.
import type { Span } from "../diagnostics/diagnostics.js";
import { closestName } from "../util/suggest.js";
import { byteSize, type DType, type HostTensor } from "../util/tensor.js";
import { type LazyTensor, lazyTensor } from "../util/lazy-tensor.js";
import { describeStateDict, findStateDict, type Checkpoint, type StateDict } from "./checkpoint.js";
import { WeightCodes, weightError, withDiagnostics } from "../diagnostics/weight-codes.js";
import { opaqueTensorError, type ProgressCallback } from "./layout.js";
import { castTensor, isFloat, isLossy, reshapeTensor, sliceTensor, transposeTensor } from "./transforms.js";

/** A weight the model declares, as the compiler knows it. */
export interface DeclaredWeight {
  path: string;
  dtype: DType;
  shape: readonly number[];
  /** The `.net` declaration, for diagnostics. */
  span?: Span;
  /** The forward computation never reads it: loading it is only reported, and it may be missing. */
  unused?: boolean;
  /** For a weight the standard library declares: the user's `layer` statement that brings it in. */
  layerSpan?: Span;
  /** A standard-library buffer its block never reads (BatchNorm's num_batches_tracked): reported in one line. */
  stdlibBuffer?: boolean;
}

/** Removes a prefix from the keys that start with it; `span` is the `strip` rule's, for diagnostics. */
export interface StripRule {
  prefix: string;
  span?: Span;
}

/**
 * Renames checkpoint keys. Literal: `from` matches a whole key or a dotted prefix of one ("backbone" renames
 * "backbone.x" to "<to>.x"). With `regex`, `from` is a JavaScript regular expression and the first match is
 * replaced by `to` ($1 etc. refer to groups), like Python's re.sub(count=1).
 */
export interface RenameRule {
  from: string;
  to: string;
  regex?: boolean;
  span?: Span;
}

/**
 * Which tensors a transform applies to, by name after stripPrefix and rename: the exact name, or with `regex`
 * every name the expression matches in full (groups then fill $1 etc. in a split's `into`).
 */
export interface TransformTarget {
  key: string;
  regex?: boolean;
  span?: Span;
}

export interface TransposeTransform extends TransformTarget {
  op: "transpose";
  /** Default: reverse the axes (a plain matrix transpose). */
  perm?: readonly number[];
}

export interface ReshapeTransform extends TransformTarget {
  op: "reshape";
  /** One entry may be -1. Default: the shape of the declared weight of the same name. */
  shape?: readonly number[];
}

export interface CastTransform extends TransformTarget {
  op: "cast";
  /** Default: the dtype of the declared weight of the same name. */
  to?: DType;
}

/** Splits a packed tensor (e.g. qkv) along `axis` into the tensors named in `into`. */
export interface SplitTransform extends TransformTarget {
  op: "split";
  axis: number;
  into: readonly string[];
  /** Default: equal parts. */
  sizes?: readonly number[];
}

/**
 * Leaves checkpoint tensors out of the mapping: they are reported as dropped, not as unexpected (the official
 * loader's `state_dict.pop(key)`). With `mismatched`, only a tensor whose shape differs from the declared weight of
 * its name is dropped (`del state_dict[k]` when the shapes disagree), so that weight goes missing instead.
 */
export interface DropTransform extends TransformTarget {
  op: "drop";
  mismatched?: boolean;
}

export type TensorTransform = TransposeTransform | ReshapeTransform | CastTransform | SplitTransform | DropTransform;

/**
 * Applied in this order: subdict, stripPrefix, rename (each rule in turn), transforms (each in turn), prefix.
 * Renames and transforms name tensors relative to the prefix.
 */
export interface MappingRules {
  /**
   * Dotted path of the state dict in the checkpoint, e.g. "model"; several: the first the checkpoint has
   * (`checkpoint["model_state_dict"] if present else checkpoint["model"]`). Default: found by findStateDict.
   */
  subdict?: string | readonly string[];
  /** Each prefix is removed once from the keys that start with it, e.g. "module." from DataParallel. */
  stripPrefix?: readonly (string | StripRule)[];
  rename?: readonly RenameRule[];
  /** Prepended as is to every name at the end, so that the checkpoint fills the weights under it (e.g. "landmark."). */
  prefix?: string;
  transforms?: readonly TensorTransform[];
}

/** One checkpoint and how its tensors map onto the model; a model may take its weights from several. */
export interface WeightSource {
  checkpoint: Checkpoint;
  rules?: MappingRules;
  /** The `weights <set> { }` block its rules come from, so that hints name the block to write a rule in. */
  set?: string;
}

export interface AppliedWeight {
  path: string;
  /** The checkpoint key it came from, relative to the state dict, and where that state dict is. */
  key: string;
  source: string;
  span?: Span;
  layerSpan?: Span;
  unused: boolean;
  stdlibBuffer: boolean;
  /** Transforms applied on the way, as text ("transpose [1, 0]"). */
  steps: string[];
}

export interface MissingWeight {
  path: string;
  dtype: DType;
  shape: readonly number[];
  span?: Span;
  layerSpan?: Span;
  unused: boolean;
  stdlibBuffer: boolean;
  /**
   * A likely fix, when an unexpected checkpoint tensor differs from this weight by a pattern (a prefix added or
   * removed, one segment renamed): the hint, naming the `weights { }` rule to write.
   */
  suggestion?: string;
  /** The rule of the suggestion, for a fix that writes it (the same text the hint shows). */
  rule?: SuggestedRule;
}

/** A `weights { }` rule that would map an unexpected checkpoint tensor onto a missing weight. */
export interface SuggestedRule {
  /** As written in the block: `rename "fc" -> "head.fc"`, `strip "module."`. */
  text: string;
  /** The `weights <set> { }` block it goes in; absent for the model's own `weights { }`. */
  set?: string;
  /** The unexpected tensor it maps: its key and the state dict it is in. */
  key: string;
  source: string;
}

/** A `strip` or `rename` rule that matched no key of any checkpoint it applied to. */
export interface UnmatchedRule {
  /** The rule as text (`strip 'module.'`). */
  rule: string;
  span?: Span;
  /** The state dicts it applied to. */
  sources: string[];
  /** The closest prefix or name the checkpoints do have, when one is close. */
  closest?: string;
}

export interface UnexpectedTensor {
  key: string;
  source: string;
  /** The name after renaming and transforms, when it differs from the key. */
  name: string;
  dtype: DType;
  shape: readonly number[];
}

/** A checkpoint tensor a drop rule left out. */
export interface DroppedTensor {
  key: string;
  source: string;
  /** Its name when it was dropped (after renaming, relative to the prefix). */
  name: string;
  dtype: DType;
  shape: readonly number[];
  /** The rule, as text (`drop_regex ".*landmark.*"`). */
  rule: string;
  span?: Span;
}

export interface ShapeMismatch {
  path: string;
  key: string;
  source: string;
  span?: Span;
  expected: readonly number[];
  actual: readonly number[];
}

export interface DTypeMismatch {
  path: string;
  key: string;
  source: string;
  span?: Span;
  expected: DType;
  actual: DType;
}

export interface DTypeConversion {
  path: string;
  key: string;
  source: string;
  span?: Span;
  from: DType;
  to: DType;
  lossy: boolean;
  /** Asked for by a cast transform rather than done implicitly between float types. */
  explicit: boolean;
}

export interface WeightReport {
  /** Each checkpoint and the state dict in it, e.g. "ifdd.pth ['model']". */
  sources: string[];
  applied: AppliedWeight[];
  missing: MissingWeight[];
  unexpected: UnexpectedTensor[];
  /** Checkpoint tensors left out by drop rules. */
  dropped: DroppedTensor[];
  shapeMismatch: ShapeMismatch[];
  dtypeMismatch: DTypeMismatch[];
  dtypeConverted: DTypeConversion[];
  unmatchedRules: UnmatchedRule[];
}

type Step =
  | { op: "transpose"; perm: number[] }
  | { op: "reshape"; shape: number[] }
  | { op: "cast"; to: DType }
  | { op: "slice"; axis: number; start: number; size: number };

/** A tensor a checkpoint offers under a model-side name, with the steps that produce it from its key. */
interface Candidate {
  name: string;
  /** Index into the plan's state dicts. */
  origin: number;
  key: string;
  sourceDType: DType;
  dtype: DType;
  shape: number[];
  steps: Step[];
}

interface PlannedLoad {
  path: string;
  origin: number;
  key: string;
  steps: readonly Step[];
  /** The weight as declared, which the steps produce. */
  dtype: DType;
  shape: readonly number[];
}

/** The outcome of planning: the report, known before any data is read, and what loadWeights will read. */
export interface WeightPlan {
  readonly stateDicts: readonly StateDict[];
  readonly report: WeightReport;
  readonly loads: readonly PlannedLoad[];
}

function ruleError(message: string, span?: Span): never {
  throw weightError(WeightCodes.BadMappingRule, message, { span });
}

/** Works out what goes where, reading no tensor data. Invalid rules throw; mismatches go into the report. */
export function planWeights(declared: readonly DeclaredWeight[], sources: readonly WeightSource[]): WeightPlan {
  const declaredByPath = new Map<string, DeclaredWeight>();
  for (const d of declared) {
    if (declaredByPath.has(d.path)) ruleError(`the weight '${d.path}' is declared twice`, d.span);
    declaredByPath.set(d.path, d);
  }
  const stateDicts = sources.map((s) => findStateDictOf(s.checkpoint, s.rules?.subdict));
  const names = stateDicts.map(describeStateDict);
  const candidates = new Map<string, Candidate>();
  const dropped: DroppedTensor[] = [];
  const rules = new RuleMatches();
  sources.forEach((s, origin) => {
    const offered = offeredTensors(stateDicts[origin], s.rules ?? {}, {
      origin,
      names,
      declared: declaredByPath,
      prefix: s.rules?.prefix ?? "",
      dropped,
      rules,
    });
    for (const c of offered.values()) addCandidate(candidates, c, names);
  });

  const report: WeightReport = {
    sources: names,
    applied: [],
    missing: [],
    unexpected: [],
    dropped,
    shapeMismatch: [],
    dtypeMismatch: [],
    dtypeConverted: [],
    unmatchedRules: rules.unmatched(),
  };
  const loads: PlannedLoad[] = [];
  for (const d of declared) {
    const flags = {
      unused: d.unused ?? false,
      stdlibBuffer: d.stdlibBuffer ?? false,
      ...(d.layerSpan ? { layerSpan: d.layerSpan } : {}),
    };
    const c = candidates.get(d.path);
    if (!c) {
      report.missing.push({ path: d.path, dtype: d.dtype, shape: d.shape, span: d.span, ...flags });
      continue;
    }
    candidates.delete(d.path);
    const entry = stateDicts[c.origin].tensors.get(c.key);
    if (entry?.opaque !== undefined) throw opaqueTensorError(stateDicts[c.origin].checkpoint.path, entry, d);
    const where = {
      path: d.path,
      key: c.key,
      source: names[c.origin],
      span: d.span,
      ...(d.layerSpan ? { layerSpan: d.layerSpan } : {}),
    };
    if (!sameShape(c.shape, d.shape)) {
      report.shapeMismatch.push({ ...where, expected: d.shape, actual: c.shape });
      continue;
    }
    const steps = [...c.steps];
    if (c.dtype !== d.dtype) {
      if (!isFloat(c.dtype) || !isFloat(d.dtype)) {
        report.dtypeMismatch.push({ ...where, expected: d.dtype, actual: c.dtype });
        continue;
      }
      steps.push({ op: "cast", to: d.dtype });
    }
    if (c.sourceDType !== d.dtype) {
      const explicit = c.steps.some((s) => s.op === "cast");
      report.dtypeConverted.push({
        ...where,
        from: c.sourceDType,
        to: d.dtype,
        lossy: isLossy(c.sourceDType, d.dtype),
        explicit,
      });
    }
    report.applied.push({ ...where, ...flags, steps: c.steps.map(describeStep) });
    loads.push({ path: d.path, origin: c.origin, key: c.key, steps, dtype: d.dtype, shape: d.shape });
  }
  for (const c of candidates.values()) {
    report.unexpected.push({ key: c.key, source: names[c.origin], name: c.name, dtype: c.dtype, shape: c.shape });
  }
  const hints = new RenameHints([...candidates.values()], sources, names);
  for (const m of report.missing) {
    const suggestion = m.stdlibBuffer ? undefined : hints.suggest(m.path, m.shape);
    if (suggestion) Object.assign(m, { suggestion: suggestion.hint, rule: suggestion.rule });
  }
  return { stateDicts, report, loads };
}

/** The state dict at the first of several paths the checkpoint has (or found, when none is given). */
function findStateDictOf(checkpoint: Checkpoint, subdict: string | readonly string[] | undefined): StateDict {
  if (subdict === undefined || typeof subdict === "string") return findStateDict(checkpoint, subdict);
  for (const [i, path] of subdict.entries()) {
    try {
      return findStateDict(checkpoint, path);
    } catch (e) {
      if (i === subdict.length - 1) throw e;
    }
  }
  return ruleError("subdict needs at least one path");
}

/** What mapping one source needs to know about the others. */
interface SourceContext {
  origin: number;
  /** Every source's description, by origin. */
  names: readonly string[];
  declared: ReadonlyMap<string, DeclaredWeight>;
  /** Prepended to this source's names after its transforms. */
  prefix: string;
  /** Where drop rules report what they leave out. */
  dropped: DroppedTensor[];
  /** What the strip and rename rules matched, over every source they apply to. */
  rules: RuleMatches;
}

/** One state dict's tensors under their model-side names, after renaming, transforms and the prefix. */
function offeredTensors(sd: StateDict, rules: MappingRules, ctx: SourceContext): Map<string, Candidate> {
  const rename = compileRenames(rules.rename ?? [], ctx.rules);
  const strips = (rules.stripPrefix ?? []).map((r) => (typeof r === "string" ? { prefix: r } : r));
  const offered = new Map<string, Candidate>();
  const source = ctx.names[ctx.origin];
  for (const strip of strips)
    ctx.rules.offer(stripRuleText(strip), strip.span, { kind: "strip", name: strip.prefix }, source);
  for (const rule of rules.rename ?? [])
    ctx.rules.offer(
      renameRuleText(rule),
      rule.span,
      rule.regex ? undefined : { kind: "rename", name: rule.from },
      source,
    );
  for (const [key, entry] of sd.tensors) {
    const stripped = stripPrefixes(key, strips, ctx.rules);
    ctx.rules.see(key, stripped);
    const { name, span } = rename(stripped);
    const c: Candidate = {
      name,
      origin: ctx.origin,
      key,
      sourceDType: entry.dtype,
      dtype: entry.dtype,
      shape: [...entry.shape],
      steps: [],
    };
    addCandidate(offered, c, ctx.names, span);
  }
  for (const transform of rules.transforms ?? []) applyTransform(transform, offered, ctx);
  if (ctx.prefix === "") return offered;
  return new Map([...offered.values()].map((c) => [ctx.prefix + c.name, { ...c, name: ctx.prefix + c.name }]));
}

function sourceOf(plan: WeightPlan, load: PlannedLoad) {
  const sd = plan.stateDicts[load.origin];
  const entry = sd.tensors.get(load.key);
  if (!entry) throw weightError(WeightCodes.BadMappingRule, `${describeStateDict(sd)} has no tensor '${load.key}'`);
  return { id: `${load.origin}:${load.key}`, checkpoint: sd.checkpoint, entry };
}

/**
 * The planned weights as lazy tensors: each read reads its checkpoint tensor and applies its steps (a tensor that
 * several weights split is read once per weight). Reads after the checkpoints are closed open them again.
 */
export function lazyWeights(plan: WeightPlan): Map<string, LazyTensor> {
  const weights = new Map<string, LazyTensor>();
  for (const load of plan.loads) {
    const { checkpoint, entry } = sourceOf(plan, load);
    weights.set(
      load.path,
      lazyTensor(load.dtype, load.shape, () => {
        const input = checkpoint.readTensor(entry);
        return withDiagnostics(checkpoint.path, `transforming '${load.key}'`, () =>
          load.steps.reduce(applyStep, input),
        );
      }),
    );
  }
  return weights;
}

/** Reads the planned weights: each checkpoint tensor once (kept while later splits still need it). */
export function loadWeights(
  plan: WeightPlan,
  options: { onProgress?: ProgressCallback } = {},
): Map<string, HostTensor> {
  const usesLeft = new Map<string, number>();
  let total = 0;
  for (const load of plan.loads) {
    const { id, entry } = sourceOf(plan, load);
    const uses = usesLeft.get(id) ?? 0;
    if (uses === 0) total += entry.numel * byteSize(entry.dtype);
    usesLeft.set(id, uses + 1);
  }
  const cache = new Map<string, HostTensor>();
  const weights = new Map<string, HostTensor>();
  let done = 0;
  for (const load of plan.loads) {
    const { id, checkpoint, entry } = sourceOf(plan, load);
    let tensor = cache.get(id);
    if (!tensor) {
      tensor = checkpoint.readTensor(entry);
      done += tensor.data.byteLength;
      options.onProgress?.(done, total);
    }
    const left = (usesLeft.get(id) ?? 1) - 1;
    usesLeft.set(id, left);
    if (left > 0) cache.set(id, tensor);
    else cache.delete(id);
    const input = tensor;
    weights.set(
      load.path,
      withDiagnostics(checkpoint.path, `transforming '${load.key}'`, () => load.steps.reduce(applyStep, input)),
    );
  }
  return weights;
}

/** planWeights then loadWeights: the weights that fit, and the report of everything else. */
export function importWeights(
  declared: readonly DeclaredWeight[],
  sources: readonly WeightSource[],
  options: { onProgress?: ProgressCallback } = {},
): { weights: Map<string, HostTensor>; report: WeightReport } {
  const plan = planWeights(declared, sources);
  return { weights: loadWeights(plan, options), report: plan.report };
}

function applyStep(t: HostTensor, step: Step): HostTensor {
  switch (step.op) {
    case "transpose":
      return transposeTensor(t, step.perm);
    case "reshape":
      return reshapeTensor(t, step.shape);
    case "cast":
      return castTensor(t, step.to);
    case "slice":
      return sliceTensor(t, step.axis, step.start, step.size);
  }
}

function describeStep(step: Step): string {
  switch (step.op) {
    case "transpose":
      return `transpose [${step.perm.join(", ")}]`;
    case "reshape":
      return `reshape [${step.shape.join(", ")}]`;
    case "cast":
      return `cast ${step.to}`;
    case "slice":
      return `split axis ${step.axis} [${step.start}:${step.start + step.size}]`;
  }
}

function stripPrefixes(key: string, strips: readonly StripRule[], matches: RuleMatches): string {
  let name = key;
  for (const strip of strips) {
    if (strip.prefix !== "" && name.startsWith(strip.prefix)) {
      name = name.slice(strip.prefix.length);
      matches.matched(stripRuleText(strip), strip.span);
    }
  }
  return name;
}

const stripRuleText = (r: StripRule) => `strip '${r.prefix}'`;
const renameRuleText = (r: RenameRule) => `${r.regex ? "rename_regex" : "rename"} '${r.from}' -> '${r.to}'`;

/**
 * Which strip and rename rules matched a key, over every source they apply to (the model's own rules apply to each
 * file given without a name), and the names they could have matched, for "did you mean".
 */
/** What a literal rule names: a key prefix to strip (`module.`), or a name or dotted prefix to rename. */
interface LiteralTarget {
  kind: "strip" | "rename";
  name: string;
}

class RuleMatches {
  private readonly rules = new Map<
    string,
    { rule: string; span?: Span; count: number; literal?: LiteralTarget; sources: string[] }
  >();
  private readonly keys = new Set<string>();
  private readonly stripped = new Set<string>();

  private id = (rule: string, span?: Span) => (span ? `${span.file}:${span.start}` : rule);

  /** A rule applies to a source; `literal` says what a literal rule matches (regex rules get no "did you mean"). */
  offer(rule: string, span: Span | undefined, literal: LiteralTarget | undefined, source: string): void {
    const id = this.id(rule, span);
    const known = this.rules.get(id);
    if (known) known.sources.push(source);
    else this.rules.set(id, { rule, span, count: 0, literal, sources: [source] });
  }

  matched(rule: string, span: Span | undefined): void {
    const r = this.rules.get(this.id(rule, span));
    if (r) r.count++;
  }

  /** A checkpoint key, and its name once stripped (what renames see). */
  see(key: string, stripped: string): void {
    this.keys.add(key);
    this.stripped.add(stripped);
  }

  unmatched(): UnmatchedRule[] {
    return [...this.rules.values()]
      .filter((r) => r.count === 0)
      .map((r) => {
        const closest =
          r.literal &&
          closestName(
            r.literal.name,
            r.literal.kind === "strip" ? dottedPrefixes(this.keys, true) : dottedPrefixes(this.stripped, false),
          );
        return {
          rule: r.rule,
          ...(r.span ? { span: r.span } : {}),
          sources: r.sources,
          ...(closest ? { closest } : {}),
        };
      });
  }
}

/** Every name and every dotted prefix of one (`a.b.c` gives `a`, `a.b`, `a.b.c`; with `dot`, `a.` and `a.b.`). */
function dottedPrefixes(names: Iterable<string>, dot: boolean): Set<string> {
  const out = new Set<string>();
  for (const name of names) {
    for (let i = name.indexOf("."); i >= 0; i = name.indexOf(".", i + 1)) out.add(name.slice(0, dot ? i + 1 : i));
    if (!dot) out.add(name);
  }
  return out;
}

function compileRenames(
  rules: readonly RenameRule[],
  matches: RuleMatches,
): (name: string) => { name: string; span?: Span } {
  const steps = rules.map((rule): ((name: string) => string) => {
    const text = renameRuleText(rule);
    if (!rule.regex) {
      return (name) => {
        if (name !== rule.from && !name.startsWith(`${rule.from}.`)) return name;
        matches.matched(text, rule.span);
        return rule.to + name.slice(rule.from.length);
      };
    }
    const re = compileRegex(rule.from, rule.span, false);
    return (name) => {
      if (!re.test(name)) return name;
      matches.matched(text, rule.span);
      return name.replace(re, rule.to);
    };
  });
  // The span of the last rule that changed the name, so that a collision can point at the rename responsible.
  return (name) =>
    steps.reduce(
      (r: { name: string; span?: Span }, step, i) => {
        const renamed = step(r.name);
        return renamed === r.name ? r : { name: renamed, span: rules[i].span };
      },
      { name },
    );
}

function compileRegex(pattern: string, span: Span | undefined, whole: boolean): RegExp {
  try {
    return new RegExp(whole ? `^(?:${pattern})$` : pattern);
  } catch (e) {
    return ruleError(`invalid regular expression /${pattern}/: ${(e as Error).message}`, span);
  }
}

/** `names` describes the state dicts by origin, for the message. */
function addCandidate(candidates: Map<string, Candidate>, c: Candidate, names: readonly string[], span?: Span): void {
  const other = candidates.get(c.name);
  if (other) {
    const where = (x: Candidate) => `'${x.key}' of ${names[x.origin]}`;
    throw weightError(
      WeightCodes.KeyCollision,
      `checkpoint tensors ${where(other)} and ${where(c)} both map to '${c.name}'`,
      { span },
    );
  }
  candidates.set(c.name, c);
}

function applyTransform(t: TensorTransform, candidates: Map<string, Candidate>, ctx: SourceContext): void {
  const re = t.regex ? compileRegex(t.key, t.span, true) : undefined;
  const matched = [...candidates.values()].filter((c) => (re ? re.test(c.name) : c.name === t.key));
  if (matched.length === 0) {
    const closest = re ? undefined : closestName(t.key, candidates.keys());
    throw weightError(
      WeightCodes.BadMappingRule,
      `the ${t.op} transform of '${t.key}' matches no tensor of ${ctx.names[ctx.origin]}`,
      {
        span: t.span,
        ...(closest ? { hint: `did you mean '${closest}'?` } : {}),
      },
    );
  }
  for (const c of matched) {
    const what = `the ${t.op} transform of '${c.name}'`;
    switch (t.op) {
      case "transpose": {
        const perm = t.perm ? [...t.perm] : c.shape.map((_, i) => c.shape.length - 1 - i);
        const valid =
          perm.length === c.shape.length &&
          perm.every((p, i) => Number.isInteger(p) && p >= 0 && p < perm.length && perm.indexOf(p) === i);
        if (!valid) ruleError(`${what}: [${perm.join(", ")}] is not a permutation of ${c.shape.length} axes`, t.span);
        c.shape = perm.map((p) => c.shape[p]);
        c.steps.push({ op: "transpose", perm });
        break;
      }
      case "reshape": {
        const target =
          t.shape ??
          ctx.declared.get(ctx.prefix + c.name)?.shape ??
          ruleError(`${what}: give a shape, or declare a weight '${ctx.prefix + c.name}'`, t.span);
        const shape =
          resolveReshape(c.shape, target) ??
          ruleError(`${what}: [${c.shape.join(", ")}] cannot be reshaped to [${target.join(", ")}]`, t.span);
        c.shape = shape;
        c.steps.push({ op: "reshape", shape });
        break;
      }
      case "cast": {
        const to =
          t.to ??
          ctx.declared.get(ctx.prefix + c.name)?.dtype ??
          ruleError(`${what}: give a dtype, or declare a weight '${ctx.prefix + c.name}'`, t.span);
        c.dtype = to;
        c.steps.push({ op: "cast", to });
        break;
      }
      case "split":
        candidates.delete(c.name);
        for (const part of splitParts(t, c, re, what)) addCandidate(candidates, part, ctx.names, t.span);
        break;
      case "drop": {
        const declared = ctx.declared.get(ctx.prefix + c.name);
        if (t.mismatched && (!declared || sameShape(declared.shape, c.shape))) break;
        candidates.delete(c.name);
        const rule = `${t.mismatched ? "drop_mismatched" : "drop"}${t.regex ? "_regex" : ""} "${t.key}"`;
        ctx.dropped.push({
          key: c.key,
          source: ctx.names[ctx.origin],
          name: c.name,
          dtype: c.dtype,
          shape: c.shape,
          rule,
          span: t.span,
        });
        break;
      }
    }
  }
}

function splitParts(t: SplitTransform, c: Candidate, re: RegExp | undefined, what: string): Candidate[] {
  const rank = c.shape.length;
  const axis = t.axis < 0 ? t.axis + rank : t.axis;
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank)
    ruleError(`${what}: axis ${t.axis} is outside the tensor's ${rank} axes`, t.span);
  const dim = c.shape[axis];
  const count = t.into.length;
  let sizes: readonly number[];
  if (t.sizes) {
    sizes = t.sizes;
    const valid =
      sizes.length === count &&
      sizes.every((s) => Number.isInteger(s) && s >= 0) &&
      sizes.reduce((a, b) => a + b, 0) === dim;
    if (!valid)
      ruleError(
        `${what}: sizes [${sizes.join(", ")}] for ${count} parts do not add up to dimension ${axis} (${dim})`,
        t.span,
      );
  } else {
    if (count === 0 || dim % count !== 0)
      ruleError(`${what}: dimension ${axis} (${dim}) does not split into ${count} equal parts`, t.span);
    sizes = t.into.map(() => dim / count);
  }
  let start = 0;
  return t.into.map((target, i) => {
    const size = sizes[i];
    const part: Candidate = {
      ...c,
      name: re ? c.name.replace(re, target) : target,
      shape: c.shape.map((d, ax) => (ax === axis ? size : d)),
      steps: [...c.steps, { op: "slice", axis, start, size }],
    };
    start += size;
    return part;
  });
}

/** The target shape with a -1 filled in, or undefined when the element counts differ. */
function resolveReshape(from: readonly number[], to: readonly number[]): number[] | undefined {
  const count = from.reduce((a, b) => a * b, 1);
  const free = to.filter((d) => d === -1).length;
  if (free > 1 || !to.every((d) => d === -1 || (Number.isInteger(d) && d >= 0))) return undefined;
  const known = to.reduce((a, d) => (d === -1 ? a : a * d), 1);
  if (free === 0) return known === count ? [...to] : undefined;
  if (known === 0 || count % known !== 0) return undefined;
  return to.map((d) => (d === -1 ? count / known : d));
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * "rename?" hints: an unexpected checkpoint tensor that differs from a missing weight by a pattern (a prefix to
 * strip, a prefix to add, one segment renamed), and the exact rule that maps it. Names are compared relative to
 * their source's prefix, since rules name tensors that way. Indexed so that each lookup is one map access.
 */
class RenameHints {
  private readonly byOrigin: {
    prefix: string;
    set?: string;
    bySuffix: Map<string, Candidate>;
    byName: Map<string, Candidate>;
    byHole: Map<string, Candidate>;
  }[];

  constructor(
    unexpected: readonly Candidate[],
    sources: readonly WeightSource[],
    private readonly names: readonly string[],
  ) {
    this.byOrigin = sources.map((s) => ({
      prefix: s.rules?.prefix ?? "",
      ...(s.set ? { set: s.set } : {}),
      bySuffix: new Map(),
      byName: new Map(),
      byHole: new Map(),
    }));
    for (const c of unexpected) {
      const o = this.byOrigin[c.origin];
      if (!c.name.startsWith(o.prefix)) continue;
      const name = c.name.slice(o.prefix.length);
      setOnce(o.byName, name, c);
      for (let i = name.indexOf("."); i >= 0; i = name.indexOf(".", i + 1)) setOnce(o.bySuffix, name.slice(i + 1), c);
      const segments = name.split(".");
      segments.forEach((_, i) => setOnce(o.byHole, holeKey(segments, i), c));
    }
  }

  /** A hint for the missing weight `path` of this shape, if an unexpected tensor of the same shape looks like it. */
  suggest(path: string, shape: readonly number[]): { hint: string; rule: SuggestedRule } | undefined {
    for (const o of this.byOrigin) {
      if (!path.startsWith(o.prefix)) continue;
      const wanted = path.slice(o.prefix.length);
      const fits = (c: Candidate | undefined) => (c && sameShape(c.shape, shape) ? c : undefined);
      const relative = (c: Candidate) => c.name.slice(o.prefix.length);
      const rule = (c: Candidate, text: string): SuggestedRule => ({
        text,
        ...(o.set ? { set: o.set } : {}),
        key: c.key,
        source: this.names[c.origin],
      });
      // A key the rules already renamed is named as both, so that a wrong rule can be recognised.
      const has = (c: Candidate) =>
        c.key === relative(c)
          ? `the checkpoint has '${c.name}'`
          : `the checkpoint's '${c.key}' (mapped to '${c.name}')`;
      const longer = fits(o.bySuffix.get(wanted));
      if (longer) {
        const r = rule(longer, `strip "${relative(longer).slice(0, relative(longer).length - wanted.length)}"`);
        return { hint: `${has(longer)}: rename? ${ruleInBlock(r)}`, rule: r };
      }
      const segments = wanted.split(".");
      for (let i = 1; i < segments.length; i++) {
        const shorter = fits(o.byName.get(segments.slice(i).join(".")));
        if (!shorter) continue;
        const first = relative(shorter).split(".")[0];
        const r = rule(shorter, `rename "${first}" -> "${segments.slice(0, i).join(".")}.${first}"`);
        return { hint: `${has(shorter)}: rename? ${ruleInBlock(r)}`, rule: r };
      }
      for (let i = 0; i < segments.length; i++) {
        const other = fits(o.byHole.get(holeKey(segments, i)));
        if (!other) continue;
        const theirs = relative(other).split(".");
        // Another index of a list of layers is another layer, and another last segment another weight, unless a typo.
        if (/^\d+$/.test(theirs[i]) && /^\d+$/.test(segments[i])) continue;
        if (i === segments.length - 1 && !closestName(segments[i], [theirs[i]])) continue;
        const r = rule(
          other,
          `rename "${theirs.slice(0, i + 1).join(".")}" -> "${segments.slice(0, i + 1).join(".")}"`,
        );
        const typo = closestName(segments[i], [theirs[i]]);
        if (typo)
          return {
            hint:
              `did you mean '${typo}'? ${has(other)}: rename the layer ` +
              `'${segments.slice(0, i + 1).join(".")}', or map the checkpoint's name with ${ruleInBlock(r)}`,
            rule: r,
          };
        return { hint: `${has(other)}: rename? ${ruleInBlock(r)}`, rule: r };
      }
    }
    return undefined;
  }
}

/** A suggested rule as the hints write it: `` `weights { rename "fc" -> "head" }` ``. */
export const ruleInBlock = (r: SuggestedRule) => `\`weights${r.set ? ` ${r.set}` : ""} { ${r.text} }\``;

const holeKey = (segments: readonly string[], i: number) =>
  `${i}|${segments.length}|${segments.map((s, j) => (j === i ? "" : s)).join(".")}`;

function setOnce<K, V>(map: Map<K, V>, key: K, value: V): void {
  if (!map.has(key)) map.set(key, value);
}
