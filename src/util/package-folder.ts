// Folders shipped beside the compiled code (stdlib/, models/), found by walking up from this file: it sits in
// src/util/ in the repository and in dist/src/util/ in the installed package.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

/** The nearest folder `name` above this file that holds `marker`. */
export function packageFolder(name: string, marker: string): string {
  let dir = HERE;
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, name);
    if (existsSync(join(candidate, marker))) return candidate;
    dir = dirname(dir);
  }
  return join(HERE, "../..", name);
}
