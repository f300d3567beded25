// The CLI's flags as the fuzzer draws them, read from the command line's own commander definitions (program() in
// src/cli/main.ts), so that a flag added there is fuzzed with no edit here. A value is drawn by what the option
// takes, as its definition says: one of its choices (or a wrong one), a count, a byte size, a `name=value`, an
// `--input`, or a path (never one that leaves the case's folder: output paths have their own kind of case).
import type { Command, Option } from "commander";
import { program } from "../../src/cli/main.js";
import type { Rng } from "./cases.js";

const COUNTS = ["0", "-1", "1", "2", "3", "1e9", "x", "1.5", "9".repeat(40)];
const SIZES = ["0", "1", "4MiB", "512KiB", "1k", "3 GiB", "1.5MiB", "x", "-1", "9".repeat(40)];
const SETS = ["B=1", "B=0", "B=(", "B=1e9", "__proto__=1", "constructor=1", "=1", "B", "nope=2"];
const INPUTS = ["x=x.npy", "x=missing.npy", "x=/dev/zero", "x=.", "=x.npy", "x", "y=missing.npy"];
/** Paths inside the case's folder (or nowhere): a missing file, the folder itself, a name over 255 bytes. */
const PATHS = ["missing", ".", "", "/dev/null", "sub/missing/new.out", "new.out", "y".repeat(300)];
const WORDS = ["ok", "", "x", "../escape", "a/b", ".", "con", "all", "x".repeat(300)];

/** Every command that takes flags, by its words (`compile`, `export triton`), as program() defines it. */
function leafCommands(): Map<string, Command> {
  const leaves = new Map<string, Command>();
  const walk = (command: Command, words: string[]) => {
    for (const sub of command.commands) {
      const path = [...words, sub.name()];
      if (sub.commands.length) walk(sub, path);
      else leaves.set(path.join(" "), sub);
    }
  };
  walk(program(), []);
  return leaves;
}

const COMMANDS = leafCommands();

/** The command `words` names (`"eval"`, `"export triton"`); throws for one the CLI does not define. */
export function command(words: string): Command {
  const found = COMMANDS.get(words);
  if (!found) throw new Error(`the CLI defines no command '${words}' (has: ${[...COMMANDS.keys()].join(", ")})`);
  return found;
}

export const commandNames = (): string[] => [...COMMANDS.keys()];

/** The placeholder of an option's value: `n` in `--batch <n>`, `[name=]file` in `--weights <[name=]file>`. */
const placeholder = (o: Option) => /[<[](.*)[>\]]\s*$/.exec(o.flags)?.[1] ?? "";

/** A value for `o`, drawn by what its definition says it takes; `paths` adds the case's own files to the paths. */
export function valueFor(o: Option, rnd: Rng, paths: readonly string[] = []): string {
  if (o.argChoices)
    return rnd.chance(0.8) ? rnd.pick(o.argChoices) : rnd.pick(["", "tpu", o.argChoices[0].toUpperCase()]);
  const what = placeholder(o);
  if (what === "n" || typeof o.defaultValue === "number") return rnd.pick(COUNTS);
  if (what === "n|all") return rnd.pick([...COUNTS, "all"]);
  if (what === "size") return rnd.pick(SIZES);
  if (what === "name=value") return rnd.pick(SETS);
  if (what.startsWith("name=file")) return rnd.pick(INPUTS);
  if (/file|dir|path|manifest|repository|jsonl/.test(what)) return rnd.pick([...PATHS, ...paths]);
  return rnd.pick(WORDS);
}

/** One flag of `o` as arguments: the flag alone, or with a value (an optional value is given half the time). */
export function flagArgs(o: Option, rnd: Rng, paths: readonly string[] = []): string[] {
  const flag = o.long ?? o.short!;
  if (o.required || (o.optional && rnd.chance(0.5))) return [flag, valueFor(o, rnd, paths)];
  return [flag];
}

/**
 * Up to `most` random flags of the command `words` (at least one, where it has any), from its definition, none of
 * those in `except` (flags the case sets itself, such as its output).
 */
export function randomFlags(
  rnd: Rng,
  words: string,
  opts: { except?: readonly string[]; paths?: readonly string[]; most?: number } = {},
): string[] {
  const options = command(words).options.filter((o) => !opts.except?.includes(o.long ?? ""));
  if (!options.length) return [];
  const count = 1 + rnd.int(opts.most ?? 1);
  return Array.from({ length: count }, () => flagArgs(rnd.pick(options), rnd, opts.paths)).flat();
}
