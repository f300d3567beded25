// Starts a read-ahead thread when netc runs from its TypeScript sources (tsx, vitest): registers tsx's require hook
// in this thread and loads read-ahead-worker.ts through it. Node 20 ignores ESM loader hooks that a worker's
// execArgv names (nodejs/node#47747), so `--import tsx` cannot do it; read-ahead.ts starts this file with no
// execArgv and no NODE_OPTIONS, and tsx is the one beside this file, so no loader of the parent's or of the working
// folder's can come in. A failure to load is reported where the writer's thread sees it (it cannot see this
// thread's error event while it waits), and the writer then makes the weights alone.
import { createRequire } from "node:module";
import { workerData } from "node:worker_threads";

/** FailState.loading and the message layout of read-ahead-tasks.ts. */
const LOADING = 3;

const require = createRequire(import.meta.url);
try {
  require("tsx/cjs/api").register();
  require("./read-ahead-worker.ts");
} catch (error) {
  const control = new Int32Array(workerData.control);
  if (Atomics.compareExchange(control, workerData.words.failed, 0, 1) === 0) {
    new TextEncoder().encodeInto(String(error?.stack ?? error), new Uint8Array(workerData.message));
    Atomics.store(control, workerData.words.failed, LOADING);
  }
}
