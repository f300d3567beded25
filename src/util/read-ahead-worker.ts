// The program of a read-ahead thread, started by read-ahead.ts in a worker thread (from the sources, through
// read-ahead-worker-from-source.mjs): claims the writer's tasks in order, waits until a task's place in the shared
// ring is free, makes it there and counts it done.
import { workerData } from "node:worker_threads";
import { FailState, reportFailure, runTask, type WorkerData } from "./read-ahead-tasks.js";

/** A thread's loop: claim the next task, wait until its ring space is free, make it. */
function aheadWorker(data: WorkerData): void {
  const control = new Int32Array(data.control);
  const w = data.words;
  Atomics.add(control, w.started, 1);
  try {
    for (;;) {
      const t = Atomics.add(control, w.next, 1);
      if (t * 3 >= data.tasks.length || Atomics.load(control, w.stop)) return;
      for (;;) {
        const allowed = Atomics.load(control, w.allowed);
        if (t < allowed || Atomics.load(control, w.stop)) break;
        Atomics.wait(control, w.allowed, allowed);
      }
      if (Atomics.load(control, w.stop)) return;
      runTask(data, control, t);
    }
  } catch (e) {
    reportFailure(data, FailState.whileWorking, e);
  }
}

aheadWorker(workerData as WorkerData);
