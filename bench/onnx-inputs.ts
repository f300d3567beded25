// What the onnxruntime benches share: IFDD's model and fixtures, the session options they time with, and .npy
// inputs as onnxruntime tensors.
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { readNpyFile } from "../src/util/npy.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const IFDD_MODEL = path.resolve(HERE, "../models/ifdd.net");
export const IFDD_FIXTURES = path.resolve(HERE, "../../shared/fixtures/ifdd");
export const IFDD_WEIGHTS = path.join(IFDD_FIXTURES, "ifdd_dfew_random.pth");

/**
 * 2 threads whose idle time sleeps instead of spinning, so that the process's CPU time is the work done: on a
 * machine loaded by other jobs wall-clock times swing 10x, while the CPU time each run takes stays comparable.
 */
export const QUIET_SESSION: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
  graphOptimizationLevel: "all",
  extra: { session: { intra_op: { allow_spinning: "0" } } },
};

export function tensorOf(file: string): ort.Tensor {
  const r = readNpyFile(file);
  if (!r.ok) throw new Error(r.diagnostic.message);
  return new ort.Tensor("float32", r.tensor.data as Float32Array, r.tensor.shape);
}
