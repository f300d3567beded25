// chevrotain, from the single-file ES module its package ships (lib/chevrotain.mjs, lodash inlined) when it is
// there: the package's own entry loads ~700 modules (lodash-es file by file), most of `netc check`'s start-up.
// The package's `exports` name only that entry, so the file is found beside it; without it, the entry is used.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

type Chevrotain = typeof import("chevrotain");

async function loadChevrotain(): Promise<Chevrotain> {
  let single: string | undefined;
  try {
    single = join(dirname(createRequire(import.meta.url).resolve("chevrotain")), "..", "chevrotain.mjs");
  } catch {
    single = undefined;
  }
  if (single && existsSync(single)) return (await import(pathToFileURL(single).href)) as Chevrotain;
  return import("chevrotain");
}

export const { createSyntaxDiagramsCode, createToken, EmbeddedActionsParser, EOF, Lexer, tokenMatcher } =
  await loadChevrotain();
