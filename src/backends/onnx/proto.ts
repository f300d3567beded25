// The only file that touches onnx-proto: typed constructors for the few message shapes the backend writes.
// (onnx-proto is CommonJS; its named export type-checks but fails at run time, hence the default import.)
import onnxPkg from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";
import { type DType, bytesOf, type HostTensor } from "../../util/tensor.js";
import { type Dim, dimToString, isStatic } from "../../compiler/ir/dim.js";

export const onnx = onnxPkg.onnx;
export type NodeProto = OnnxTypes.INodeProto;
export type TensorProto = OnnxTypes.ITensorProto;
export type ValueInfoProto = OnnxTypes.IValueInfoProto;
export type AttributeProto = OnnxTypes.IAttributeProto;
export type GraphProto = OnnxTypes.IGraphProto;
export type ModelProto = OnnxTypes.IModelProto;

const DATA_TYPE: Record<DType, number> = {
  f32: onnx.TensorProto.DataType.FLOAT,
  u8: onnx.TensorProto.DataType.UINT8,
  i8: onnx.TensorProto.DataType.INT8,
  i32: onnx.TensorProto.DataType.INT32,
  i64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
  f16: onnx.TensorProto.DataType.FLOAT16,
  f64: onnx.TensorProto.DataType.DOUBLE,
  bf16: onnx.TensorProto.DataType.BFLOAT16,
};

export function onnxDataType(t: DType): number {
  return DATA_TYPE[t];
}

/** An initializer with little-endian raw data (a view of the tensor; protobufjs copies it when encoding). */
export function tensorProto(name: string, t: HostTensor): TensorProto {
  return { name, dataType: DATA_TYPE[t.dtype], dims: [...t.shape], rawData: bytesOf(t) };
}

/** Static dims become dim_value, symbolic ones dim_param with their printed form ("B", "8*B"). */
export function valueInfo(name: string, dtype: DType, shape: readonly Dim[]): ValueInfoProto {
  const dim = shape.map((d) => (isStatic(d) ? { dimValue: d } : { dimParam: dimToString(d) }));
  return { name, type: { tensorType: { elemType: DATA_TYPE[dtype], shape: { dim } } } };
}

export const attr = {
  int: (name: string, i: number): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i }),
  ints: (name: string, ints: readonly number[]): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...ints] }),
  float: (name: string, f: number): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f }),
  string: (name: string, s: string): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(s) }),
};

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export function decodeModel(bytes: Uint8Array): OnnxTypes.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export const EXTERNAL_LOCATION = onnx.TensorProto.DataLocation.EXTERNAL;
