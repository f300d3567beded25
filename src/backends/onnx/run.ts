// Runs an ONNX model with onnxruntime-node (an optional peer dependency, imported on first use), on the CPU or
// onnxruntime's CUDA execution provider, converting between host tensors and ORT tensors.
// Failures (a model ORT rejects, wrong inputs) are reported as NET5004 diagnostics in a DiagnosticError.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import type * as Ort from "onnxruntime-node";
import { makeDiagnostic, OnnxCodes } from "../../diagnostics/codes.js";
import { DiagnosticError } from "../../diagnostics/diagnostics.js";
import { InputFileError, MAX_BINARY_BYTES, readRegularFile } from "../../util/input-file.js";
import { loadOptional } from "../../util/optional.js";
import type { DType, HostTensor, TensorData } from "../../util/tensor.js";
import { externalDataProblems, usesExternalData } from "./external-check.js";
import { decodeModel, type ModelProto } from "./proto.js";

type OrtModule = typeof Ort;

/** Where to run: the CPU, CUDA (an error where it is missing), or CUDA when available and else the CPU. */
export type OnnxDevice = "cpu" | "cuda" | "auto";

export interface RunOnnxOptions {
  /** Intra-op threads (default: ORT's choice). */
  threads?: number;
  /** Output names to fetch (default: all). */
  outputs?: string[];
  /** Execution provider (default "cpu"). */
  device?: OnnxDevice;
  /** With device "auto": called with a one-line note when CUDA is unavailable and the CPU runs the model. */
  onFallback?: (note: string) => void;
}

const ORT_TYPE: Partial<Record<DType, Ort.Tensor.Type>> = {
  f32: "float32",
  f64: "float64",
  f16: "float16",
  i64: "int64",
  i32: "int32",
  i8: "int8",
  u8: "uint8",
  bool: "bool",
};

const HOST_TYPE = new Map<string, DType>(Object.entries(ORT_TYPE).map(([d, o]) => [o, d as DType]));

const failure = (message: string) => new DiagnosticError([makeDiagnostic(OnnxCodes.RuntimeFailed, message)]);

function toOrt(ort: OrtModule, name: string, t: HostTensor): Ort.Tensor {
  const type = ORT_TYPE[t.dtype];
  if (!type) throw failure(`the input ${name} is ${t.dtype}, which onnxruntime-node cannot take`);
  try {
    return new ort.Tensor(type, t.data as Ort.Tensor.DataType, t.shape);
  } catch (e) {
    throw failure(
      `the input ${name} (${t.dtype}[${t.shape.join(", ")}]) is not a tensor onnxruntime accepts: ` +
        `${(e as Error).message}`,
    );
  }
}

function fromOrt(name: string, t: Ort.Tensor): HostTensor {
  const dtype = HOST_TYPE.get(t.type);
  if (!dtype) throw failure(`the output ${name} is ${t.type}, which netc has no host type for`);
  // ORT may hand back views of its own buffers; copy so the result outlives the session.
  return { dtype, shape: [...t.dims], data: (t.data as TensorData).slice() };
}

/** The CUDA provider library onnxruntime-node's install script downloads (it is too large for the npm registry). */
const CUDA_PROVIDER_LIBRARY: Partial<Record<NodeJS.Platform, string>> = {
  linux: "libonnxruntime_providers_cuda.so",
  win32: "onnxruntime_providers_cuda.dll",
};

/**
 * Why onnxruntime-node here cannot use CUDA, or undefined when it should (the CUDA libraries may still fail to load).
 */
function cudaProblem(ort: OrtModule): string | undefined {
  const version = ort.env.versions?.node ?? "";
  if (!ort.listSupportedBackends().some((b) => b.name === "cuda"))
    return `onnxruntime-node ${version} for ${process.platform}/${process.arch} has no CUDA execution provider`;
  const library = CUDA_PROVIDER_LIBRARY[process.platform];
  let binDir: string | undefined;
  try {
    binDir = join(
      dirname(createRequire(import.meta.url).resolve("onnxruntime-node")),
      "..",
      "bin",
      "napi-v6",
      process.platform,
      process.arch,
    );
  } catch {
    return undefined; // not resolvable as a file (a bundled or substituted module): let onnxruntime say
  }
  if (library && !existsSync(join(binDir, library)))
    return (
      `onnxruntime-node is installed without its CUDA execution provider (${library} was not downloaded at ` +
      `install time)`
    );
  return undefined;
}

async function createSession(
  ort: OrtModule,
  model: string | Uint8Array,
  options: Ort.InferenceSession.SessionOptions,
): Promise<Ort.InferenceSession> {
  // Two calls because the path and buffer overloads do not accept the union.
  return typeof model === "string"
    ? ort.InferenceSession.create(model, options)
    : ort.InferenceSession.create(model, options);
}

/** A session on the device asked for; CUDA problems are NET5005 for "cuda" and a fallback note for "auto". */
async function openSession(
  ort: OrtModule,
  model: string | Uint8Array,
  opts: RunOnnxOptions,
): Promise<Ort.InferenceSession> {
  const base: Ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: "all",
    ...(opts.threads !== undefined ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
  };
  const device = opts.device ?? "cpu";
  if (device !== "cpu") {
    let problem = cudaProblem(ort);
    if (problem === undefined) {
      try {
        // Fatal-only logging: a CUDA library that fails to load is reported here, not as onnxruntime's log line.
        return await createSession(ort, model, { ...base, executionProviders: ["cuda", "cpu"], logSeverityLevel: 4 });
      } catch (e) {
        problem = `onnxruntime could not start its CUDA execution provider: ${(e as Error).message.split("\n")[0]}`;
      }
    }
    if (device === "cuda")
      throw new DiagnosticError([makeDiagnostic(OnnxCodes.DeviceUnavailable, `--device cuda: ${problem}`)]);
    opts.onFallback?.(`${problem}; running on the CPU`);
  }
  try {
    return await createSession(ort, model, { ...base, executionProviders: ["cpu"] });
  } catch (e) {
    throw failure(`onnxruntime could not load the model: ${(e as Error).message}`);
  }
}

/**
 * What onnxruntime may load for `model`, after netc has read it and checked every external data location
 * (NET5006): the bytes of a model without external data (so onnxruntime reads nothing by name), else its path.
 */
function checkedModel(model: string | Uint8Array): string | Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = typeof model === "string" ? readRegularFile(model, MAX_BINARY_BYTES) : model;
  } catch (e) {
    if (e instanceof InputFileError) throw e.toDiagnosticError();
    throw e;
  }
  let decoded: ModelProto;
  try {
    decoded = decodeModel(bytes);
  } catch (e) {
    throw failure(
      `cannot read ${typeof model === "string" ? model : "the bytes given"} as an ONNX model: ${(e as Error).message}`,
    );
  }
  const problems = externalDataProblems(decoded, typeof model === "string" ? dirname(resolve(model)) : undefined);
  if (problems.length) throw new DiagnosticError(problems.map((p) => makeDiagnostic(OnnxCodes.UnsafeExternalData, p)));
  return typeof model === "string" && usesExternalData(decoded) ? model : bytes;
}

/** An open onnxruntime session that runs the same model many times (netc infer); release it when done. */
export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(
    inputs: ReadonlyMap<string, HostTensor> | Readonly<Record<string, HostTensor>>,
    outputs?: readonly string[],
  ): Promise<Map<string, HostTensor>>;
  release(): Promise<void>;
}

/** Opens `model` (a file path, or the bytes of a model without external data) once, checked as runOnnx checks it. */
export async function openOnnxSession(model: string | Uint8Array, opts: RunOnnxOptions = {}): Promise<OnnxSession> {
  const loadable = checkedModel(model);
  const ort = await loadOptional<OrtModule>("onnxruntime-node", "running an ONNX model");
  const session = await openSession(ort, loadable, opts);
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    release: () => session.release(),
    run: async (inputs, outputs = opts.outputs ?? session.outputNames) => {
      const feeds: Record<string, Ort.Tensor> = {};
      // defineProperty, not assignment: an input named `__proto__` is an ordinary entry too.
      for (const [name, t] of inputs instanceof Map ? inputs : Object.entries(inputs))
        Object.defineProperty(feeds, name, {
          value: toOrt(ort, name, t),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      let results: Ort.InferenceSession.OnnxValueMapType;
      try {
        results = await session.run(feeds, [...outputs]);
      } catch (e) {
        throw failure(`onnxruntime failed to run the model: ${(e as Error).message}`);
      }
      const out = new Map<string, HostTensor>();
      for (const [name, v] of Object.entries(results)) out.set(name, fromOrt(name, v as Ort.Tensor));
      // onnxruntime-node builds its results as a plain object, where an output named like `__proto__` vanishes.
      const lost = outputs.filter((name) => !out.has(name));
      if (lost.length)
        throw failure(
          `onnxruntime returned no value for the output${lost.length > 1 ? "s" : ""} ${lost.join(", ")} (rename ` +
            `${lost.length > 1 ? "them" : "it"} in the .net model)`,
        );
      return out;
    },
  };
}

/** Runs `model` (a file path, or the bytes of a model without external data) on `inputs`. */
export async function runOnnx(
  model: string | Uint8Array,
  inputs: ReadonlyMap<string, HostTensor> | Readonly<Record<string, HostTensor>>,
  opts: RunOnnxOptions = {},
): Promise<Map<string, HostTensor>> {
  const session = await openOnnxSession(model, opts);
  try {
    return await session.run(inputs);
  } finally {
    await session.release();
  }
}
