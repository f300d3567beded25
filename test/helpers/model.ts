// A plain, fully typed view of an encoded ONNX model, for assertions in tests.
import { decodeModel, type ValueInfoProto } from "../../src/backends/onnx/proto.js";

export interface TensorView {
  name: string;
  dims: (number | string)[];
}

export interface InitializerView {
  name: string;
  rawData?: Uint8Array;
  external: boolean;
  externalData: { key: string; value: string }[];
}

export interface NodeView {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  docString: string;
}

export interface ModelView {
  irVersion: number;
  opsets: number[];
  graphName: string;
  nodes: NodeView[];
  initializers: InitializerView[];
  inputs: TensorView[];
  outputs: TensorView[];
  valueInfo: TensorView[];
  meta: Record<string, string>;
}

function tensorView(v: ValueInfoProto): TensorView {
  const dims = v.type?.tensorType?.shape?.dim ?? [];
  return { name: v.name ?? "", dims: dims.map((d) => d.dimParam || Number(d.dimValue)) };
}

export function viewModel(bytes: Uint8Array): ModelView {
  const m = decodeModel(bytes);
  const g = m.graph ?? {};
  return {
    irVersion: Number(m.irVersion),
    opsets: (m.opsetImport ?? []).map((o) => Number(o.version)),
    graphName: g.name ?? "",
    nodes: (g.node ?? []).map((n) => ({
      name: n.name ?? "",
      opType: n.opType ?? "",
      input: n.input ?? [],
      output: n.output ?? [],
      docString: n.docString ?? "",
    })),
    initializers: (g.initializer ?? []).map((t) => ({
      name: t.name ?? "",
      // A decoded model's data is bytes (lazy bytes exist only in models being written).
      rawData: t.rawData instanceof Uint8Array && t.rawData.length > 0 ? new Uint8Array(t.rawData) : undefined,
      external: t.dataLocation === 1,
      externalData: (t.externalData ?? []).map((e) => ({ key: e.key ?? "", value: e.value ?? "" })),
    })),
    inputs: (g.input ?? []).map(tensorView),
    outputs: (g.output ?? []).map(tensorView),
    valueInfo: (g.valueInfo ?? []).map(tensorView),
    meta: Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key, p.value])),
  };
}

/** The values of an i64 initializer. */
export function i64Values(init: InitializerView | undefined): number[] | undefined {
  return init?.rawData && Array.from(new BigInt64Array(init.rawData.slice().buffer), Number);
}
