// The inputs of one run, checked against the manifest's slots before either back end sees them, so that WebGPU
// (model.ts) and the ONNX fallback (fallback.ts) accept the same requests and refuse the others with the same
// error: unknown and missing inputs, a batch outside 1 to the bundle's maximum (NET7060), a tensor of the wrong
// dtype or shape, an array of the wrong length.
import { numel, type HostTensor, type TensorData } from "../util/tensor.js";
import { WgslRuntimeError } from "./errors.js";
import type { BundleManifest, TensorSlot } from "./manifest.js";
import { BUNDLE_ERROR } from "./validate.js";

/** An input as a typed array in the slot's element type (f32: Float32Array, i64: BigInt64Array, ...) or a tensor. */
export type ModelInput = TensorData | HostTensor;

/** Elements per batch item of a slot whose first axis grows with the batch. */
export const perItem = (slot: TensorSlot, max: number) => numel(slot.shape) / max;

/** The slot at `batch`: its first axis scaled for a slot that grows with the batch. */
export function slotAt(slot: TensorSlot, max: number, batch: number): TensorSlot {
  if (!slot.batched) return slot;
  return { ...slot, shape: [(slot.shape[0] / max) * batch, ...slot.shape.slice(1)] };
}

const tensorOf = (given: ModelInput) => ("data" in given && "dtype" in given ? given : undefined);

/**
 * The batch the inputs have, for a bundle with a run-time batch (read off the first input that grows with it,
 * by shape for tensors, by element count for arrays; 0 without a run-time batch); the other inputs are checked
 * against it by checkInputs.
 */
export function batchOf(m: BundleManifest, inputs: Readonly<Record<string, ModelInput>>): number {
  if (!m.batch) return 0;
  const { max, symbol } = m.batch;
  for (const slot of m.inputs) {
    const given = Object.hasOwn(inputs, slot.name) ? inputs[slot.name] : undefined;
    if (!slot.batched || given === undefined) continue;
    const tensor = tensorOf(given);
    const rows = slot.shape[0] / max;
    const batch = tensor
      ? tensor.shape.length > 0
        ? tensor.shape[0] / rows
        : Number.NaN
      : (given as TensorData).length / perItem(slot, max);
    if (Number.isSafeInteger(batch) && batch >= 1 && batch <= max) return batch;
    const has = tensor ? `shape [${tensor.shape}]` : `${(given as TensorData).length} elements`;
    throw new WgslRuntimeError(
      `the input ${slot.name} has ${has}, which is no batch from 1 to ${max}: the bundle runs ${symbol} = 1 to ` +
        `${max} (${perItem(slot, max)} elements per item; compile with a larger --max-batch for more)`,
      BUNDLE_ERROR.BatchOutOfRange,
    );
  }
  return m.batch.max;
}

/** One checked input: its slot at the run's batch and its values. */
export interface CheckedInput {
  slot: TensorSlot;
  data: TensorData;
}

/** Every input of the manifest, checked; the run's batch (0 without a run-time batch). */
export function checkInputs(
  m: BundleManifest,
  inputs: Readonly<Record<string, ModelInput>>,
): { batch: number; inputs: CheckedInput[] } {
  for (const name of Object.keys(inputs))
    if (!m.inputs.some((s) => s.name === name)) throw new WgslRuntimeError(`the model has no input ${name}`);
  const batch = batchOf(m, inputs);
  const checked = m.inputs.map((declared) => {
    const slot = m.batch ? slotAt(declared, m.batch.max, batch) : declared;
    const given = Object.hasOwn(inputs, slot.name) ? inputs[slot.name] : undefined;
    return { slot, data: checkInput(slot, given) };
  });
  return { batch, inputs: checked };
}

function checkInput(slot: TensorSlot, given: ModelInput | undefined): TensorData {
  if (given === undefined) throw new WgslRuntimeError(`no value for the input ${slot.name}`);
  const tensor = tensorOf(given);
  if (tensor && (tensor.dtype !== slot.dtype || tensor.shape.join() !== slot.shape.join()))
    throw new WgslRuntimeError(
      `the input ${slot.name} is ${tensor.dtype}[${tensor.shape}], the model expects ${slot.dtype}[${slot.shape}]`,
    );
  const data = tensor ? tensor.data : (given as TensorData);
  if (data.length !== numel(slot.shape))
    throw new WgslRuntimeError(
      `the input ${slot.name} has ${data.length} elements, the model expects ${numel(slot.shape)} ([${slot.shape}])`,
    );
  return data;
}
