// One IFDD rewrite on and off, paired: the full pipeline (A) against the pipeline without the named passes (B), run
// alternately in one process for N rounds (order swapped every round), each round giving B's time over A's, in wall
// and in CPU time (onnxruntime's threads do not spin, so CPU time is work done). The median of the per-round ratios is
// the rewrite's gain; ratios, not absolute times, are what survives a machine shared with other jobs. Both graphs'
// logits are checked against the official ones (../shared/fixtures/ifdd/logits.npy) within 1e-4 before timing.
//   npx tsx bench/ifdd-pair.ts [--rounds 11] "<pass name>" ["<pass name>" ...]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { compile } from "../src/index.js";
import { maxAbsDiff, spread } from "./measure.js";
import { IFDD_FIXTURES as FIXTURES, IFDD_MODEL as MODEL, QUIET_SESSION as SESSION, tensorOf } from "./onnx-inputs.js";

async function main(argv: string[]): Promise<void> {
  const at = argv.indexOf("--rounds");
  const rounds = at >= 0 ? Number(argv[at + 1]) : 11;
  const skipped = argv.filter((a, i) => a !== "--rounds" && argv[i - 1] !== "--rounds");
  if (skipped.length === 0) throw new Error("name the passes to leave out in B");
  const source = fs.readFileSync(MODEL, "utf8");
  const weights = [path.join(FIXTURES, "ifdd_dfew_random.pth")];
  const onnxOf = (skipPasses: string[]) => {
    const r = compile(source, { file: MODEL, weights, skipPasses });
    if (!r.onnx) throw new Error(r.diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n"));
    return r.onnx;
  };
  const a = await ort.InferenceSession.create(onnxOf([]), SESSION);
  const b = await ort.InferenceSession.create(onnxOf(skipped), SESSION);
  const feeds = { video: tensorOf(path.join(FIXTURES, "input.npy")) };
  const official = tensorOf(path.join(FIXTURES, "logits.npy")).data as Float32Array;
  for (const [side, s] of [
    ["A", a],
    ["B", b],
  ] as const) {
    const diff = maxAbsDiff((await s.run(feeds))[s.outputNames[0]].data as Float32Array, official);
    console.log(`${side}: logits within ${diff.toExponential(2)} of the official`);
    if (!(diff <= 1e-4)) throw new Error(`bench/ifdd-pair: ${side}'s logits are off the official`);
  }
  const timed = async (s: ort.InferenceSession) => {
    const [c0, t0] = [process.cpuUsage(), performance.now()];
    await s.run(feeds);
    const used = process.cpuUsage(c0);
    return { wall: performance.now() - t0, cpu: (used.user + used.system) / 1000 };
  };
  const load = os.loadavg()[0];
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const first = round % 2 === 0 ? a : b;
    const x = await timed(first);
    const y = await timed(first === a ? b : a);
    const [ta, tb] = first === a ? [x, y] : [y, x];
    wall.push(tb.wall / ta.wall);
    cpu.push(tb.cpu / ta.cpu);
  }
  const show = (r: number[]) => {
    const s = spread(r);
    const each = r.map((v) => v.toFixed(3)).join(" ");
    return `${s.median.toFixed(3)} (${s.min.toFixed(3)}-${s.max.toFixed(3)}); rounds ${each}`;
  };
  console.log(`B = without ${skipped.join(", ")}; B's time over A's per round, median (range):`);
  console.log(`  wall ${show(wall)}`);
  console.log(`  CPU  ${show(cpu)}`);
  console.log(`load average ${load.toFixed(2)} -> ${os.loadavg()[0].toFixed(2)}`);
  await Promise.all([a.release(), b.release()]);
}

await main(process.argv.slice(2));
