// Start-up of the installed CLI (compiled JavaScript, as `npm pack` ships it): `netc --version` and `netc check` of
// a small file, as wall-clock times of fresh processes, each against `node -e 0` measured in the same run. The
// ratio is what netc adds to Node's own start-up; commands import only their own modules (src/cli/main.ts).
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNS = 9;

export interface StartupCase {
  command: string;
  medianMs: number;
  /** Median over the median of `node -e 0`. */
  ratio: number;
}

export interface StartupResult {
  node: string;
  nodeMedianMs: number;
  cases: StartupCase[];
}

function medianMs(args: readonly string[]): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: "ignore" });
    times.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited with ${r.status}`);
  }
  return times.sort((a, b) => a - b)[RUNS >> 1];
}

export function benchStartup(): StartupResult {
  execFileSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "inherit" });
  const bin = "dist/src/cli/bin.js";
  const commands: [string, string[]][] = [
    ["netc --version", [bin, "--version"]],
    ["netc check examples/tiny.net", [bin, "check", "examples/tiny.net"]],
  ];
  medianMs(["-e", "0"]); // warm the file cache
  const nodeMedianMs = medianMs(["-e", "0"]);
  const cases = commands.map(([command, args]) => {
    const ms = medianMs(args);
    return { command, medianMs: ms, ratio: ms / nodeMedianMs };
  });
  const result = { node: process.version, nodeMedianMs, cases };
  writeFileSync(new URL("startup.json", import.meta.url), JSON.stringify(result, null, 2) + "\n");
  return result;
}

export function formatStartup(r: StartupResult): string {
  return r.cases.map((c) => `start-up: ${c.command} ${c.medianMs.toFixed(0)} ms (median of ${RUNS}), ${c.ratio.toFixed(2)}x node -e 0 (${r.nodeMedianMs.toFixed(0)} ms)`).join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(formatStartup(benchStartup()));
