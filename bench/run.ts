// `npm run bench`: every benchmark, each reported against a peer measured in the same process.
import fs from "node:fs";
import { benchIfdd } from "./ifdd.js";
import { benchWeights } from "./weights.js";

function rawReadMbPerSec(file: string): number {
  const t = performance.now();
  const fd = fs.openSync(file, "r");
  const buf = Buffer.allocUnsafe(1 << 24);
  let total = 0;
  for (let n; (n = fs.readSync(fd, buf, 0, buf.length, total)) > 0; ) total += n;
  fs.closeSync(fd);
  return total / 1e6 / ((performance.now() - t) / 1000);
}

const weights = await benchWeights();
const raw = rawReadMbPerSec(new URL("../../shared/fixtures/ifdd/ifdd_dfew_random.pth", import.meta.url).pathname);
console.log(`${weights.name}: ${weights.seconds.toFixed(3)} s, ${weights.mbPerSec.toFixed(0)} MB/s (${(weights.mbPerSec / raw).toFixed(2)}x of a plain read at ${raw.toFixed(0)} MB/s)`);

const ifdd = await benchIfdd();
console.log(`ifdd: compile ${ifdd.compileMs.toFixed(0)} ms (weights included, ${ifdd.nodes} IR nodes), ORT session ${ifdd.sessionMs.toFixed(0)} ms`);
console.log(
  `ifdd: inference ${ifdd.inferenceMs.toFixed(1)} ms (median of 7, 2 threads); without netc's IR passes ` +
    `${ifdd.unoptimizedInferenceMs.toFixed(1)} ms (${ifdd.unoptimizedNodes} IR nodes): ratio ${(ifdd.unoptimizedInferenceMs / ifdd.inferenceMs).toFixed(2)}x`,
);
