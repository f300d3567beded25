// Start-up of the installed CLI (compiled JavaScript, as `npm pack` ships it): `netc --version` and `netc check` of
// a small file, as wall-clock times of fresh processes, each against `node -e 0` measured in the same run. The
// ratio is what netc adds to Node's own start-up; commands import only their own modules (src/cli/main.ts). The
// three commands run interleaved, round by round, so a change in the machine's load falls on all of them.
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { formatSpread, interleaved, type Spread } from "./measure.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNS = 9;

export interface StartupCase {
  command: string;
  ms: Spread;
  /** Median over the median of `node -e 0`. */
  ratio: number;
}

export interface StartupResult {
  nodeMs: Spread;
  cases: StartupCase[];
}

/** One fresh process; its wall-clock time in ms (output of the command checked: exit status 0). */
function timedProcess(args: readonly string[]): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: "ignore" });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited with ${r.status}`);
  return ms;
}

let built = false;

/** Builds dist/ once per bench run: the start-up and OUS benches time the installed CLI, never a stale build. */
export function buildCliOnce(): void {
  if (built) return;
  execFileSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "inherit" });
  built = true;
}

export async function benchStartup(): Promise<StartupResult> {
  buildCliOnce();
  const bin = "dist/src/cli/bin.js";
  const commands: Record<string, string[]> = {
    "node -e 0": ["-e", "0"],
    "netc --version": [bin, "--version"],
    "netc check examples/tiny.net": [bin, "check", "examples/tiny.net"],
  };
  const sides = Object.fromEntries(Object.entries(commands).map(([name, args]) => [name, () => timedProcess(args)]));
  const times = await interleaved(RUNS, sides);
  const nodeMs = times["node -e 0"];
  const cases = Object.keys(commands)
    .filter((c) => c !== "node -e 0")
    .map((command) => ({ command, ms: times[command], ratio: times[command].median / nodeMs.median }));
  return { nodeMs, cases };
}

export function formatStartup(r: StartupResult): string {
  return r.cases
    .map(
      (c) =>
        `start-up: ${c.command} ${formatSpread(c.ms, "ms", 0)}, ${c.ratio.toFixed(2)}x node -e 0 (${formatSpread(r.nodeMs, "ms", 0)}), median of ${RUNS} interleaved`,
    )
    .join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(formatStartup(await benchStartup()));
