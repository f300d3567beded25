// The ONNX messages netc writes and reads, as plain typed objects, with their field numbers from onnx.proto
// (github.com/onnx/onnx, onnx/onnx.proto), and typed constructors for the shapes the backend emits.
// Fields netc never uses (training info, functions, sparse tensors, sequence/map types) are left out: decoding
// skips them, so a decoded model re-encodes without them.
import { type Dim, dimToString, isStatic } from "../../compiler/ir/dim.js";
import { bytesOf, type DType, type HostTensor } from "../../util/tensor.js";
import type { LazyTensor } from "../../util/lazy-tensor.js";
import {
  type ByteSink,
  decodeMessage,
  encodedSize,
  encodeMessage,
  encodeMessageTo,
  type Int64,
  type LazyBytes,
  type Schema,
} from "./wire.js";

export type { ByteSink, Int64, LazyBytes } from "./wire.js";

export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

export interface OperatorSetIdProto {
  domain?: string;
  version?: Int64;
}

/** An initializer's lazy bytes; `tensor` when they are its values unchanged (a writer may make them ahead). */
export interface TensorBytes extends LazyBytes {
  readonly tensor?: LazyTensor;
}

export interface TensorProto {
  dims?: Int64[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  stringData?: Uint8Array[];
  int64Data?: Int64[];
  name?: string;
  /** Decoded models hold bytes; models being written may hold lazy bytes, made when they are written. */
  rawData?: Uint8Array | TensorBytes;
  doubleData?: number[];
  uint64Data?: Int64[];
  docString?: string;
  externalData?: StringStringEntryProto[];
  dataLocation?: number;
}

export interface DimensionProto {
  dimValue?: Int64;
  dimParam?: string;
  denotation?: string;
}

export interface TensorShapeProto {
  dim?: DimensionProto[];
}

export interface TensorTypeProto {
  elemType?: number;
  shape?: TensorShapeProto;
}

export interface TypeProto {
  tensorType?: TensorTypeProto;
  denotation?: string;
}

export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
  docString?: string;
}

export interface AttributeProto {
  name?: string;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  docString?: string;
  tp?: TypeProto;
  typeProtos?: TypeProto[];
  type?: number;
  refAttrName?: string;
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  attribute?: AttributeProto[];
  docString?: string;
  domain?: string;
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  docString?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}

export interface ModelProto {
  irVersion?: Int64;
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: Int64;
  docString?: string;
  graph?: GraphProto;
  opsetImport?: OperatorSetIdProto[];
  metadataProps?: StringStringEntryProto[];
}

/** TensorProto.DataType. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;
/** AttributeProto.AttributeType. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;
/** TensorProto.DataLocation. */
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

// Field tables, in field-number order (the order they are written in).
const entrySchema: Schema = [
  { no: 1, key: "key", kind: "string" },
  { no: 2, key: "value", kind: "string" },
];
const opsetSchema: Schema = [
  { no: 1, key: "domain", kind: "string" },
  { no: 2, key: "version", kind: "int64" },
];
const tensorSchema: Schema = [
  { no: 1, key: "dims", kind: "int64", repeated: true },
  { no: 2, key: "dataType", kind: "int32" },
  { no: 4, key: "floatData", kind: "float", repeated: true },
  { no: 5, key: "int32Data", kind: "int32", repeated: true },
  { no: 6, key: "stringData", kind: "bytes", repeated: true },
  { no: 7, key: "int64Data", kind: "int64", repeated: true },
  { no: 8, key: "name", kind: "string" },
  { no: 9, key: "rawData", kind: "bytes" },
  { no: 10, key: "doubleData", kind: "double", repeated: true },
  { no: 11, key: "uint64Data", kind: "uint64", repeated: true },
  { no: 12, key: "docString", kind: "string" },
  { no: 13, key: "externalData", kind: "message", repeated: true, message: () => entrySchema },
  { no: 14, key: "dataLocation", kind: "int32" },
];
const dimensionSchema: Schema = [
  { no: 1, key: "dimValue", kind: "int64" },
  { no: 2, key: "dimParam", kind: "string" },
  { no: 3, key: "denotation", kind: "string" },
];
const shapeSchema: Schema = [{ no: 1, key: "dim", kind: "message", repeated: true, message: () => dimensionSchema }];
const tensorTypeSchema: Schema = [
  { no: 1, key: "elemType", kind: "int32" },
  { no: 2, key: "shape", kind: "message", message: () => shapeSchema },
];
const typeSchema: Schema = [
  { no: 1, key: "tensorType", kind: "message", message: () => tensorTypeSchema },
  { no: 6, key: "denotation", kind: "string" },
];
const valueInfoSchema: Schema = [
  { no: 1, key: "name", kind: "string" },
  { no: 2, key: "type", kind: "message", message: () => typeSchema },
  { no: 3, key: "docString", kind: "string" },
];
const attributeSchema: Schema = [
  { no: 1, key: "name", kind: "string" },
  { no: 2, key: "f", kind: "float" },
  { no: 3, key: "i", kind: "int64" },
  { no: 4, key: "s", kind: "bytes" },
  { no: 5, key: "t", kind: "message", message: () => tensorSchema },
  { no: 6, key: "g", kind: "message", message: () => graphSchema },
  { no: 7, key: "floats", kind: "float", repeated: true },
  { no: 8, key: "ints", kind: "int64", repeated: true },
  { no: 9, key: "strings", kind: "bytes", repeated: true },
  { no: 10, key: "tensors", kind: "message", repeated: true, message: () => tensorSchema },
  { no: 11, key: "graphs", kind: "message", repeated: true, message: () => graphSchema },
  { no: 13, key: "docString", kind: "string" },
  { no: 14, key: "tp", kind: "message", message: () => typeSchema },
  { no: 15, key: "typeProtos", kind: "message", repeated: true, message: () => typeSchema },
  { no: 20, key: "type", kind: "int32" },
  { no: 21, key: "refAttrName", kind: "string" },
];
const nodeSchema: Schema = [
  { no: 1, key: "input", kind: "string", repeated: true },
  { no: 2, key: "output", kind: "string", repeated: true },
  { no: 3, key: "name", kind: "string" },
  { no: 4, key: "opType", kind: "string" },
  { no: 5, key: "attribute", kind: "message", repeated: true, message: () => attributeSchema },
  { no: 6, key: "docString", kind: "string" },
  { no: 7, key: "domain", kind: "string" },
];
const graphSchema: Schema = [
  { no: 1, key: "node", kind: "message", repeated: true, message: () => nodeSchema },
  { no: 2, key: "name", kind: "string" },
  { no: 5, key: "initializer", kind: "message", repeated: true, message: () => tensorSchema },
  { no: 10, key: "docString", kind: "string" },
  { no: 11, key: "input", kind: "message", repeated: true, message: () => valueInfoSchema },
  { no: 12, key: "output", kind: "message", repeated: true, message: () => valueInfoSchema },
  { no: 13, key: "valueInfo", kind: "message", repeated: true, message: () => valueInfoSchema },
];
const modelSchema: Schema = [
  { no: 1, key: "irVersion", kind: "int64" },
  { no: 2, key: "producerName", kind: "string" },
  { no: 3, key: "producerVersion", kind: "string" },
  { no: 4, key: "domain", kind: "string" },
  { no: 5, key: "modelVersion", kind: "int64" },
  { no: 6, key: "docString", kind: "string" },
  { no: 7, key: "graph", kind: "message", message: () => graphSchema },
  { no: 8, key: "opsetImport", kind: "message", repeated: true, message: () => opsetSchema },
  { no: 14, key: "metadataProps", kind: "message", repeated: true, message: () => entrySchema },
];

const DATA_TYPE: Record<DType, number> = {
  f32: DataType.FLOAT,
  u8: DataType.UINT8,
  i8: DataType.INT8,
  i32: DataType.INT32,
  i64: DataType.INT64,
  bool: DataType.BOOL,
  f16: DataType.FLOAT16,
  f64: DataType.DOUBLE,
  bf16: DataType.BFLOAT16,
};

export function onnxDataType(t: DType): number {
  return DATA_TYPE[t];
}

/** An initializer with little-endian raw data (a view of the tensor; encoding copies it). */
export function tensorProto(name: string, t: HostTensor): TensorProto {
  return { name, dataType: DATA_TYPE[t.dtype], dims: [...t.shape], rawData: bytesOf(t) };
}

/**
 * An initializer whose raw data is read (or drawn) only when the model is written: the tensor's own values, or what
 * `bytes` makes of them (same size).
 */
export function lazyTensorProto(name: string, t: LazyTensor, bytes?: () => Uint8Array): TensorProto {
  const rawData: TensorBytes = bytes
    ? { byteLength: t.byteLength, bytes }
    : { byteLength: t.byteLength, bytes: () => bytesOf(t.read()), tensor: t };
  return { name, dataType: DATA_TYPE[t.dtype], dims: [...t.shape], rawData };
}

/** Static dims become dim_value, symbolic ones dim_param with their printed form ("B", "8*B"). */
export function valueInfo(name: string, dtype: DType, shape: readonly Dim[]): ValueInfoProto {
  const dim = shape.map((d) => (isStatic(d) ? { dimValue: d } : { dimParam: dimToString(d) }));
  return { name, type: { tensorType: { elemType: DATA_TYPE[dtype], shape: { dim } } } };
}

export const attr = {
  int: (name: string, i: number): AttributeProto => ({ name, type: AttributeType.INT, i }),
  ints: (name: string, ints: readonly number[]): AttributeProto => ({
    name,
    type: AttributeType.INTS,
    ints: [...ints],
  }),
  float: (name: string, f: number): AttributeProto => ({ name, type: AttributeType.FLOAT, f }),
  string: (name: string, s: string): AttributeProto => ({
    name,
    type: AttributeType.STRING,
    s: new TextEncoder().encode(s),
  }),
};

/** Serializes a model; throws ProtobufError for a value its field cannot hold (e.g. a non-integer dim). */
export function encodeModel(model: ModelProto): Uint8Array {
  return encodeMessage(model, modelSchema);
}

/** Serializes a model into `sink` a window at a time (the same bytes as encodeModel), making lazy data as it goes. */
export function encodeModelTo(model: ModelProto, sink: ByteSink): void {
  encodeMessageTo(model, modelSchema, sink);
}

/** The size of a model's encoding, without making its lazy data. */
export function encodedModelSize(model: ModelProto): number {
  return encodedSize(model, modelSchema);
}

/** Parses a model; throws ProtobufError for bytes that are not a well-formed protobuf message. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  return decodeMessage(bytes, modelSchema) as ModelProto;
}

export const EXTERNAL_LOCATION = DataLocation.EXTERNAL;
