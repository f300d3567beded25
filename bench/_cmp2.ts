import * as ort from "onnxruntime-node";
import { readNpyFile } from "../src/util/npy.js";
const F = "/work/shared/fixtures/s2d";
const x = readNpyFile(`${F}/input_video.npy`); if (!x.ok) throw 0;
const feeds = { video: new ort.Tensor("float32", x.tensor.data as Float32Array, x.tensor.shape) };
const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: "all" };
const files = ["/tmp/s2dt/small.onnx", `${F}/s2d_small_torch_export.onnx`];
const ss = await Promise.all(files.map((f) => ort.InferenceSession.create(f, opts)));
const t: number[][] = files.map(() => []), c: number[][] = files.map(() => []);
for (let i = 0; i < 10; i++) for (let k = 0; k < ss.length; k++) {
  const c0 = process.cpuUsage(); const t0 = performance.now(); await ss[k].run(feeds);
  t[k].push(performance.now() - t0); const d = process.cpuUsage(c0); c[k].push((d.user + d.system) / 1000);
}
const med = (v: number[]) => [...v].sort((p, q) => p - q)[v.length >> 1];
files.forEach((f, k) => console.log(f.split("/").pop(), "wall", med(t[k]).toFixed(1), "cpu", med(c[k]).toFixed(1)));
