// The format of the command-line golden cases (test/diagnostics/commands), shared by their runner and the
// diagnostics reference generator.
import { fileURLToPath } from "node:url";

export const COMMANDS = fileURLToPath(new URL("commands", import.meta.url));

/** netc's arguments from a `.args` file: one per line; blank lines and `#` comment lines are skipped. */
export function commandArgs(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

/** The command as a reader would type it, quoting arguments the shell would split. */
export function commandLine(args: readonly string[]): string {
  return ["netc", ...args.map((a) => (/^[\w./=$:,+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))].join(" ");
}

/** A `.expected` file: the exit code, then stderr. */
export const expectedText = (exit: number, stderr: string) => `exit ${exit}\n${stderr}`;

export function parseExpected(text: string): { exit: number; stderr: string } {
  const newline = text.indexOf("\n");
  const match = /^exit (\d+)$/.exec(text.slice(0, newline));
  if (!match) throw new Error(`an expected file must start with 'exit <code>', got '${text.slice(0, newline)}'`);
  return { exit: Number(match[1]), stderr: text.slice(newline + 1) };
}
