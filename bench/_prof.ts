import fs from "node:fs";
import * as ort from "onnxruntime-node";
import { readNpyFile } from "../src/util/npy.js";
const F = "/work/shared/fixtures/s2d";
const x = readNpyFile(`${F}/input_video.npy`); if (!x.ok) throw 0;
const feeds = { video: new ort.Tensor("float32", x.tensor.data as Float32Array, x.tensor.shape) };
for (const [tag, f] of [["netc", "/tmp/s2dt/small.onnx"], ["torch", `${F}/s2d_small_torch_export.onnx`]]) {
  const s = await ort.InferenceSession.create(f, { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: "all", enableProfiling: true, profileFilePrefix: `/tmp/s2dt/prof_${tag}` });
  for (let i = 0; i < 6; i++) await s.run(feeds);
  (s as unknown as { endProfiling(): void }).endProfiling(); await s.release(); const file = fs.readdirSync("/tmp/s2dt").filter((n) => n.startsWith(`prof_${tag}`)).map((n) => `/tmp/s2dt/${n}`).sort().pop()!;
  const ev = JSON.parse(fs.readFileSync(file, "utf8")) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  const by = new Map<string, number>();
  let total = 0;
  for (const e of ev) if (e.cat === "Node" && e.name.endsWith("_kernel_time")) { const op = e.args?.op_name ?? "?"; by.set(op, (by.get(op) ?? 0) + e.dur / 6 / 1000); total += e.dur / 6 / 1000; }
  console.log(tag, "total kernel ms per run", total.toFixed(1), [...by].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", "));
}
