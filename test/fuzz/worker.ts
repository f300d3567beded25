// A long-lived child that runs netc command lines in-process, one at a time, for the fuzz harness: starting tsx
// per case costs seconds, a case costs milliseconds. The parent bounds each case's time (it kills a worker that
// does not answer) and memory (the worker runs under --max-old-space-size and reports its RSS).
// Protocol over the IPC channel (native code may print to stdout): request {id, cwd, args}, reply {id, code, err, rss}.
import { main } from "../../src/cli/main.js";

async function runCase(cwd: string, args: string[]): Promise<{ code: number; err: string }> {
  let err = "";
  const [out, error] = [process.stdout.write, process.stderr.write];
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
  const home = process.cwd();
  try {
    process.chdir(cwd);
    return { code: await main(args), err };
  } catch (e) {
    return { code: 70, err: `${err}worker: uncaught ${(e as Error).stack ?? String(e)}` };
  } finally {
    process.chdir(home);
    [process.stdout.write, process.stderr.write] = [out, error];
  }
}

let queue = Promise.resolve();
process.on("message", (request: { id: number; cwd: string; args: string[] }) => {
  queue = queue.then(async () => {
    const { code, err } = await runCase(request.cwd, request.args);
    process.send!({ id: request.id, code, err: err.slice(0, 20_000), rss: process.memoryUsage().rss });
  });
});
process.on("disconnect", () => void queue.then(() => process.exit(0)));
