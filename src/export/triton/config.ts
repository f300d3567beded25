// A Triton Inference Server model configuration (config.pbtxt, protobuf text format of model_config.proto's
// ModelConfig) for a compiled ONNX model: its tensors, batching, instances, and the model's preprocessing as
// parameters so that clients prepare clips as netc infer does.
import type { TensorSignature } from "../../dataset/runner.js";
import type { PreprocessSpec } from "../../dsl/preprocess-spec.js";
import type { DType } from "../../util/tensor.js";

/** model_config.proto DataType names. */
const TRITON_TYPES: Partial<Record<DType, string>> = {
  f32: "TYPE_FP32",
  f16: "TYPE_FP16",
  f64: "TYPE_FP64",
  i64: "TYPE_INT64",
  i32: "TYPE_INT32",
  i8: "TYPE_INT8",
  u8: "TYPE_UINT8",
  bool: "TYPE_BOOL",
};

export interface TritonModel {
  name: string;
  inputs: readonly TensorSignature[];
  outputs: readonly TensorSignature[];
  preprocess?: PreprocessSpec;
  /** Largest batch Triton may form, when every tensor's first axis is the same symbolic batch. */
  maxBatch: number;
  instance: "gpu" | "cpu";
  /** Written beside config.pbtxt with one class name per line, for Triton's classification extension. */
  labelsFile?: string;
}

/** Why the model cannot be configured (a tensor type Triton lacks), or undefined. */
export function tritonProblem(model: Pick<TritonModel, "inputs" | "outputs">): string | undefined {
  const odd = [...model.inputs, ...model.outputs].find((t) => !TRITON_TYPES[t.dtype]);
  return odd ? `the tensor ${odd.name} is ${odd.dtype}, which Triton's model configuration has no type for` : undefined;
}

/** The batch axis: the symbol every input and output starts with, if they all start with the same one. */
export function batchSymbol(model: Pick<TritonModel, "inputs" | "outputs">): string | undefined {
  const firsts = new Set([...model.inputs, ...model.outputs].map((t) => t.shape[0]));
  const [first] = firsts;
  return firsts.size === 1 && typeof first === "string" ? first : undefined;
}

/** A protobuf text-format string literal: UTF-8 bytes, C-style escapes (octal for anything not printable ASCII). */
function quote(s: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(s)) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += "\\\\";
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${byte.toString(8).padStart(3, "0")}`;
  }
  return `"${out}"`;
}

function tensorBlock(t: TensorSignature, batched: boolean, label?: string): string {
  const dims = (batched ? t.shape.slice(1) : t.shape).map((d) => (typeof d === "number" ? String(d) : "-1"));
  return [
    "  {",
    `    name: ${quote(t.name)}`,
    `    data_type: ${TRITON_TYPES[t.dtype]}`,
    `    dims: [ ${dims.join(", ")} ]`,
    ...(label ? [`    label_filename: ${quote(label)}`] : []),
    "  }",
  ].join("\n");
}

/** The preprocessing as string parameters: the whole record as JSON, and each field on its own. */
function preprocessParameters(spec: PreprocessSpec): [string, string][] {
  return [
    ["netc.preprocess", JSON.stringify(spec)],
    ...Object.entries(spec).map(([k, v]): [string, string] => [
      `preprocess.${k}`,
      typeof v === "string" ? v : JSON.stringify(v),
    ]),
  ];
}

export function tritonConfig(model: TritonModel): string {
  const batched = batchSymbol(model) !== undefined;
  const scores = model.preprocess?.output ?? model.outputs[0]?.name;
  const lines = [
    `# Triton model configuration written by netc export triton (model_config.proto, text format).`,
    `name: ${quote(model.name)}`,
    `backend: "onnxruntime"`,
    `max_batch_size: ${batched ? model.maxBatch : 0}`,
    "input [",
    model.inputs.map((t) => tensorBlock(t, batched)).join(",\n"),
    "]",
    "output [",
    model.outputs.map((t) => tensorBlock(t, batched, t.name === scores ? model.labelsFile : undefined)).join(",\n"),
    "]",
  ];
  if (batched)
    lines.push(
      "dynamic_batching {",
      `  preferred_batch_size: [ ${[...new Set([Math.max(1, model.maxBatch >> 1), model.maxBatch])].join(", ")} ]`,
      "  max_queue_delay_microseconds: 1000",
      "}",
    );
  const other = model.instance === "gpu" ? "KIND_CPU" : "KIND_GPU";
  lines.push(
    `# One instance on each GPU; for a server without a GPU write kind: ` +
      `${other === "KIND_CPU" ? "KIND_CPU" : "KIND_GPU"} (netc export triton --instance ` +
      `${model.instance === "gpu" ? "cpu" : "gpu"}).`,
    "instance_group [",
    "  {",
    "    count: 1",
    `    kind: ${model.instance === "gpu" ? "KIND_GPU" : "KIND_CPU"}`,
    "  }",
    "]",
  );
  if (model.preprocess) {
    lines.push(
      "# How a clip becomes the input (docs/evaluating.md); Triton passes these to no one: clients read them.",
      "parameters [",
    );
    lines.push(
      preprocessParameters(model.preprocess)
        .map(([k, v]) => `  {\n    key: ${quote(k)}\n    value: { string_value: ${quote(v)} }\n  }`)
        .join(",\n"),
    );
    lines.push("]");
  }
  return `${lines.join("\n")}\n`;
}
