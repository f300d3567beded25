// The ONNX backend: emission, atomic writing, and running with onnxruntime-node.
export { emitOnnx, type EmitOnnxOptions, type EmitOnnxResult } from "./emit.js";
export { DEFAULT_EXTERNAL_THRESHOLD, type ExternalChunk, type ExternalData } from "./external.js";
export { DEFAULT_OPSET } from "./opset.js";
export { type OnnxDevice, type OnnxSession, openOnnxSession, runOnnx, type RunOnnxOptions } from "./run.js";
export { writeOnnx, type WriteOnnxOptions } from "./write.js";
