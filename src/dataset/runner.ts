// A compiled model opened once and run batch after batch: ONNX through onnxruntime sessions (several may run at
// once), or a WGSL bundle on one WebGPU device. Its signature and `preprocess` record come from the artifact.
import { type OnnxDevice, type OnnxSession, openOnnxSession } from "../backends/onnx/run.js";
import { decodeModel, type ValueInfoProto } from "../backends/onnx/proto.js";
import { makeDiagnostic, OnnxCodes } from "../diagnostics/codes.js";
import { DiagnosticError } from "../diagnostics/diagnostics.js";
import { PREPROCESS_METADATA_KEY, type PreprocessSpec, preprocessFromJson } from "../dsl/preprocess-spec.js";
import type { DType, HostTensor } from "../util/tensor.js";
import { DatasetCodes } from "../diagnostics/dataset-codes.js";

export interface TensorSignature {
  name: string;
  dtype: DType;
  /** Numbers, or names for symbolic dimensions (the batch axis B). */
  shape: (number | string)[];
}

export interface ModelRunner {
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
  readonly preprocess?: PreprocessSpec;
  /** How many runs may be in flight at once (ONNX sessions). */
  readonly parallel: number;
  run(feeds: ReadonlyMap<string, HostTensor>, outputs: readonly string[]): Promise<Map<string, HostTensor>>;
  close(): Promise<void>;
}

const ONNX_DTYPES: Record<number, DType> = {
  1: "f32",
  2: "u8",
  3: "i8",
  6: "i32",
  7: "i64",
  9: "bool",
  10: "f16",
  11: "f64",
};

function signature(v: ValueInfoProto): TensorSignature {
  const tensor = v.type?.tensorType;
  return {
    name: v.name ?? "",
    dtype: ONNX_DTYPES[Number(tensor?.elemType ?? 0)] ?? "f32",
    shape: (tensor?.shape?.dim ?? []).map((d) =>
      d.dimParam ? d.dimParam : d.dimValue !== undefined ? Number(d.dimValue) : "?",
    ),
  };
}

/** The preprocess record of an artifact, checked; `where` names it in the message. */
export function readPreprocessRecord(text: string | undefined, where: string): PreprocessSpec | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    parsed = e;
  }
  const { spec, problem } =
    parsed instanceof Error ? { spec: undefined, problem: parsed.message } : preprocessFromJson(parsed);
  if (!spec)
    throw new DiagnosticError([
      makeDiagnostic(DatasetCodes.BadPreprocessMetadata, `${where} has a malformed preprocessing record: ${problem}`),
    ]);
  return spec;
}

/** What an ONNX model declares: inputs (initializers excluded), outputs and its netc.preprocess metadata. */
export function onnxSignature(
  bytes: Uint8Array,
  where: string,
): { inputs: TensorSignature[]; outputs: TensorSignature[]; preprocess?: PreprocessSpec } {
  let model;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new DiagnosticError([
      makeDiagnostic(OnnxCodes.RuntimeFailed, `cannot read ${where} as an ONNX model: ${(e as Error).message}`),
    ]);
  }
  const graph = model.graph ?? {};
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const record = model.metadataProps?.find((p) => p.key === PREPROCESS_METADATA_KEY)?.value;
  return {
    inputs: (graph.input ?? []).filter((i) => !initializers.has(i.name)).map(signature),
    outputs: (graph.output ?? []).map(signature),
    preprocess: readPreprocessRecord(record, where),
  };
}

export interface OnnxRunnerOptions {
  device: OnnxDevice;
  threads: number;
  sessions: number;
  onFallback?: (note: string) => void;
}

/** `sessions` onnxruntime sessions of one model; each run takes a free one. */
export async function onnxRunner(
  model: string | Uint8Array,
  bytes: Uint8Array,
  where: string,
  opts: OnnxRunnerOptions,
): Promise<ModelRunner> {
  const { inputs, outputs, preprocess } = onnxSignature(bytes, where);
  const sessions: OnnxSession[] = [];
  try {
    for (let i = 0; i < opts.sessions; i++)
      sessions.push(
        await openOnnxSession(model, {
          device: opts.device,
          threads: opts.threads,
          onFallback: i === 0 ? opts.onFallback : undefined,
        }),
      );
  } catch (e) {
    await Promise.all(sessions.map((s) => s.release()));
    throw e;
  }
  const free = [...sessions];
  const waiting: ((s: OnnxSession) => void)[] = [];
  const take = () =>
    new Promise<OnnxSession>((resolve) => (free.length ? resolve(free.pop()!) : waiting.push(resolve)));
  const give = (s: OnnxSession) => (waiting.length ? waiting.shift()!(s) : free.push(s));
  return {
    inputs,
    outputs,
    preprocess,
    parallel: sessions.length,
    run: async (feeds, names) => {
      const session = await take();
      try {
        return await session.run(feeds, names);
      } finally {
        give(session);
      }
    },
    close: async () => {
      await Promise.all(sessions.map((s) => s.release()));
    },
  };
}

/** A WGSL bundle folder on a WebGPU device through Dawn (its batch size is fixed at compile time). */
export async function bundleRunner(dir: string): Promise<ModelRunner> {
  const { readBundleDir, createNodeDevice, gpuTimeLimitMs } = await import("../runtime/node.js");
  const { WgslModel } = await import("../runtime/model.js");
  const bundle = readBundleDir(dir);
  const preprocess =
    bundle.manifest.preprocess === undefined
      ? undefined
      : readPreprocessRecord(JSON.stringify(bundle.manifest.preprocess), `${dir}/manifest.json`);
  const gpu = await createNodeDevice(bundle.manifest);
  let model;
  try {
    model = await WgslModel.create(gpu.device, bundle);
  } catch (e) {
    gpu.release();
    throw e;
  }
  const slot = (s: { name: string; dtype: DType; shape: number[] }): TensorSignature => ({
    name: s.name,
    dtype: s.dtype,
    shape: [...s.shape],
  });
  return {
    inputs: bundle.manifest.inputs.map(slot),
    outputs: bundle.manifest.outputs.map(slot),
    preprocess,
    parallel: 1,
    run: async (feeds, names) => {
      const out = await model.run(Object.fromEntries(feeds), { timeoutMs: gpuTimeLimitMs() });
      return new Map(names.map((n) => [n, out[n]]));
    },
    close: async () => {
      model.destroy();
      gpu.release();
    },
  };
}
