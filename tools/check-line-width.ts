// Part of `npm run lint` (and so of `npm test`): no line of the TypeScript and JavaScript sources in src/, test/,
// tools/ and bench/ is wider than the formatter's 120 columns (biome.json's lineWidth). The formatter breaks code,
// but not strings, templates or comments: those are wrapped by hand, and this check keeps them wrapped. Other files
// (.net test cases and goldens, Python and shell scripts) are not the formatter's, and not checked.
// Run: npx tsx tools/check-line-width.ts [--root <folder>]
import { readdirSync, readFileSync } from "node:fs";
import { extname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const MAX_COLUMNS = 120;
const FOLDERS = ["src", "test", "tools", "bench"];
const EXTENSIONS = new Set([".ts", ".js", ".mjs", ".cjs"]);

export interface LongLine {
  /** Relative to the root, with its line number: `src/a.ts:12`. */
  where: string;
  columns: number;
}

function sources(dir: string): string[] {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : sources(path);
    return e.isFile() && EXTENSIONS.has(extname(e.name)) ? [path] : [];
  });
}

/** Every line past MAX_COLUMNS (counted in characters) in the checked folders under `root`. */
export function longLines(root: string): LongLine[] {
  const out: LongLine[] = [];
  for (const file of FOLDERS.flatMap((f) => sources(join(root, f))).sort()) {
    readFileSync(file, "utf8")
      .split("\n")
      .forEach((line, i) => {
        const columns = [...line].length;
        if (columns > MAX_COLUMNS) out.push({ where: `${relative(root, file)}:${i + 1}`, columns });
      });
  }
  return out;
}

function main(): void {
  const args = process.argv.slice(2);
  const at = args.indexOf("--root");
  const root = at >= 0 ? resolve(args[at + 1]) : resolve(fileURLToPath(import.meta.url), "../..");
  const found = longLines(root);
  for (const l of found) process.stderr.write(`${l.where}: ${l.columns} columns (at most ${MAX_COLUMNS})\n`);
  if (found.length) {
    process.stderr.write(
      `${found.length} line${found.length === 1 ? "" : "s"} past ${MAX_COLUMNS} columns: wrap them\n`,
    );
    process.exitCode = 1;
  } else process.stdout.write(`${FOLDERS.join("/, ")}/: no line past ${MAX_COLUMNS} columns\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
