// Runs a bundle's ONNX fallback (manifest.fallback) with onnxruntime-web's wasm back end, behind WgslModel's
// interface: the same inputs (typed arrays or host tensors, checked against the manifest's slots by inputs.ts, as
// WgslModel's are, so both accept and refuse the same requests) and the same outputs (host tensors by the
// manifest's output names). onnxruntime-web is an optional peer dependency, imported
// only when a fallback runs, so pages that always have WebGPU never download it.
import type { DType, HostTensor, TensorData } from "../util/tensor.js";
import { WgslRuntimeError } from "./errors.js";
import type { BundleManifest, TensorSlot } from "./manifest.js";
import { checkInputs, type ModelInput } from "./inputs.js";
import { type ModelRunOptions, withTimeLimit } from "./model.js";
import { BUNDLE_ERROR } from "./validate.js";

/** A tensor as onnxruntime-web hands it over. */
interface OrtTensor {
  readonly dims: readonly number[];
  readonly data: unknown;
}

interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

/**
 * The part of onnxruntime-web (`import("onnxruntime-web/wasm")`) the fallback uses, written out here so that the
 * declarations netc ships do not need onnxruntime-web's types: it is an optional peer dependency.
 */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options: { executionProviders: string[] }): Promise<OrtSession> };
  Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => OrtTensor;
}

export const FALLBACK_BACKEND = "onnxruntime-web (wasm)";

const ORT_TYPE: Partial<Record<DType, string>> = {
  f32: "float32",
  f64: "float64",
  i64: "int64",
  i32: "int32",
  i8: "int8",
  u8: "uint8",
  bool: "bool",
  f16: "float16",
};

/** onnxruntime-web, imported on first use (a bundler makes it a chunk of its own; a page maps it in its import map). */
export async function importOrt(): Promise<OrtModule> {
  try {
    return (await import("onnxruntime-web/wasm")) as OrtModule;
  } catch (e) {
    throw new WgslRuntimeError(
      `the ONNX fallback needs onnxruntime-web, which could not be imported: ${(e as Error).message}`,
      BUNDLE_ERROR.FallbackRuntimeMissing,
    );
  }
}

export class OnnxFallbackModel {
  readonly backend = FALLBACK_BACKEND;
  private queue: Promise<unknown> = Promise.resolve();
  private released = false;

  private constructor(
    readonly manifest: BundleManifest,
    private readonly ort: OrtModule,
    private readonly session: OrtSession,
    /** Why WebGPU does not run this model (what loadModel found). */
    readonly reason: string,
  ) {}

  /** Creates an onnxruntime-web session (wasm execution provider) on the fallback's ONNX bytes. */
  static async create(
    manifest: BundleManifest,
    onnx: Uint8Array,
    reason: string,
    ort?: OrtModule,
  ): Promise<OnnxFallbackModel> {
    const runtime = ort ?? (await importOrt());
    let session: OrtSession;
    try {
      session = await runtime.InferenceSession.create(onnx, { executionProviders: ["wasm"] });
    } catch (e) {
      throw new WgslRuntimeError(`onnxruntime-web could not load the ONNX fallback: ${(e as Error).message}`);
    }
    return new OnnxFallbackModel(manifest, runtime, session, reason);
  }

  get inputs(): readonly TensorSlot[] {
    return this.manifest.inputs;
  }

  get outputs(): readonly TensorSlot[] {
    return this.manifest.outputs;
  }

  /** As WgslModel.batchSizes: the ONNX graph keeps the batch symbolic, bounded here by the bundle's maximum. */
  get batchSizes(): { symbol?: string; min: number; max: number } {
    return this.manifest.batch
      ? { symbol: this.manifest.batch.symbol, min: 1, max: this.manifest.batch.max }
      : { min: 0, max: 0 };
  }

  /** Runs the model; calls are queued, as WgslModel's are. */
  async run(
    inputs: Readonly<Record<string, ModelInput>>,
    options: ModelRunOptions = {},
  ): Promise<Record<string, HostTensor>> {
    const result = this.queue.then(() => this.runNow(inputs));
    this.queue = result.catch(() => {});
    return withTimeLimit(result, options.timeoutMs);
  }

  destroy(): void {
    this.released = true;
    void this.session.release();
  }

  private async runNow(inputs: Readonly<Record<string, ModelInput>>): Promise<Record<string, HostTensor>> {
    if (this.released) throw new WgslRuntimeError("the model was destroyed");
    // The ONNX graph keeps the batch symbolic: the manifest's maximum bounds it here, as it does on WebGPU.
    const feeds: Record<string, OrtTensor> = {};
    for (const { slot, data } of checkInputs(this.manifest, inputs).inputs)
      feeds[slot.name] = new this.ort.Tensor(ortType(slot.dtype) as "float32", data as Float32Array, slot.shape);
    let results: Record<string, OrtTensor>;
    try {
      results = (await this.session.run(feeds)) as Record<string, OrtTensor>;
    } catch (e) {
      throw new WgslRuntimeError(`onnxruntime-web failed to run the model: ${(e as Error).message}`);
    }
    const outputs: Record<string, HostTensor> = {};
    for (const slot of this.manifest.outputs) {
      const t = results[slot.name];
      if (!t) throw new WgslRuntimeError(`the ONNX fallback has no output ${slot.name}`, BUNDLE_ERROR.BadManifest);
      outputs[slot.name] = { dtype: slot.dtype, shape: [...t.dims], data: copyOf(slot.dtype, t.data as TensorData) };
    }
    return outputs;
  }
}

function ortType(dtype: DType): string {
  const type = ORT_TYPE[dtype];
  if (!type) throw new WgslRuntimeError(`the ONNX fallback cannot pass ${dtype} tensors to onnxruntime-web`);
  return type;
}

/** A copy in netc's typed array for `dtype` (onnxruntime-web may hand out views into its heap). */
function copyOf(dtype: DType, data: TensorData): TensorData {
  if (dtype === "bool" || dtype === "u8") return Uint8Array.from(data as Uint8Array);
  if (dtype === "f16" && !(data instanceof Uint16Array))
    throw new WgslRuntimeError("onnxruntime-web returned float16 as other than raw bits");
  return (data as Float32Array).slice();
}
