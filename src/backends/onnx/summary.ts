// What `netc inspect` says about an ONNX model: opset, inputs and outputs with their dims, parameter and node counts.
import { decodeModel, type ValueInfoProto } from "./proto.js";

export interface OnnxSummary {
  opset: number;
  nodes: number;
  /** Nodes per op type. */
  histogram: Record<string, number>;
  initializers: number;
  /** Elements in all initializers. */
  parameters: number;
  /** `name [dims]` of each graph input that is not an initializer. */
  inputs: string[];
  outputs: string[];
}

const dims = (v: ValueInfoProto) =>
  `[${(v.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam || String(d.dimValue ?? "?")).join(", ")}]`;

/** Summarizes a serialized model; throws ProtobufError for bytes that are not one. */
export function summarizeOnnx(bytes: Uint8Array): OnnxSummary {
  const m = decodeModel(bytes);
  const g = m.graph ?? {};
  const histogram: Record<string, number> = {};
  for (const n of g.node ?? []) histogram[n.opType ?? ""] = (histogram[n.opType ?? ""] ?? 0) + 1;
  const initNames = new Set((g.initializer ?? []).map((t) => t.name));
  return {
    opset: Number(m.opsetImport?.find((o) => !o.domain)?.version ?? 0),
    nodes: (g.node ?? []).length,
    histogram,
    initializers: (g.initializer ?? []).length,
    parameters: (g.initializer ?? []).reduce(
      (s, t) => s + (t.dims ?? []).reduce<number>((p, d) => p * Number(d), 1),
      0,
    ),
    inputs: (g.input ?? []).filter((i) => !initNames.has(i.name)).map((i) => `${i.name} ${dims(i)}`),
    outputs: (g.output ?? []).map((o) => `${o.name} ${dims(o)}`),
  };
}
