// Classifies the facial expression in a short clip with a compiled IFDD model and times it: the ONNX file on
// onnxruntime-node (the default), or a WGSL bundle on WebGPU through netc's runtime and the `webgpu` package.
//
//   npx tsx classify.ts <model.onnx | bundle-dir> <clip.npy | frames-dir> [--backend onnx|wgsl]
//                       [--threads N] [--runs N] [--json]
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { WgslModel } from "netc/runtime";
import { createNodeDevice, readBundleDir } from "netc/runtime/node";
import * as ort from "onnxruntime-node";
import { clipFromFrames, type Clip, InputError, type VideoShape, videoShape } from "./clip.js";

/** DFEW's labels 0..6: the order of IFDD's logits. */
const DFEW_CLASSES = ["happy", "sad", "neutral", "angry", "surprise", "disgust", "fear"];

const USAGE = `usage: npx tsx classify.ts <model.onnx | bundle-dir> <clip.npy | frames-dir> [--backend onnx|wgsl] [--threads N] [--runs N] [--json]`;

/** A loaded model, whichever backend runs it. */
interface Classifier {
  description: string;
  /** The video input's shape, symbolic batch included (`["B", 3, 16, 224, 224]`). */
  inputShape: readonly (number | string)[];
  /** Logits of one clip [1, 3, T, H, W]. */
  run(clip: Float32Array): Promise<Float32Array>;
  close(): Promise<void>;
}

async function openOnnx(path: string, threads: number): Promise<Classifier> {
  if (!existsSync(path) || statSync(path).isDirectory())
    throw new InputError(
      `${path} is not an ONNX file`,
      "compile one with: npx netc compile ifdd -o ifdd.onnx (for a WGSL bundle folder, add --backend wgsl)",
    );
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: threads }).catch((e: Error) => {
    throw new InputError(`onnxruntime cannot load ${path}: ${e.message}`);
  });
  const input = session.inputMetadata[0];
  const inputShape = input.isTensor ? input.shape : [];
  return {
    description: `onnxruntime-node ${ort.env.versions.node} (CPU, ${threads} threads)`,
    inputShape,
    async run(clip) {
      const dims = [1, ...inputShape.slice(1)] as number[];
      const outputs = await session.run({ [input.name]: new ort.Tensor("float32", clip, dims) });
      return outputs[session.outputNames[0]].data as Float32Array;
    },
    close: () => session.release(),
  };
}

async function openWgsl(dir: string): Promise<Classifier> {
  if (!existsSync(join(dir, "manifest.json")))
    throw new InputError(
      `${dir} is not a WGSL bundle (it has no manifest.json)`,
      "compile one with: npx netc compile ifdd --target wgsl --set B=1 -o ifdd-wgsl",
    );
  const bundle = readBundleDir(dir);
  const gpu = await createNodeDevice(bundle.manifest);
  const model = await WgslModel.create(gpu.device, bundle);
  const [input, output] = [model.inputs[0], model.outputs[0]];
  const info = gpu.adapter.info;
  return {
    description: `netc WebGPU runtime on ${info.description || info.vendor || "an unnamed adapter"} (${model.manifest.kernels.length} kernels)`,
    inputShape: input.shape,
    async run(clip) {
      return (await model.run({ [input.name]: clip }))[output.name].data as Float32Array;
    },
    async close() {
      model.destroy();
      gpu.release();
    },
  };
}

type NpyReader = typeof import("netc").readNpyFile;

/** A .npy clip must already be float32 [1, 3, T, H, W] (or without the batch axis). */
function clipFromNpy(readNpyFile: NpyReader, path: string, shape: VideoShape): Clip {
  const read = readNpyFile(path);
  if (!read.ok) throw new InputError(read.diagnostic.message, read.diagnostic.hint);
  const want = [1, 3, shape.frames, shape.height, shape.width];
  const given = read.tensor.shape.length === 4 ? [1, ...read.tensor.shape] : read.tensor.shape;
  if (read.tensor.dtype !== "f32" || given.join() !== want.join())
    throw new InputError(
      `${path} is ${read.tensor.dtype}[${read.tensor.shape.join(", ")}], the model takes f32[${want.join(", ")}]`,
      "a .npy clip is float32 RGB in [0, 1] laid out [1, 3, T, H, W]; or pass a folder of PNG/JPEG frames",
    );
  return { data: read.tensor.data as Float32Array, description: `${path} [${want.join(", ")}]` };
}

function softmax(logits: Float32Array): number[] {
  const top = Math.max(...logits);
  const exps = Array.from(logits, (v) => Math.exp(v - top));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      backend: { type: "string", default: "onnx" },
      threads: { type: "string", default: "2" },
      runs: { type: "string", default: "1" },
      json: { type: "boolean", default: false },
    },
  });
  const [threads, runs] = [Number(values.threads), Number(values.runs)];
  if (positionals.length !== 2) throw new Error("expected a model and a clip");
  if (values.backend !== "onnx" && values.backend !== "wgsl")
    throw new Error(`--backend is onnx or wgsl, not ${values.backend}`);
  if (!Number.isInteger(threads) || threads < 1 || !Number.isInteger(runs) || runs < 1)
    throw new Error("--threads and --runs take a positive integer");
  return { model: positionals[0], clip: positionals[1], backend: values.backend, threads, runs, json: values.json };
}

async function main(): Promise<number> {
  let args;
  try {
    args = parse(process.argv.slice(2));
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!existsSync(args.clip))
    throw new InputError(`${args.clip} does not exist`, "pass a .npy file or a folder of PNG/JPEG frames");
  // netc's .npy reader comes with the whole compiler: imported only for a .npy clip, and before the clock starts.
  const readNpy = statSync(args.clip).isDirectory() ? undefined : (await import("netc")).readNpyFile;
  let started = performance.now();
  const classifier = args.backend === "wgsl" ? await openWgsl(args.model) : await openOnnx(args.model, args.threads);
  const createMs = performance.now() - started;
  try {
    started = performance.now();
    const shape = videoShape(classifier.inputShape);
    const clip = readNpy ? clipFromNpy(readNpy, args.clip, shape) : clipFromFrames(args.clip, shape);
    const clipMs = performance.now() - started;
    const runMs: number[] = [];
    let logits: Float32Array = new Float32Array();
    for (let i = 0; i < args.runs; i++) {
      started = performance.now();
      logits = await classifier.run(clip.data);
      runMs.push(performance.now() - started);
    }
    const labels = logits.length === DFEW_CLASSES.length ? DFEW_CLASSES : Array.from(logits, (_, i) => `class ${i}`);
    const scores = softmax(logits)
      .map((score, i) => ({ label: labels[i], score }))
      .sort((a, b) => b.score - a.score);
    if (args.json) {
      console.log(
        JSON.stringify({
          backend: args.backend,
          runtime: classifier.description,
          clip: clip.description,
          timingsMs: { create: createMs, clip: clipMs, runs: runMs },
          scores,
        }),
      );
      return 0;
    }
    const steady =
      runMs.length > 1 ? `, then ${median(runMs.slice(1)).toFixed(1)} ms (median of ${runMs.length - 1})` : "";
    console.log(`model    ${args.model} on ${classifier.description}`);
    console.log(`clip     ${clip.description}, prepared in ${clipMs.toFixed(1)} ms`);
    console.log(`session  ${createMs.toFixed(1)} ms to create`);
    console.log(`run      ${runMs[0].toFixed(1)} ms${steady}\n`);
    const width = Math.max(...labels.map((l) => l.length));
    for (const { label, score } of scores)
      console.log(
        `  ${label.padEnd(width)}  ${(100 * score).toFixed(1).padStart(5)}%  ${"█".repeat(Math.round(40 * score))}`,
      );
    return 0;
  } finally {
    await classifier.close();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    const error = e as Error;
    console.error(`error: ${error.message}${error instanceof InputError && error.hint ? `\nhint: ${error.hint}` : ""}`);
    process.exitCode = 1;
  },
);
