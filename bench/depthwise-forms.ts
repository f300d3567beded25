// Forms of a depthwise 3x3x3 convolution (MViT's q/k/v pooling: tokens [N, T*H*W, C] in and out, padding 1,
// temporal stride 1) on onnxruntime-node (2 threads, no spinning), to choose what the depthwise-conv rewrite emits:
//   conv3d   one grouped 3-D Conv (what the model says);
//   conv2d   frames padded in time, three shifted copies, one depthwise 2-D Conv each, summed;
//   shiftIn  the same, channels-last copies feeding 4-D NHWC -> NCHW transposes (merged into onnxruntime's reorders);
//   shiftOut one depthwise 2-D Conv per temporal tap over the unshifted frames, the outputs shifted and summed;
//   banded   the frames in the channels, one grouped 2-D Conv with a banded filter (the conv3d source as netc's
//            "depthwise 3-D conv as a banded 2-D conv" pass rewrites it; needs T dividing 16, T >= 8).
// Every form is checked against conv3d; each prints its interleaved wall time, the process's CPU time and the
// profiler's kernel time per run.  npx tsx bench/depthwise-forms.ts N C T H STRIDE   (e.g. 4 96 8 14 2)
import * as ort from "onnxruntime-node";
import { compile } from "../src/index.js";
import { interleaved, maxAbsDiff, spread } from "./measure.js";
import { profileOnnx } from "./profile-onnx.js";

const [N, C, T, H, S] = process.argv.slice(2).map(Number); // batch * heads, channels, frames, side, stride
const HO = Math.floor((H - 1) / S) + 1;

function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

const TAPS = "depthwise 3-D conv as 2-D convs";
const BANDED = "depthwise 3-D conv as a banded 2-D conv";

/** Compiles a form; the conv rewrites are left out unless `passes` names them (the forms spell their own layout). */
function onnxOf(src: string, passes: string[] = []): Uint8Array {
  const weights = new Map([["w", { dtype: "f32" as const, shape: [C, 1, 3, 3, 3], data: rand(C * 27, 2) }]]);
  const r = compile(src, { file: "forms.net", weights, skipPasses: [TAPS, BANDED].filter((p) => !passes.includes(p)) });
  if (!r.onnx) throw new Error(r.diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n"));
  return r.onnx;
}

const conv3d = `model A()(x: f32[${N}, ${T * H * H}, ${C}]) -> (y: f32[${N}, ${T * HO * HO}, ${C}]) {
  param w: f32[${C}, 1, 3, 3, 3]
  let g = rearrange(x, "n (t h w) c -> n c t h w", t = ${T}, h = ${H})
  return rearrange(conv(g, w, stride = [1, ${S}, ${S}], padding = [1, 1, 1], groups = ${C}), "n c t h w -> n (t h w) c")
}`;
/** One temporal tap of the depthwise 3x3x3 conv as a 2-D depthwise conv of `input` (.net source). */
const tapConv = (input: string, k: number) =>
  `conv(${input}, reshape(w[:, :, ${k}], [${C}, 1, 3, 3]), stride = [${S}, ${S}], padding = [1, 1], groups = ${C})`;
const conv2d = `model B()(x: f32[${N}, ${T * H * H}, ${C}]) -> (y: f32[${N}, ${T * HO * HO}, ${C}]) {
  param w: f32[${C}, 1, 3, 3, 3]
  let g = pad(rearrange(x, "n (t h w) c -> n t c h w", t = ${T}, h = ${H}), [0, 1, 0, 0, 0, 0, 1, 0, 0, 0])
  let y0 = ${tapConv(`reshape(g[:, 0:${T}], [${N * T}, ${C}, ${H}, ${H}])`, 0)}
  let y1 = ${tapConv(`reshape(g[:, 1:${T + 1}], [${N * T}, ${C}, ${H}, ${H}])`, 1)}
  let y2 = ${tapConv(`reshape(g[:, 2:${T + 2}], [${N * T}, ${C}, ${H}, ${H}])`, 2)}
  return rearrange(reshape(y0 + y1 + y2, [${N}, ${T}, ${C}, ${HO}, ${HO}]), "n t c h w -> n (t h w) c")
}`;
const shiftIn = `model C()(x: f32[${N}, ${T * H * H}, ${C}]) -> (y: f32[${N}, ${T * HO * HO}, ${C}]) {
  param w: f32[${C}, 1, 3, 3, 3]
  let g = reshape(x, [${N}, ${T}, ${H}, ${H}, ${C}])
  let before = pad(g[:, 0:${T - 1}], [0, 1, 0, 0, 0, 0, 0, 0, 0, 0])
  let after = pad(g[:, 1:${T}], [0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
  let f0 = rearrange(reshape(before, [${N * T}, ${H}, ${H}, ${C}]), "b h w c -> b c h w")
  let f1 = rearrange(reshape(g, [${N * T}, ${H}, ${H}, ${C}]), "b h w c -> b c h w")
  let f2 = rearrange(reshape(after, [${N * T}, ${H}, ${H}, ${C}]), "b h w c -> b c h w")
  let y0 = ${tapConv("f0", 0)}
  let y1 = ${tapConv("f1", 1)}
  let y2 = ${tapConv("f2", 2)}
  return reshape(rearrange(y0 + y1 + y2, "b c h w -> b h w c"), [${N}, ${T * HO * HO}, ${C}])
}`;
const shiftOut = `model D()(x: f32[${N}, ${T * H * H}, ${C}]) -> (y: f32[${N}, ${T * HO * HO}, ${C}]) {
  param w: f32[${C}, 1, 3, 3, 3]
  let f = rearrange(reshape(x, [${N * T}, ${H}, ${H}, ${C}]), "b h w c -> b c h w")
  let y0 = reshape(${tapConv("f", 0)}, [${N}, ${T}, ${C}, ${HO}, ${HO}])
  let y1 = reshape(${tapConv("f", 1)}, [${N}, ${T}, ${C}, ${HO}, ${HO}])
  let y2 = reshape(${tapConv("f", 2)}, [${N}, ${T}, ${C}, ${HO}, ${HO}])
  let shifted = pad(y0[:, 0:${T - 1}], [0, 1, 0, 0, 0, 0, 0, 0, 0, 0])
  let z = shifted + y1 + pad(y2[:, 1:${T}], [0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
  return rearrange(z, "n t c h w -> n (t h w) c")
}`;
const feeds = { x: new ort.Tensor("float32", rand(N * T * H * H * C, 1), [N, T * H * H, C]) };
const options: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
  graphOptimizationLevel: "all",
  extra: { session: { intra_op: { allow_spinning: "0" } } },
};
const sources: Record<string, string> = { conv3d, conv2d, shiftIn, shiftOut, banded: conv3d };
const passesOf = (form: string) => (form === "banded" ? [BANDED] : []);
const sessions: Record<string, ort.InferenceSession> = {};
for (const [k, s] of Object.entries(sources))
  sessions[k] = await ort.InferenceSession.create(onnxOf(s, passesOf(k)), options);
const reference = (await sessions.conv3d.run(feeds)).y.data as Float32Array;
const cpu: Record<string, number[]> = {};
const timed = (k: string) => async () => {
  const [c0, t0] = [process.cpuUsage(), performance.now()];
  await sessions[k].run(feeds);
  const used = process.cpuUsage(c0);
  (cpu[k] ??= []).push((used.user + used.system) / 1000);
  return performance.now() - t0;
};
const wall = await interleaved(9, Object.fromEntries(Object.keys(sessions).map((k) => [k, timed(k)])));
console.log(`[${N}, ${C}, ${T}, ${H}, ${H}] stride ${S}: form | max diff | wall ms | CPU ms | kernel ms`);
for (const k of Object.keys(sessions)) {
  const diff = maxAbsDiff((await sessions[k].run(feeds)).y.data as Float32Array, reference);
  const kernel = (await profileOnnx(onnxOf(sources[k], passesOf(k)), feeds, 5)).totalKernelMs;
  const c = spread(cpu[k].slice(1)).median;
  console.log(
    `${k} | ${diff.toExponential(1)} | ${wall[k].median.toFixed(1)} | ${c.toFixed(1)} | ${kernel.toFixed(1)}`,
  );
}
