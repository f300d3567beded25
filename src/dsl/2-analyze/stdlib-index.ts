// The standard library's blocks and fns by name, so that an unknown name declared there gets "add the import" as its
// hint and fix. Read once per process from the installed stdlib folder.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { STDLIB_PREFIX, stdlibDir } from "../../util/source-paths.js";
import { parseSource } from "../1-parse/parse.js";
import { readFromDisk } from "./load.js";

let index: Map<string, string> | undefined;

/** The import path (`std/nn.net`) of the standard-library file that declares a block or fn of this name. */
export function stdlibFileDeclaring(name: string): string | undefined {
  if (!index) {
    index = new Map();
    let files: string[] = [];
    try {
      files = readdirSync(stdlibDir()).filter((f) => f.endsWith(".net"));
    } catch {
      // No standard library installed: no suggestions.
    }
    for (const f of files.sort()) {
      const file = `${STDLIB_PREFIX}${f}`;
      const text = readFromDisk(join(stdlibDir(), f));
      if (text === undefined) continue;
      for (const item of parseSource(file, text).ast.items)
        if ((item.kind === "Block" || item.kind === "Fn") && !index.has(item.name.name))
          index.set(item.name.name, file);
    }
  }
  return index.get(name);
}
