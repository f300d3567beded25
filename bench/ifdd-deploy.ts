// Before/after of `--deploy` (weights stored in the layout their kernel reads) on IFDD, onnxruntime-node, 2 threads:
// session creation and inference of both graphs interleaved in this process, logits of both checked against the
// official ones (1e-4). `npx tsx bench/ifdd-deploy.ts`; writes bench/results/ifdd-deploy.json.
import fs from "node:fs";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { decodeModel } from "../src/backends/onnx/proto.js";
import { compile } from "../src/index.js";
import { interleaved, machineNote, maxAbsDiff, writeResult } from "./measure.js";
import { IFDD_FIXTURES as FIXTURES, IFDD_MODEL as MODEL, tensorOf } from "./onnx-inputs.js";

const SESSION: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
  graphOptimizationLevel: "all",
};

function onnxOf(deploy: boolean): Uint8Array {
  const r = compile(fs.readFileSync(MODEL, "utf8"), {
    file: MODEL,
    weights: [path.join(FIXTURES, "ifdd_dfew_random.pth")],
    deploy,
  });
  if (!r.onnx) throw new Error(r.diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n"));
  return r.onnx;
}

const note = machineNote();
const models = { checkpoint: onnxOf(false), deploy: onnxOf(true) };
const transposes = (bytes: Uint8Array) =>
  (decodeModel(bytes).graph?.node ?? []).filter((n) => n.opType === "Transpose").length;
const video = { video: tensorOf(path.join(FIXTURES, "input.npy")) };
const official = tensorOf(path.join(FIXTURES, "logits.npy")).data as Float32Array;
const sessions: Record<string, ort.InferenceSession> = {};
const create = async (k: keyof typeof models) => {
  await sessions[k]?.release();
  sessions[k] = await ort.InferenceSession.create(models[k], SESSION);
};
const sessionMs = await interleaved(5, { checkpoint: () => create("checkpoint"), deploy: () => create("deploy") });
const diffs: Record<string, number> = {};
for (const k of ["checkpoint", "deploy"] as const) {
  const s = sessions[k];
  diffs[k] = maxAbsDiff((await s.run(video))[s.outputNames[0]].data as Float32Array, official);
  if (!(diffs[k] <= 1e-4)) throw new Error(`bench/ifdd-deploy: ${k} logits off the official by ${diffs[k]}`);
}
const inferenceMs = await interleaved(7, {
  checkpoint: () => sessions.checkpoint.run(video),
  deploy: () => sessions.deploy.run(video),
});
const result = {
  machine: note.finish(),
  transposeOpsInModel: { checkpoint: transposes(models.checkpoint), deploy: transposes(models.deploy) },
  sessionMs,
  inferenceMs,
  sessionRatio: sessionMs.deploy.median / sessionMs.checkpoint.median,
  inferenceRatio: inferenceMs.deploy.median / inferenceMs.checkpoint.median,
  maxAbsDiffFromOfficial: diffs,
};
writeResult("ifdd-deploy", result);
console.log(JSON.stringify(result, null, 1));
