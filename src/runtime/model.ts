// Runs a compiled WGSL bundle on a GPUDevice: creates the buffers, compiles every distinct pipeline up front
// (createComputePipelineAsync, in parallel) while the weight shards stream in (each written into the buffers at its
// tensors' offsets and dropped), then runs the whole model as one command buffer per call. Validation errors,
// out-of-memory and device loss reject the call instead of hanging it.
/// <reference types="@webgpu/types" preserve="true" />
import { numel, type DType, type HostTensor, type TensorData } from "../util/tensor.js";
import type {
  BatchDispatch,
  BatchTerm,
  BundleManifest,
  KernelEntry,
  SourceLocation,
  TensorSlot,
  WgslBundle,
} from "./manifest.js";
import { WgslRuntimeError } from "./errors.js";
import { checkInputs, type ModelInput, slotAt } from "./inputs.js";
import { fromStorage, STORAGE_BYTES, toStorage } from "./storage.js";
import { BUNDLE_ERROR, shaderNames, validateManifest } from "./validate.js";

/** A bundle in memory: its manifest, the WGSL sources by path, and the bytes of its safetensors file. */
export type { WgslBundle };

/** An input as a typed array or a tensor (inputs.ts). */
export type { ModelInput };

export { WgslRuntimeError };

export interface ModelRunOptions {
  /**
   * Rejects the run with a WgslRuntimeError of code NET7013 when it has not finished this many milliseconds after
   * the call (waiting for earlier runs of the same model included): a shader that loops or a stalled device must
   * not hang the app. The GPU work itself cannot be cancelled; destroy the model and its device after a timeout.
   */
  timeoutMs?: number;
}

/** Refuses a timeoutMs that is not a whole number of milliseconds setTimeout can wait. */
function checkTimeout(ms: number | undefined): void {
  if (ms !== undefined && !(Number.isSafeInteger(ms) && ms > 0 && ms <= 2 ** 31 - 1))
    throw new WgslRuntimeError(`timeoutMs is ${ms}; expected a whole number of milliseconds from 1 to ${2 ** 31 - 1}`);
}

/**
 * `work`, or a NET7013 error once `ms` have passed (without a limit when `ms` is undefined): a shader that loops
 * without end or a stalled device must not hang the caller.
 */
export async function withTimeLimit<T>(work: Promise<T>, ms: number | undefined): Promise<T> {
  if (ms === undefined) return work;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new WgslRuntimeError(`the GPU run did not finish within ${ms} ms`, BUNDLE_ERROR.Timeout)),
      ms,
    );
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

const align4 = (n: number) => Math.ceil(n / 4) * 4;

function where(k: KernelEntry): string {
  return k.source
    ? ` (${k.source.file}:${k.source.line}:${k.source.col}${k.scope ? `, ${k.scope}` : ""})`
    : k.scope
      ? ` (${k.scope})`
      : "";
}

/** Refuses a device that lacks a feature or limit the bundle was planned for. */
function checkDevice(device: GPUDevice, m: BundleManifest): void {
  for (const f of m.requiredFeatures)
    if (!device.features.has(f))
      throw new WgslRuntimeError(`the bundle needs the device feature ${f}, which this device lacks`);
  for (const [name, needed] of Object.entries(m.requiredLimits)) {
    const has = (device.limits as unknown as Record<string, number>)[name];
    if (has !== undefined && has < needed)
      throw new WgslRuntimeError(
        `the bundle needs ${name} >= ${needed}; the device has ${has} (request it when creating the device)`,
      );
  }
}

/** Runs `work` inside validation and out-of-memory error scopes; its own error wins, else the scopes' error. */
async function scoped<T>(device: GPUDevice, what: string, work: () => T | Promise<T>): Promise<T> {
  device.pushErrorScope("out-of-memory");
  device.pushErrorScope("validation");
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await work() };
  } catch (error) {
    outcome = { error };
  }
  const [validation, memory] = [await device.popErrorScope(), await device.popErrorScope()];
  if ("error" in outcome) throw outcome.error;
  const error = validation ?? memory;
  if (error) throw new WgslRuntimeError(`${what}: ${error.message}`);
  return outcome.value;
}

async function compileKernel(device: GPUDevice, k: KernelEntry, code: string | undefined): Promise<GPUComputePipeline> {
  if (code === undefined) throw new WgslRuntimeError(`the bundle has no shader ${k.shader}`);
  const module = device.createShaderModule({ code, label: k.name });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((msg) => msg.type === "error");
  if (errors.length > 0)
    throw new WgslRuntimeError(
      `kernel ${k.name}${where(k)} does not compile: ` +
        `${errors.map((e) => `${e.lineNum}:${e.linePos} ${e.message}`).join("; ")}`,
    );
  const storage: GPUBindGroupLayoutEntry[] = k.bindings.map((b) => ({
    binding: b.binding,
    visibility: GPUShaderStage.COMPUTE,
    buffer: { type: b.access === "read" ? "read-only-storage" : "storage" },
  }));
  const batch: GPUBindGroupLayoutEntry[] =
    k.batchBinding === undefined
      ? []
      : [{ binding: k.batchBinding, visibility: GPUShaderStage.COMPUTE, buffer: { type: "uniform" } }];
  const layout = device.createBindGroupLayout({ label: k.name, entries: [...storage, ...batch] });
  try {
    return await device.createComputePipelineAsync({
      label: k.name,
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: k.entryPoint },
    });
  } catch (e) {
    throw new WgslRuntimeError(`kernel ${k.name}${where(k)}: ${(e as Error).message}`);
  }
}

interface Step {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  kernel: KernelEntry;
}

const termsAt = (terms: readonly BatchTerm[], batch: number) =>
  terms.reduce((p, t) => p * Math.ceil((t.perBatch * batch + t.fixed) / t.divisor), 1);

/** The workgroup counts of a kernel at `batch`, from the manifest's formula (see BatchDispatch). */
export function workgroupsAt(d: BatchDispatch, batch: number): [number, number, number] {
  if (d.wrap === undefined) return [termsAt(d.x, batch), termsAt(d.y, batch), termsAt(d.z, batch)];
  const count = termsAt(d.x, batch);
  return [Math.min(count, d.wrap), Math.ceil(count / d.wrap), 1];
}

function dispatch(pass: GPUComputePassEncoder, s: Step, batch: number): void {
  pass.setPipeline(s.pipeline);
  pass.setBindGroup(0, s.bindGroup);
  pass.dispatchWorkgroups(...(s.kernel.dispatch ? workgroupsAt(s.kernel.dispatch, batch) : s.kernel.workgroups));
}

/** One kernel's GPU time in a profiled run, with where it came from. */
export interface KernelTiming {
  kernel: string;
  /** The IR ops fused into it, anchor first. */
  ops: string[];
  scope: string;
  source?: SourceLocation;
  ms: number;
}

/** WebGPU allows at most 4096 queries in one set: two timestamps a kernel. */
const KERNELS_PER_QUERY_SET = 2048;

/** Timestamp queries around each kernel of one run, and the buffers that read them back. */
class KernelTimer {
  private readonly sets: GPUQuerySet[] = [];
  private readonly resolved: GPUBuffer;
  private readonly readback: GPUBuffer;

  constructor(
    device: GPUDevice,
    private readonly kernels: number,
  ) {
    for (let first = 0; first < kernels; first += KERNELS_PER_QUERY_SET)
      this.sets.push(
        device.createQuerySet({ type: "timestamp", count: 2 * Math.min(KERNELS_PER_QUERY_SET, kernels - first) }),
      );
    const size = 16 * Math.max(1, kernels);
    this.resolved = device.createBuffer({
      label: "kernel timestamps",
      size,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.readback = device.createBuffer({
      label: "read kernel timestamps",
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  /** The pass of kernel `i`, with a timestamp at its beginning and end. */
  writes(i: number): GPUComputePassTimestampWrites {
    const local = i % KERNELS_PER_QUERY_SET;
    return {
      querySet: this.sets[Math.floor(i / KERNELS_PER_QUERY_SET)],
      beginningOfPassWriteIndex: 2 * local,
      endOfPassWriteIndex: 2 * local + 1,
    };
  }

  resolve(encoder: GPUCommandEncoder): void {
    this.sets.forEach((set, n) =>
      encoder.resolveQuerySet(set, 0, set.count, this.resolved, 16 * n * KERNELS_PER_QUERY_SET),
    );
    encoder.copyBufferToBuffer(this.resolved, 0, this.readback, 0, this.resolved.size);
  }

  /** Milliseconds per kernel; frees the queries. */
  async read(): Promise<number[]> {
    await this.readback.mapAsync(GPUMapMode.READ);
    const stamps = new BigUint64Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    for (const x of [...this.sets, this.resolved, this.readback]) x.destroy();
    return Array.from({ length: this.kernels }, (_, i) => Number(stamps[2 * i + 1] - stamps[2 * i]) / 1e6);
  }
}

/**
 * The parts of a slot's chunks its elements fill (`start`: the first element's index in the tensor): all of them
 * at the largest batch, the leading elements below it.
 */
function chunksOf(slot: TensorSlot): { buffer: number; start: number; elements: number }[] {
  let left = numel(slot.shape);
  let start = 0;
  return slot.chunks.map((c) => {
    const elements = Math.min(c.elements, left);
    const part = { buffer: c.buffer, start, elements };
    left -= elements;
    start += elements;
    return part;
  });
}

/**
 * Writes each shard's pieces of the weight tensors into the buffers that hold them, as the shards arrive; a shard is
 * dropped once written (writeBuffer copies it), so at most the shard in hand is held here.
 */
async function uploadShards(
  device: GPUDevice,
  m: BundleManifest,
  buffers: readonly GPUBuffer[],
  shards: WgslBundle["shards"],
  onShard?: (bytes: number) => void,
): Promise<void> {
  const targets = new Map<string, GPUBuffer[]>();
  m.buffers.forEach((b, id) => {
    if (b.weight !== undefined) targets.set(b.weight, [...(targets.get(b.weight) ?? []), buffers[id]]);
  });
  const tensors = m.weights.tensors;
  let next = 0; // the first tensor not wholly written yet (tensors lie in order)
  let start = 0;
  let index = 0;
  for await (const shard of shards) {
    const entry = m.weights.shards[index];
    if (!entry)
      throw new WgslRuntimeError(
        `the bundle has more weight shards than the ${index} its manifest lists`,
        BUNDLE_ERROR.ShardMismatch,
      );
    if (shard.byteLength !== entry.bytes)
      throw new WgslRuntimeError(
        `the bundle file ${entry.file} has ${shard.byteLength} bytes; the manifest says ${entry.bytes}`,
        BUNDLE_ERROR.ShardMismatch,
      );
    const end = start + shard.byteLength;
    for (let i = next; i < tensors.length && tensors[i].offset < end; i++) {
      const t = tensors[i];
      const lo = Math.max(t.offset, start);
      const hi = Math.min(t.offset + t.bytes, end);
      if (hi > lo)
        for (const buffer of targets.get(t.name) ?? [])
          device.queue.writeBuffer(buffer, lo - t.offset, shard, lo - start, hi - lo);
      if (t.offset + t.bytes <= end) next = i + 1;
    }
    start = end;
    index++;
    onShard?.(shard.byteLength);
  }
  if (index !== m.weights.shards.length)
    throw new WgslRuntimeError(
      `the bundle gave ${index} weight shards; its manifest lists ${m.weights.shards.length}`,
      BUNDLE_ERROR.ShardMismatch,
    );
}

export interface ModelCreateOptions {
  /** Hears of each distinct pipeline compiled (a software adapter takes seconds for a large model). */
  onProgress?: (compiled: number, total: number) => void;
  /** Hears of each weight shard written into the GPU buffers (its bytes). */
  onShard?: (bytes: number) => void;
}

export class WgslModel {
  /** Which back end runs the model (loadModel's other is the ONNX fallback's). */
  readonly backend = "webgpu";
  private readonly lost: Promise<never>;
  private queue: Promise<unknown> = Promise.resolve();
  private destroyed = false;

  private constructor(
    readonly device: GPUDevice,
    readonly manifest: BundleManifest,
    private readonly buffers: GPUBuffer[],
    private readonly steps: Step[],
    private readonly staging: GPUBuffer[],
    /** The run-time batch the kernels read, for a bundle with one. */
    private readonly batchUniform: GPUBuffer | undefined,
  ) {
    this.lost = device.lost.then((info) => {
      throw new WgslRuntimeError(`the GPU device was lost: ${info.message || info.reason}`);
    });
    this.lost.catch(() => {}); // observed by each run; not an unhandled rejection in between
  }

  get inputs(): readonly TensorSlot[] {
    return this.manifest.inputs;
  }

  get outputs(): readonly TensorSlot[] {
    return this.manifest.outputs;
  }

  /** The batch sizes this model runs: 1 to the maximum for a bundle with a run-time batch, else its one batch. */
  get batchSizes(): { symbol?: string; min: number; max: number } {
    return this.manifest.batch
      ? { symbol: this.manifest.batch.symbol, min: 1, max: this.manifest.batch.max }
      : { min: 0, max: 0 };
  }

  /**
   * Creates the buffers, then uploads the weight shards as they arrive while the kernels compile; resolves once the
   * model can run.
   */
  static async create(device: GPUDevice, bundle: WgslBundle, options: ModelCreateOptions = {}): Promise<WgslModel> {
    const m = validateManifest(bundle.manifest);
    checkDevice(device, m);
    for (const file of shaderNames(m))
      if (typeof bundle.shaders.get(file) !== "string")
        throw new WgslRuntimeError(`the bundle has no shader ${file}`, BUNDLE_ERROR.FileRefused);
    const buffers = await scoped(device, "creating the model's buffers", () =>
      m.buffers.map((b, id) =>
        device.createBuffer({
          label: b.weight ?? `buffer${id}`,
          size: b.size,
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
        }),
      ),
    );
    // One pipeline per distinct shader and binding layout: repeated layers reuse it with their own bind groups.
    const pipelineOf = new Map<string, Promise<GPUComputePipeline>>();
    let compiled = 0;
    const counted = (p: GPUComputePipeline) => {
      options.onProgress?.(++compiled, pipelineOf.size);
      return p;
    };
    const pipelineFor = (k: KernelEntry): Promise<GPUComputePipeline> => {
      const code = bundle.shaders.get(k.shader);
      const layout = k.bindings.map((b) => `${b.binding}:${b.access}`).join(",");
      const key = `${k.entryPoint}\n${layout}\n${k.batchBinding}\n${code}`;
      let pipeline = pipelineOf.get(key);
      if (!pipeline) pipelineOf.set(key, (pipeline = compileKernel(device, k, code).then(counted)));
      return pipeline;
    };
    const batchUniform = m.kernels.some((k) => k.batchBinding !== undefined)
      ? device.createBuffer({ label: "batch", size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST })
      : undefined;
    const build = async (): Promise<Step[]> => {
      const pipelines = await Promise.all(m.kernels.map(pipelineFor));
      return m.kernels.map((k, i) => ({
        pipeline: pipelines[i],
        kernel: k,
        bindGroup: device.createBindGroup({
          label: k.name,
          layout: pipelines[i].getBindGroupLayout(0),
          entries: [
            ...k.bindings.map((b) => ({ binding: b.binding, resource: { buffer: buffers[b.buffer] } })),
            ...(k.batchBinding === undefined ? [] : [{ binding: k.batchBinding, resource: { buffer: batchUniform! } }]),
          ],
        }),
      }));
    };
    // One error scope around the upload and the compiles, which overlap (scopes are a stack, not per promise).
    let steps: Step[];
    try {
      [, steps] = await scoped(device, "uploading the weights and compiling the kernels", () =>
        Promise.all([uploadShards(device, m, buffers, bundle.shards, options.onShard), build()]),
      );
    } catch (e) {
      for (const b of buffers) b.destroy();
      batchUniform?.destroy();
      throw e;
    }
    // Staging for the largest readback (at the largest batch).
    const readBytes = (o: TensorSlot) =>
      o.chunks.reduce((s, c) => s + align4(c.elements * STORAGE_BYTES[o.storage]), 0);
    const staging = m.outputs.map((o) =>
      device.createBuffer({
        label: `read ${o.name}`,
        size: Math.max(4, readBytes(o)),
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      }),
    );
    return new WgslModel(device, m, buffers, steps, staging, batchUniform);
  }

  /** Runs the model; calls are queued, so a model can be shared. Outputs are fresh host tensors. */
  async run(
    inputs: Readonly<Record<string, ModelInput>>,
    options: ModelRunOptions = {},
  ): Promise<Record<string, HostTensor>> {
    checkTimeout(options.timeoutMs);
    return withTimeLimit(
      this.enqueue(async () => (await this.runNow(inputs)).outputs),
      options.timeoutMs,
    );
  }

  /**
   * Runs the model once with a GPU timestamp around every kernel (each in a pass of its own), to see where the time
   * goes. Needs a device with the timestamp-query feature (requestDeviceFor asks for it when told to).
   */
  async profile(
    inputs: Readonly<Record<string, ModelInput>>,
    options: ModelRunOptions = {},
  ): Promise<{ outputs: Record<string, HostTensor>; kernels: KernelTiming[] }> {
    if (!this.device.features.has("timestamp-query"))
      throw new WgslRuntimeError(
        "profiling needs the device feature timestamp-query (request it when creating the device)",
      );
    checkTimeout(options.timeoutMs);
    const profiled = this.enqueue(async () => {
      const kernelList = this.manifest.kernels;
      const { outputs, timer } = await this.runNow(inputs, new KernelTimer(this.device, kernelList.length));
      const ms = await timer!.read();
      const kernels = kernelList.map((k, i) => ({
        kernel: k.name,
        ops: k.ops,
        scope: k.scope,
        ...(k.source ? { source: k.source } : {}),
        ms: ms[i],
      }));
      return { outputs, kernels };
    });
    return withTimeLimit(profiled, options.timeoutMs);
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => {});
    return result;
  }

  /** Frees the model's buffers (the device stays the caller's). */
  destroy(): void {
    this.destroyed = true;
    for (const b of [...this.buffers, ...this.staging]) b.destroy();
    this.batchUniform?.destroy();
  }

  /** Writes a checked input (checkInputs) into its chunks. */
  private upload(slot: TensorSlot, data: TensorData): void {
    let values;
    try {
      values = toStorage(slot.dtype, data, slot.storage, `the input ${slot.name}`);
    } catch (e) {
      throw new WgslRuntimeError((e as Error).message);
    }
    // At a batch below the largest, the values fill the leading elements of the chunks.
    chunksOf(slot).forEach((c, k) => {
      const part = values.subarray(c.start, c.start + c.elements);
      if (part.length === 0) return;
      const bytes = new Uint8Array(align4(part.byteLength));
      bytes.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
      this.device.queue.writeBuffer(this.buffers[slot.chunks[k].buffer], 0, bytes);
    });
  }

  private async runNow(
    inputs: Readonly<Record<string, ModelInput>>,
    timer?: KernelTimer,
  ): Promise<{ outputs: Record<string, HostTensor>; timer?: KernelTimer }> {
    if (this.destroyed) throw new WgslRuntimeError("the model was destroyed");
    const m = this.manifest;
    const { batch, inputs: checked } = checkInputs(m, inputs);
    const at = (slot: TensorSlot) => (m.batch ? slotAt(slot, m.batch.max, batch) : slot);
    const device = this.device;
    const steps = this.steps;
    await Promise.race([
      scoped(device, "running the model", () => {
        for (const { slot, data } of checked) if (slot.chunks.length > 0) this.upload(slot, data);
        if (this.batchUniform) device.queue.writeBuffer(this.batchUniform, 0, new Uint32Array([batch, 0, 0, 0]));
        const encoder = device.createCommandEncoder({ label: m.model });
        if (timer) {
          steps.forEach((s, i) => {
            const pass = encoder.beginComputePass({ timestampWrites: timer.writes(i) });
            dispatch(pass, s, batch);
            pass.end();
          });
          timer.resolve(encoder);
        } else {
          const pass = encoder.beginComputePass();
          for (const s of steps) dispatch(pass, s, batch);
          pass.end();
        }
        m.outputs.forEach((o, i) => {
          let offset = 0;
          for (const c of chunksOf(at(o))) {
            const bytes = align4(c.elements * STORAGE_BYTES[o.storage]);
            if (bytes > 0) encoder.copyBufferToBuffer(this.buffers[c.buffer], 0, this.staging[i], offset, bytes);
            offset += bytes;
          }
        });
        device.queue.submit([encoder.finish()]);
      }),
      this.lost,
    ]);
    await Promise.race([Promise.all(this.staging.map((b) => b.mapAsync(GPUMapMode.READ))), this.lost]);
    const out: Record<string, HostTensor> = {};
    m.outputs.forEach((slot, i) => {
      const o = at(slot);
      const count = numel(o.shape);
      const value = {
        dtype: o.dtype as DType,
        shape: [...o.shape],
        data: fromStorage(o.dtype, o.storage, this.staging[i].getMappedRange().slice(0), count),
      };
      // defineProperty, not assignment: an output named `__proto__` is an ordinary entry too.
      Object.defineProperty(out, o.name, { value, enumerable: true, writable: true, configurable: true });
      this.staging[i].unmap();
    });
    return { outputs: out, timer };
  }
}
