// Runs an ONNX model with onnxruntime-node on the CPU, converting between host tensors and ORT tensors.
// Failures (a model ORT rejects, wrong inputs) are reported as NET5004 diagnostics in a DiagnosticError.
import * as ort from "onnxruntime-node";
import { makeDiagnostic, OnnxCodes } from "../../compiler/codes.js";
import { DiagnosticError } from "../../compiler/diagnostics.js";
import type { DType, HostTensor, TensorData } from "../../util/tensor.js";

export interface RunOnnxOptions {
  /** Intra-op threads (default: ORT's choice). */
  threads?: number;
  /** Output names to fetch (default: all). */
  outputs?: string[];
}

const ORT_TYPE: Partial<Record<DType, ort.Tensor.Type>> = {
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

function toOrt(name: string, t: HostTensor): ort.Tensor {
  const type = ORT_TYPE[t.dtype];
  if (!type) throw failure(`the input ${name} is ${t.dtype}, which onnxruntime-node cannot take`);
  try {
    return new ort.Tensor(type, t.data as ort.Tensor.DataType, t.shape);
  } catch (e) {
    throw failure(`the input ${name} (${t.dtype}[${t.shape.join(", ")}]) is not a tensor onnxruntime accepts: ${(e as Error).message}`);
  }
}

function fromOrt(name: string, t: ort.Tensor): HostTensor {
  const dtype = HOST_TYPE.get(t.type);
  if (!dtype) throw failure(`the output ${name} is ${t.type}, which netc has no host type for`);
  // ORT may hand back views of its own buffers; copy so the result outlives the session.
  return { dtype, shape: [...t.dims], data: (t.data as TensorData).slice() };
}

/** Runs `model` (a file path, or the bytes of a model without external data) on `inputs`. */
export async function runOnnx(model: string | Uint8Array, inputs: ReadonlyMap<string, HostTensor>, opts: RunOnnxOptions = {}): Promise<Map<string, HostTensor>> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    ...(opts.threads !== undefined ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
  };
  let session: ort.InferenceSession;
  try {
    // Two calls because the path and buffer overloads do not accept the union.
    session = typeof model === "string" ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  } catch (e) {
    throw failure(`onnxruntime could not load the model: ${(e as Error).message}`);
  }
  try {
    const feeds: Record<string, ort.Tensor> = {};
    // defineProperty, not assignment: an input named `__proto__` is an ordinary entry too.
    for (const [name, t] of inputs) Object.defineProperty(feeds, name, { value: toOrt(name, t), enumerable: true, writable: true, configurable: true });
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = await session.run(feeds, opts.outputs ?? session.outputNames);
    } catch (e) {
      throw failure(`onnxruntime failed to run the model: ${(e as Error).message}`);
    }
    const out = new Map<string, HostTensor>();
    for (const [name, v] of Object.entries(results)) out.set(name, fromOrt(name, v as ort.Tensor));
    // onnxruntime-node builds its results as a plain object, where an output named like `__proto__` vanishes.
    const lost = (opts.outputs ?? session.outputNames).filter((name) => !out.has(name));
    if (lost.length) throw failure(`onnxruntime returned no value for the output${lost.length > 1 ? "s" : ""} ${lost.join(", ")} (rename ${lost.length > 1 ? "them" : "it"} in the .net model)`);
    return out;
  } finally {
    await session.release();
  }
}
