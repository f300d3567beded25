import fs from "node:fs";
import * as ort from "onnxruntime-node";
import { compile } from "../src/index.js";
import { readNpyFile } from "../src/util/npy.js";
const F = "/work/shared/fixtures/s2d";
const MODEL = "models/s2d.net";
const r = compile(fs.readFileSync(MODEL, "utf8"), { file: MODEL, overrides: { embed_dim: "64", depth: "3", num_heads: "4", num_frames: "4" }, weights: [`${F}/s2d_small_random.pth`, `landmark=${F}/mobilefacenet_random.pth.tar`] });
const x = readNpyFile(`${F}/input_video.npy`); if (!x.ok) throw 0;
const feeds = { video: new ort.Tensor("float32", x.tensor.data as Float32Array, x.tensor.shape) };
const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: "all" };
const a = await ort.InferenceSession.create(r.onnx!, opts);
const b = await ort.InferenceSession.create(`${F}/s2d_small_torch_export.onnx`, opts);
const ta: number[] = [], tb: number[] = [], ca: number[] = [], cb: number[] = [];
for (let i = 0; i < 12; i++) {
  for (const [s, t, c] of [[a, ta, ca], [b, tb, cb]] as const) {
    const c0 = process.cpuUsage(); const t0 = performance.now();
    await s.run(feeds);
    t.push(performance.now() - t0); const d = process.cpuUsage(c0); c.push((d.user + d.system) / 1000);
  }
}
const med = (v: number[]) => [...v].sort((p, q) => p - q)[v.length >> 1];
console.log("netc wall", med(ta).toFixed(1), "cpu", med(ca).toFixed(1), "| torch wall", med(tb).toFixed(1), "cpu", med(cb).toFixed(1));
