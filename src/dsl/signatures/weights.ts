// The rules of a `weights { ... }` block, as data: each verb with its arguments (written `verb a, b -> c`, all
// positional). The static checker reads the table (src/dsl/2-analyze/rules/weights-rules.ts) so that a misspelt
// verb or a wrong argument is reported by `netc check` at its line; src/weights/model-weights.ts turns the
// elaborated rules into a checkpoint mapping, one case per verb of this table.
import { type Signature, signature as sig } from "./signature.js";

interface WeightsVerb extends Signature {
  /** A `<verb>_regex` form exists, whose first argument is a regular expression matching whole names. */
  regex: boolean;
}

const verb = (regex: boolean, s: Signature, variadic?: number): WeightsVerb => ({
  ...s,
  regex,
  ...(variadic === undefined ? {} : { variadic }),
});

export const WEIGHTS_VERBS = {
  subdict: verb(
    false,
    sig("the dotted path of the state dict in the checkpoint; several: the first it has", "path: string"),
    1,
  ),
  strip: verb(false, sig("remove a prefix from the names that start with it", "prefix: string"), 1),
  rename: verb(true, sig("rename a name, or a dotted prefix of names", "from: string", "to: string")),
  prefix: verb(false, sig("where this file's tensors go (\"\" for the model's own weights)", "prefix: string")),
  transpose: verb(
    true,
    sig("transpose a tensor (reverse its axes unless a permutation is given)", "key: string", "perm?: ints"),
  ),
  reshape: verb(
    true,
    sig("reshape a tensor (to its declared weight's shape unless one is given)", "key: string", "shape?: ints"),
  ),
  cast: verb(
    true,
    sig("convert a tensor's element type (to its declared weight's unless one is given)", "key: string", "to?: dtype"),
  ),
  split: verb(
    true,
    sig("split a packed tensor along an axis into the named tensors", "key: string", "axis: int", "into: string"),
    2,
  ),
  drop: verb(true, sig("leave a checkpoint tensor out (reported as dropped)", "key: string")),
  drop_mismatched: verb(
    true,
    sig("leave a checkpoint tensor out when its shape differs from the declared weight's", "key: string"),
  ),
} satisfies Record<string, WeightsVerb>;

export type WeightsVerbName = keyof typeof WEIGHTS_VERBS;

/** A rule's verb as written (`rename_regex`) split into the table's verb and whether it is the regex form. */
export function weightsVerb(written: string): { name: WeightsVerbName; regex: boolean } | undefined {
  if (Object.hasOwn(WEIGHTS_VERBS, written)) return { name: written as WeightsVerbName, regex: false };
  const base = written.endsWith("_regex") ? written.slice(0, -"_regex".length) : undefined;
  if (base !== undefined && Object.hasOwn(WEIGHTS_VERBS, base) && WEIGHTS_VERBS[base as WeightsVerbName].regex)
    return { name: base as WeightsVerbName, regex: true };
  return undefined;
}

/** Every verb as it can be written, regex forms included. */
export function weightsVerbSpellings(): string[] {
  return Object.entries(WEIGHTS_VERBS).flatMap(([name, v]) => (v.regex ? [name, `${name}_regex`] : [name]));
}

/** `split key, axis, into, ...`: how a verb's arguments are shown in hints. */
export function weightsVerbText(written: string, v: Signature): string {
  const args = v.params.map((p) => (p.optional ? `[${p.name}]` : p.name)).join(", ");
  return `${written} ${args}${v.variadic === undefined ? "" : ", ..."}`;
}
