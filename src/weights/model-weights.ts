// Glue between a compiled model and checkpoints: the model's declared weights, the `weights { ... }` rules of its
// `.net` file turned into mapping rules, several checkpoint files (each under an optional prefix) and overrides.
import { makeDiagnostic } from "../diagnostics/codes.js";
import { weightsVerb, weightsVerbSpellings } from "../dsl/signatures/weights.js";
import { closestName } from "../util/suggest.js";
import { type Diagnostic, DiagnosticError, hasErrors, type Span } from "../diagnostics/diagnostics.js";
import type { WeightRuleUse } from "../compiler/3-elaborate/elaborate.js";
import type { Val } from "../compiler/3-elaborate/values.js";
import type { Graph } from "../compiler/ir/ir.js";
import type { HostTensor } from "../util/tensor.js";
import { findStateDict, openCheckpoint, type Checkpoint } from "./checkpoint.js";
import { WeightCodes } from "../diagnostics/weight-codes.js";
import type { ProgressCallback, TensorEntry } from "./layout.js";
import { type LazyTensor, lazyTensor } from "../util/lazy-tensor.js";
import {
  type DeclaredWeight,
  lazyWeights,
  loadWeights,
  planWeights,
  type WeightPlan,
  type MappingRules,
  type StripRule,
  type TensorTransform,
  type WeightReport,
  type WeightSource,
} from "./mapping.js";
import { reportDiagnostics, type Strictness } from "./report.js";

export function declaredWeights(graph: Graph): DeclaredWeight[] {
  return graph.params.map((p) => ({
    path: p.path,
    dtype: p.dtype,
    shape: p.shape,
    span: p.span,
    unused: p.unused,
    ...(p.layerSpan ? { layerSpan: p.layerSpan } : {}),
    ...(p.stdlibBuffer ? { stdlibBuffer: true } : {}),
  }));
}

function ruleFail(message: string, span: Span): never {
  throw new DiagnosticError([
    makeDiagnostic(WeightCodes.BadMappingRule, message, span, { hint: `rules: ${weightsVerbSpellings().join(", ")}` }),
  ]);
}

function str(v: Val | undefined, span: Span, what: string): string {
  if (v?.kind !== "string") ruleFail(`${what} must be a string`, span);
  return v.v;
}

function ints(v: Val | undefined, span: Span, what: string): number[] {
  if (v?.kind !== "list" && v?.kind !== "tuple") ruleFail(`${what} must be a list of ints`, span);
  return v.items.map((x) => {
    if (x.kind !== "int" || typeof x.v !== "number") ruleFail(`${what} must be a list of ints`, span);
    return x.v;
  });
}

/**
 * Turns a model's `weights { ... }` statements into mapping rules: those without a name when `set` is undefined,
 * else those of `weights <set> { ... }`, whose tensors go under `<set>.` unless a `prefix` rule says otherwise.
 */
export function mappingFromRules(rules: readonly WeightRuleUse[], set?: string): MappingRules {
  const out: {
    subdict?: string[];
    prefix?: string;
    stripPrefix: StripRule[];
    rename: NonNullable<MappingRules["rename"]>[number][];
    transforms: TensorTransform[];
  } = {
    stripPrefix: [],
    rename: [],
    transforms: [],
  };
  for (const r of rules.filter((x) => x.set === set)) {
    // `netc check` reports unknown verbs and wrong arities with the table (src/dsl/2-analyze/rules/weights-rules.ts).
    const known = weightsVerb(r.verb);
    if (!known) ruleFail(`unknown weights rule '${r.verb}'`, r.span);
    const { name: verb, regex } = known;
    const [first, second] = r.args;
    const key = () => str(first, r.span, `the first argument of ${r.verb}`);
    switch (verb) {
      case "subdict":
        if (out.subdict !== undefined) ruleFail("subdict is given twice", r.span);
        out.subdict = r.args.map((a, i) => str(a, r.span, `path ${i + 1} of subdict`));
        break;
      case "prefix": {
        if (out.prefix !== undefined) ruleFail("prefix is given twice", r.span);
        if (r.args.length !== 1)
          ruleFail("prefix takes one string: where this file's tensors go (\"\" for the model's own weights)", r.span);
        const p = key();
        out.prefix = p === "" || p.endsWith(".") ? p : `${p}.`;
        break;
      }
      case "strip":
        if (r.args.length === 0) ruleFail("strip needs a prefix", r.span);
        r.args.forEach((a, i) =>
          out.stripPrefix.push({ prefix: str(a, r.span, `prefix ${i + 1} of strip`), span: r.span }),
        );
        break;
      case "rename":
        if (r.args.length !== 2) ruleFail(`${r.verb} takes "from" -> "to"`, r.span);
        out.rename.push({ from: key(), to: str(second, r.span, "the new name"), regex, span: r.span });
        break;
      case "transpose":
        out.transforms.push({
          op: "transpose",
          key: key(),
          regex,
          span: r.span,
          perm: second ? ints(second, r.span, "the permutation") : undefined,
        });
        break;
      case "reshape":
        out.transforms.push({
          op: "reshape",
          key: key(),
          regex,
          span: r.span,
          shape: second ? ints(second, r.span, "the shape") : undefined,
        });
        break;
      case "cast":
        if (second && second.kind !== "dtype") ruleFail("cast takes an element type such as f32", r.span);
        out.transforms.push({
          op: "cast",
          key: key(),
          regex,
          span: r.span,
          to: second?.kind === "dtype" ? second.v : undefined,
        });
        break;
      case "split": {
        if (second?.kind !== "int" || typeof second.v !== "number")
          ruleFail(`${r.verb} takes "key", axis -> "name", ...`, r.span);
        const into = r.args.slice(2).map((a, i) => str(a, r.span, `target ${i + 1} of split`));
        if (into.length < 2) ruleFail("split needs at least two target names", r.span);
        out.transforms.push({ op: "split", key: key(), regex, span: r.span, axis: second.v, into });
        break;
      }
      case "drop":
      case "drop_mismatched":
        if (r.args.length !== 1) ruleFail(`${r.verb} takes one key`, r.span);
        out.transforms.push({
          op: "drop",
          key: key(),
          regex,
          span: r.span,
          ...(verb === "drop_mismatched" ? { mismatched: true } : {}),
        });
        break;
    }
  }
  const subdict = out.subdict?.length === 1 ? out.subdict[0] : out.subdict;
  const prefix = out.prefix ?? (set === undefined ? undefined : set.endsWith(".") ? set : `${set}.`);
  return { ...out, ...(subdict === undefined ? {} : { subdict }), ...(prefix ? { prefix } : {}) };
}

/**
 * `--weights [name=]file`: a file and the name that picks the model's `weights <name> { ... }` rules; the file's
 * tensors go under `<name>.` unless those rules give another prefix.
 */
export interface WeightFileSpec {
  path: string;
  prefix?: string;
}

export function parseWeightSpec(spec: string): WeightFileSpec {
  const eq = spec.indexOf("=");
  if (eq > 0 && !spec.slice(0, eq).includes("/")) return { prefix: spec.slice(0, eq), path: spec.slice(eq + 1) };
  return { path: spec };
}

/** safetensors metadata key that `netc weights import` writes (the model the file was made for). */
export const IMPORTED_FOR_MODEL = "netc.model";

export interface LoadedModelWeights<T = HostTensor> {
  weights: Map<string, T>;
  report?: WeightReport;
  diagnostics: Diagnostic[];
}

type LoadOptions = Strictness & { overrides?: readonly string[]; onProgress?: ProgressCallback };

/**
 * Loads every file onto the model's weights: the model's own `weights { ... }` rules apply to files given without a
 * name; a file given as `name=file` takes the rules of `weights name { ... }` (or none) and fills the weights under
 * `name.` (or the set's prefix). `overrides` are applied last, replacing loaded tensors name for name.
 */
export function loadModelWeights(
  graph: Graph,
  files: readonly WeightFileSpec[],
  rules: readonly WeightRuleUse[],
  opts: LoadOptions = {},
): LoadedModelWeights {
  return mapModelWeights(graph, files, rules, opts, {
    all: (plan) => loadWeights(plan, { onProgress: opts.onProgress }),
    one: (checkpoint, entry) => checkpoint.readTensor(entry),
  });
}

/**
 * loadModelWeights with nothing read: the report and diagnostics are the same, and each weight is read from its
 * checkpoint when it is used (an ONNX writer streaming them to disk), so the weights are never all in memory.
 */
export function openModelWeights(
  graph: Graph,
  files: readonly WeightFileSpec[],
  rules: readonly WeightRuleUse[],
  opts: Omit<LoadOptions, "onProgress"> = {},
): LoadedModelWeights<LazyTensor> {
  return mapModelWeights(graph, files, rules, opts, {
    all: lazyWeights,
    one: (checkpoint, entry) => lazyTensor(entry.dtype, entry.shape, () => checkpoint.readTensor(entry)),
  });
}

/** How a loader takes the planned weights, and one override tensor: read now, or lazily. */
interface Taking<T> {
  all: (plan: WeightPlan) => Map<string, T>;
  one: (checkpoint: Checkpoint, entry: TensorEntry) => T;
}

function mapModelWeights<T extends HostTensor | LazyTensor>(
  graph: Graph,
  files: readonly WeightFileSpec[],
  rules: readonly WeightRuleUse[],
  opts: LoadOptions,
  take: Taking<T>,
): LoadedModelWeights<T> {
  const declared = declaredWeights(graph);
  const opened: Checkpoint[] = [];
  try {
    const sources = weightSources(
      files.map((f) => {
        const checkpoint = openCheckpoint(f.path);
        opened.push(checkpoint);
        return { ...f, checkpoint };
      }),
      rules,
    );
    const plan = planWeights(declared, sources);
    const weights = take.all(plan);
    const diagnostics = [...misspelledSets(files, rules), ...reportDiagnostics(plan.report, opts)];
    if (!hasErrors(diagnostics))
      for (const o of opts.overrides ?? [])
        for (const d of applyOverrides(weights, declared, o, take.one)) diagnostics.push(d);
    return { weights, report: plan.report, diagnostics };
  } catch (e) {
    if (e instanceof DiagnosticError) return { weights: new Map(), diagnostics: e.diagnostics };
    throw e;
  } finally {
    for (const c of opened) c.close();
  }
}

/**
 * Each opened file with the rules that map it: the model's own `weights { }` rules for a file given without a name,
 * those of `weights <name> { }` for `name=file`.
 */
export function weightSources(
  files: readonly (WeightFileSpec & { checkpoint: Checkpoint })[],
  rules: readonly WeightRuleUse[],
): WeightSource[] {
  return files.map(({ checkpoint, prefix }) => {
    // A file `netc weights import` wrote already holds the model's weight names: the checkpoint rules that made
    // them must not apply twice (only a `name=` prefix still does).
    const imported = checkpoint.metadata.has(IMPORTED_FOR_MODEL);
    const set = prefix?.replace(/\.$/, "");
    const mapping = imported ? (set ? { prefix: `${set}.` } : {}) : mappingFromRules(rules, set);
    return { checkpoint, rules: mapping, ...(set && !imported ? { set } : {}) };
  });
}

/** A `--weights name=file` whose name is one edit or so from a set the model has: "did you mean". */
export function misspelledSets(files: readonly WeightFileSpec[], rules: readonly WeightRuleUse[]): Diagnostic[] {
  const sets = new Map<string, Span>();
  for (const r of rules) if (r.set !== undefined && !sets.has(r.set)) sets.set(r.set, r.span);
  return files.flatMap((f) => {
    const name = f.prefix?.replace(/\.$/, "");
    if (name === undefined || sets.has(name)) return [];
    const closest = closestName(name, sets.keys());
    if (closest === undefined) return [];
    return [
      makeDiagnostic(
        WeightCodes.UnknownWeightSet,
        `--weights ${name}=${f.path}: the model has no \`weights ${name} { }\` set, so the file's tensors go ` +
          `under '${name}.' as they are`,
        undefined,
        {
          hint: `did you mean '${closest}'?`,
          related: [{ message: `the model's set '${closest}'`, span: sets.get(closest)! }],
        },
      ),
    ];
  });
}

/** Replaces weights by the tensors of a plain state dict with the same names (e.g. a stress-test variant). */
function applyOverrides<T>(
  weights: Map<string, T>,
  declared: readonly DeclaredWeight[],
  path: string,
  take: Taking<T>["one"],
): Diagnostic[] {
  const checkpoint = openCheckpoint(path);
  try {
    const sd = findStateDict(checkpoint);
    const byPath = new Map(declared.map((d) => [d.path, d]));
    const out: Diagnostic[] = [];
    for (const [key, entry] of sd.tensors) {
      const d = byPath.get(key);
      if (!d) {
        out.push(
          makeDiagnostic(WeightCodes.UnexpectedTensor, `override '${key}' in ${path} names no weight of the model`),
        );
        continue;
      }
      if (
        entry.dtype !== d.dtype ||
        entry.shape.length !== d.shape.length ||
        entry.shape.some((n, i) => n !== d.shape[i])
      ) {
        out.push(
          makeDiagnostic(
            WeightCodes.ShapeMismatch,
            `override '${key}' is ${entry.dtype}[${entry.shape.join(", ")}], the weight ` +
              `${d.dtype}[${d.shape.join(", ")}]`,
            d.span,
          ),
        );
        continue;
      }
      weights.set(key, take(checkpoint, entry));
    }
    return out;
  } finally {
    checkpoint.close();
  }
}
