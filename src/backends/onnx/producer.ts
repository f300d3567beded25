// netc's own version, for the model's producer_version and `netc.version` metadata: read from the package.json
// above this file (src/ in development, dist/src/ when installed).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

export function netcVersion(): string {
  if (cached !== undefined) return cached;
  cached = "unknown";
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "netc" && pkg.version) return (cached = pkg.version);
    } catch {
      // no package.json here; keep walking up
    }
    if (dirname(dir) === dir) return cached;
  }
}
