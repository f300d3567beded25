// Run by read-ahead-start.test.ts in a process of its own (under the tsx CLI, as `npx tsx src/cli/bin.ts` runs netc):
// a pool of two threads makes seeded tensors; once the threads have made some, every tensor is compared with its own
// read. Prints the pool's report and whether all bytes matched, as JSON.
import { readAhead } from "../../../src/util/read-ahead.js";
import { drawnTensors, sameBytes, untilThreadsMade } from "./helpers.js";

const tensors = drawnTensors(12, 300_000);
const ahead = readAhead(tensors, { threads: 2, windowBytes: 1 });
try {
  await untilThreadsMade(ahead);
  const same = sameBytes(ahead, tensors);
  console.log(JSON.stringify({ ...ahead.report(), same }));
} finally {
  ahead.close();
}
