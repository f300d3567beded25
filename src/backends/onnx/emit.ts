// Assembles an ONNX model from an IR graph: names, initializers, lowered nodes, value_info, metadata.
import { CheckCodes, IrCodes, makeDiagnostic, OnnxCodes } from "../../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError, hasErrors } from "../../diagnostics/diagnostics.js";
import type { Graph, GraphOutput, Node, ParamInfo, Value } from "../../compiler/ir/ir.js";
import { liveNodes } from "../../compiler/ir/liveness.js";
import { KernelError } from "../../compiler/ir/interp/numeric.js";
import { bytesOf } from "../../util/tensor.js";
import type { LazyTensor, WeightMap } from "../../util/lazy-tensor.js";
import { LoweringError, NodeEmitter, OnnxGraph } from "./context.js";
import {
  DEFAULT_EXTERNAL_THRESHOLD,
  type ExternalData,
  inlineBytes,
  MAX_INLINE_BYTES,
  materialize,
  moveToExternal,
} from "./external.js";
import { lowerNode } from "./lower.js";
import { transpose as transposeTensor } from "../../compiler/ir/interp/layout.js";
import { checkOpset, DEFAULT_OPSET, irVersionFor } from "./opset.js";
import {
  encodeModel,
  type GraphProto,
  lazyTensorProto,
  type ModelProto,
  onnxDataType,
  type TensorProto,
  valueInfo,
} from "./proto.js";
import { bindParamsLazily, paramsReadBy } from "../../compiler/ir/bind-params.js";
import { PREPROCESS_METADATA_KEY } from "../../dsl/preprocess-spec.js";
import { VERSION } from "../../util/version.js";

export interface EmitOnnxOptions {
  /** ONNX opset, 17 (default) to 23; newer opsets get simpler graphs (Gelu from 20, Attention from 23). */
  opset?: number;
  /**
   * Checkpoint tensors by parameter path, in memory or lazy (read when the model is written); parameters missing here
   * use their default or a seeded random draw.
   */
  weights?: WeightMap;
  /** Seed for the random draw of parameters without a value (default 0). */
  seed?: number;
  /** Also emit the graph's taps as model outputs. */
  debugOutputs?: boolean;
  /** The ONNX graph name (default: the model's name). */
  modelName?: string;
  docString?: string;
  /** The .net file recorded as `netc.source` (default: the file of the model's span). */
  source?: string;
  /** Keep large initializers in this side file, given relative to the model file (see external.ts). */
  externalDataPath?: string;
  /** Initializers of at least this many bytes go to the side file (default 1024). */
  externalThreshold?: number;
  /**
   * Weights as shapes without values, for looking at the graph (`netc inspect`) without materialising every
   * parameter: the model cannot run.
   */
  structureOnly?: boolean;
  /**
   * Store a weight that is read only through one transpose (every Linear weight) already transposed, so the
   * deployed graph has no Transpose on weights; its checkpoint name is kept in the `netc.weight_layouts` metadata.
   */
  kernelLayoutWeights?: boolean;
  /**
   * Lower to onnxruntime's contrib ops (domain com.microsoft, version 1) where they are faster: attention becomes
   * MultiHeadAttention, which never holds the score matrix in memory. The model then runs in onnxruntime only.
   */
  onnxruntimeOps?: boolean;
}

/** The version of onnxruntime's contrib op domain that the backend writes. */
const CUSTOM_DOMAIN_VERSION = 1;

/** A model ready to encode: its initializers' data is lazy (read or drawn when encoded). */
export interface BuiltOnnx {
  /** Absent when there are errors. */
  model?: ModelProto;
  diagnostics: Diagnostic[];
}

export interface EmitOnnxResult {
  /** The serialized model; absent when there are errors. */
  bytes?: Uint8Array;
  /** The side file's contents when `externalDataPath` was given. */
  external?: ExternalData;
  diagnostics: Diagnostic[];
}

const isSource = (n: Node) => n.op === "input" || n.op === "param" || n.op === "const";

/** Model inputs, outputs and weights share the tensor namespace; a clash is the user's to fix. */
function reserveInterfaceNames(
  g: OnnxGraph,
  graph: Graph,
  outputs: readonly GraphOutput[],
  params: readonly ParamInfo[],
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const claim = (name: string, what: string, span: GraphOutput["span"]) => {
    if (!g.tensorNames.reserve(name))
      out.push(
        makeDiagnostic(
          CheckCodes.DuplicateDefinition,
          `the ${what} name ${name} is already used by another model input, output or weight`,
          span,
        ),
      );
  };
  for (const i of graph.inputs) claim(i.name, "input", i.span);
  for (const p of params) claim(p.path, "weight", p.span);
  for (const o of outputs) claim(o.name, "output", o.span);
  return out;
}

/** Output names double as the names of the values they return, where a computed value is returned first. */
function claimOutputNames(outputs: readonly GraphOutput[]): Map<Value, string> {
  const claimed = new Map<Value, string>();
  for (const o of outputs) if (!isSource(o.value.producer) && !claimed.has(o.value)) claimed.set(o.value, o.name);
  return claimed;
}

/**
 * Weights whose every live reader is a transpose by one permutation (and which are not themselves returned):
 * path -> that permutation. Storing them transposed removes the runtime Transpose.
 */
function singlyTransposedWeights(
  graph: Graph,
  live: Set<Node>,
  outputs: readonly GraphOutput[],
): Map<string, number[]> {
  const perms = new Map<string, number[] | null>();
  const pathOf = (v: Value) => (v.producer.op === "param" ? v.producer.attrs.path : undefined);
  const note = (path: string, perm: number[] | null) => {
    const seen = perms.get(path);
    const same =
      seen !== undefined &&
      seen !== null &&
      perm !== null &&
      seen.length === perm.length &&
      seen.every((p, i) => p === perm[i]);
    perms.set(path, seen === undefined || same ? perm : null);
  };
  for (const node of graph.nodes) {
    if (!live.has(node)) continue;
    for (const v of node.inputs) {
      const path = pathOf(v);
      if (path !== undefined) note(path, node.op === "transpose" ? [...node.attrs.perm] : null);
    }
  }
  for (const o of outputs) {
    const path = pathOf(o.value);
    if (path !== undefined) note(path, null);
  }
  const out = new Map<string, number[]>();
  for (const [path, perm] of perms) if (perm) out.set(path, perm);
  return out;
}

/** A weight stored transposed: the initializer's name and the checkpoint tensor it holds. */
export interface WeightLayout {
  name: string;
  checkpoint: string;
  perm: number[];
}

interface Lowered {
  initializers: TensorProto[];
  valueNames: Map<Value, string>;
  layouts: WeightLayout[];
  diagnostics: Diagnostic[];
}

/** `<scope>/<stem>`, or just the stem at the top level. */
const scoped = (node: Node, stem: string) => (node.scope ? `${node.scope}/${stem}` : stem);

/** Names every live value and lowers every live computing node, in graph order (which is topological). */
function lowerGraph(
  g: OnnxGraph,
  graph: Graph,
  live: Set<Node>,
  outputs: readonly GraphOutput[],
  initializer: (path: string, name: string, perm?: readonly number[]) => TensorProto | undefined,
  transposed: ReadonlyMap<string, number[]>,
): Lowered {
  const out: Lowered = { initializers: [], valueNames: new Map(), layouts: [], diagnostics: [] };
  const claimed = claimOutputNames(outputs);
  const emittedParams = new Set<string>();
  const transposedNames = new Map<string, string>();
  for (const node of graph.nodes) {
    if (!live.has(node)) continue;
    const v0 = node.outputs[0];
    const weightPath =
      node.op === "transpose" && node.inputs[0].producer.op === "param"
        ? node.inputs[0].producer.attrs.path
        : undefined;
    if (node.op === "param" && transposed.has(node.attrs.path)) continue; // read only through its stored transpose
    if (weightPath !== undefined && transposed.has(weightPath)) {
      let name = transposedNames.get(weightPath);
      if (name === undefined) {
        const perm = transposed.get(weightPath)!;
        name = g.tensorNames.unique(`${weightPath}.T`);
        const proto = initializer(weightPath, name, perm);
        if (proto) out.initializers.push(proto);
        out.layouts.push({ name, checkpoint: weightPath, perm });
        transposedNames.set(weightPath, name);
      }
      out.valueNames.set(v0, name);
    } else if (node.op === "input") out.valueNames.set(v0, node.attrs.name);
    else if (node.op === "const")
      out.valueNames.set(v0, g.consts.name(node.attrs.value, scoped(node, `const_${node.id}`)));
    else if (node.op === "param") {
      const path = node.attrs.path;
      const proto = emittedParams.has(path) ? undefined : initializer(path, path);
      if (!emittedParams.has(path) && !proto)
        out.diagnostics.push(
          makeDiagnostic(
            IrCodes.VerifierFailed,
            `the parameter ${path} is read but not declared in graph.params`,
            node.span,
          ),
        );
      else if (proto) out.initializers.push(proto);
      emittedParams.add(path);
      out.valueNames.set(v0, path);
    } else {
      const stem = scoped(node, `${node.op}_${node.id}`);
      const names = node.outputs.map((v, i) => claimed.get(v) ?? g.tensorNames.unique(i === 0 ? stem : `${stem}:${i}`));
      node.outputs.forEach((v, i) => {
        g.types.set(names[i], v);
        out.valueNames.set(v, names[i]);
      });
      try {
        lowerNode(
          new NodeEmitter(
            g,
            node,
            node.inputs.map((v) => out.valueNames.get(v)!),
            names,
          ),
        );
      } catch (e) {
        if (!(e instanceof LoweringError || e instanceof KernelError)) throw e;
        out.diagnostics.push(
          makeDiagnostic(OnnxCodes.Unsupported, `cannot lower ${node.op} to ONNX: ${e.message}`, node.span),
        );
      }
    }
  }
  return out;
}

function metadata(
  graph: Graph,
  opts: EmitOnnxOptions,
  provenance: string,
  layouts: readonly WeightLayout[],
): { key: string; value: string }[] {
  const props = [
    { key: "netc.version", value: VERSION },
    { key: "netc.source", value: opts.source ?? graph.span?.file ?? "" },
    { key: "netc.weights", value: provenance },
    { key: "netc.symbols", value: graph.symbols.join(",") },
    ...(graph.preprocess ? [{ key: PREPROCESS_METADATA_KEY, value: JSON.stringify(graph.preprocess) }] : []),
  ];
  if (layouts.length > 0) props.push({ key: "netc.weight_layouts", value: JSON.stringify(layouts) });
  return props;
}

/**
 * Builds the ModelProto of `graph` without reading any weight: each initializer's bytes are made when it is encoded,
 * so a writer can stream them (see write.ts). External data is the caller's choice (moveToExternal).
 */
export function buildOnnxModel(graph: Graph, opts: Omit<EmitOnnxOptions, "externalDataPath"> = {}): BuiltOnnx {
  const opset = opts.opset ?? DEFAULT_OPSET;
  const bad = checkOpset(opset);
  if (bad) return { diagnostics: [bad] };
  const outputs = [...graph.outputs, ...(opts.debugOutputs ? graph.taps : [])];
  const live = liveNodes(outputs);
  const params = paramsReadBy(graph, live);

  const g = new OnnxGraph(opset, graph.inputs, opts.onnxruntimeOps);
  const diagnostics = reserveInterfaceNames(g, graph, outputs, params);
  const weights = opts.structureOnly
    ? { tensors: new Map<string, LazyTensor>(), provenance: "none (structure only)", diagnostics: [] }
    : bindParamsLazily(params, opts.weights, opts.seed ?? 0);
  diagnostics.push(...weights.diagnostics);
  if (hasErrors(diagnostics)) return { diagnostics };

  const declared = new Map(params.map((p) => [p.path, p]));
  const initializer = (path: string, name: string, perm?: readonly number[]): TensorProto | undefined => {
    if (!opts.structureOnly) {
      const value = weights.tensors.get(path);
      if (!value) return undefined;
      if (!perm) return lazyTensorProto(name, value);
      const shape = perm.map((p) => value.shape[p]);
      return lazyTensorProto(name, { ...value, shape }, () => bytesOf(transposeTensor(value.read(), perm)));
    }
    const info = declared.get(path);
    return (
      info && {
        name,
        dataType: onnxDataType(info.dtype),
        dims: perm ? perm.map((p) => info.shape[p]) : [...info.shape],
      }
    );
  };
  const transposed = opts.kernelLayoutWeights
    ? singlyTransposedWeights(graph, live, outputs)
    : new Map<string, number[]>();
  const lowered = lowerGraph(g, graph, live, outputs, initializer, transposed);
  diagnostics.push(...lowered.diagnostics);
  if (hasErrors(diagnostics)) return { diagnostics };

  // An output that is a model input, a weight, or a value returned twice is copied out through Identity.
  for (const o of outputs) {
    const name = lowered.valueNames.get(o.value)!;
    if (name === o.name) continue;
    const doc = o.span && `${o.span.file}:${o.span.line}:${o.span.col}`;
    g.nodes.push({
      name: g.nodeNames.unique(`Identity_${o.name}`),
      opType: "Identity",
      input: [name],
      output: [o.name],
      docString: doc,
    });
  }
  const initializers = [...lowered.initializers, ...g.consts.initializers];
  const outputNames = new Set(outputs.map((o) => o.name));
  const graphProto: GraphProto = {
    name: opts.modelName ?? graph.name,
    node: g.nodes,
    initializer: initializers,
    input: graph.inputs.map((i) => valueInfo(i.name, i.value.dtype, i.value.shape)),
    output: outputs.map((o) => valueInfo(o.name, o.value.dtype, o.value.shape)),
    valueInfo: [...g.types]
      .filter(([name]) => !outputNames.has(name))
      .map(([name, t]) => valueInfo(name, t.dtype, t.shape)),
  };

  const model: ModelProto = {
    irVersion: irVersionFor(opset),
    opsetImport: [
      { domain: "", version: opset },
      ...[...g.customDomains].map((domain) => ({ domain, version: CUSTOM_DOMAIN_VERSION })),
    ],
    producerName: "netc",
    producerVersion: VERSION,
    docString: opts.docString,
    graph: graphProto,
    metadataProps: metadata(graph, opts, weights.provenance, lowered.layouts),
  };
  return { model, diagnostics };
}

/** The model's weights take more than one protobuf can hold. */
export function tooLargeForOneFile(graph: Graph, bytes: number, hint: string): Diagnostic {
  return makeDiagnostic(
    OnnxCodes.Unsupported,
    `the weights of ${graph.name} take ${(bytes / 2 ** 30).toFixed(2)} GiB, more than one ONNX protobuf can ` +
      `hold (2 GiB)`,
    graph.span,
    { hint },
  );
}

/** Emits `graph` as ONNX bytes in memory (with its external data, when `externalDataPath` is given). */
export function emitOnnx(graph: Graph, opts: EmitOnnxOptions = {}): EmitOnnxResult {
  const built = buildOnnxModel(graph, opts);
  const { model, diagnostics } = built;
  if (!model) return { diagnostics };
  const initializers = model.graph!.initializer!;
  let external: ExternalData | undefined;
  if (opts.externalDataPath !== undefined)
    external = moveToExternal(
      initializers,
      opts.externalDataPath,
      opts.externalThreshold ?? DEFAULT_EXTERNAL_THRESHOLD,
    );
  else if (inlineBytes(initializers) > MAX_INLINE_BYTES)
    return {
      diagnostics: [
        tooLargeForOneFile(
          graph,
          inlineBytes(initializers),
          "store the weights as ONNX external data (writeOnnx does this by itself for large models)",
        ),
      ],
    };
  try {
    return { bytes: encodeModel(model), external: external && materialize(external), diagnostics };
  } catch (e) {
    // A weight that could not be read or drawn (a checkpoint cut short since it was opened, an absurd shape).
    if (!(e instanceof DiagnosticError)) throw e;
    return { diagnostics: [...diagnostics, ...e.diagnostics] };
  }
}
