// Weight import: torch.save checkpoints (zip and legacy) and safetensors into a model's weights.
export { WeightCodes } from "../diagnostics/weight-codes.js";
export {
  Checkpoint,
  describeStateDict,
  findStateDict,
  openCheckpoint,
  type CheckpointFormat,
  type CheckpointNode,
  type DictNode,
  type ListNode,
  type OtherNode,
  type ScalarNode,
  type StateDict,
  type TensorNode,
} from "./checkpoint.js";
export type { ProgressCallback, StorageInfo, TensorEntry } from "./layout.js";
export { inspectCheckpoint, type InspectOptions } from "./inspect.js";
export {
  importWeights,
  loadWeights,
  planWeights,
  type AppliedWeight,
  type CastTransform,
  type DeclaredWeight,
  type DTypeConversion,
  type DTypeMismatch,
  type MappingRules,
  type MissingWeight,
  type RenameRule,
  type ReshapeTransform,
  type ShapeMismatch,
  type SplitTransform,
  type TensorTransform,
  type TransformTarget,
  type TransposeTransform,
  type UnexpectedTensor,
  type WeightSource,
  type WeightPlan,
  type WeightReport,
} from "./mapping.js";
export { renderReport, reportDiagnostics, type Strictness } from "./report.js";
export { stateDictToSafetensors, writeSafetensors, type TensorToWrite, type WriteOptions } from "./safetensors.js";
export { writeFileAtomic } from "../util/atomic.js";
export { castTensor } from "./transforms.js";
