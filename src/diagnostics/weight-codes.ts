// Diagnostic codes of weight import (NET6xxx), as data, plus the one way src/weights/ fails.
// Readers: NET6001-NET6019. Mapping a checkpoint onto a model: NET6020-NET6039. Streaming weights: NET6050-NET6059.
import { makeDiagnostic, type CodeInfo } from "./codes.js";
import { DiagnosticError, type RelatedInfo, type Severity, type Span } from "./diagnostics.js";

const code = (c: string, severity: Severity, title: string, hint?: string): CodeInfo => ({
  code: c,
  severity,
  title,
  hint,
});

const FORMATS_HINT = "netc reads torch.save files (.pth, .pt, .pth.tar; zip or legacy format) and .safetensors files";

export const WeightCodes = {
  ReadFailed: code(
    "NET6001",
    "error",
    "a checkpoint file that cannot be opened or read",
    "check that the file exists and is readable",
  ),
  NotACheckpoint: code("NET6002", "error", "a file that is not a PyTorch or safetensors checkpoint", FORMATS_HINT),
  Truncated: code(
    "NET6003",
    "error",
    "a checkpoint that ends before the data it declares",
    "the file is incomplete or damaged; copy or download it again",
  ),
  CorruptZip: code(
    "NET6004",
    "error",
    "a zip archive whose structure is inconsistent",
    "the file is damaged; copy or download it again",
  ),
  UnsupportedZip: code(
    "NET6005",
    "error",
    "a zip feature that torch.save never writes (compression, encryption, several disks)",
    "the checkpoint was re-packed; use the file torch.save wrote, or re-save it with torch.save",
  ),
  BadPickle: code(
    "NET6006",
    "error",
    "a pickle stream that cannot be decoded",
    "the file is damaged or is not a checkpoint",
  ),
  ForbiddenGlobal: code(
    "NET6007",
    "error",
    "a pickle that names a Python global only an attack uses (os.system, eval, subprocess, ...), or calls a data-only one",
    "netc never runs code from a checkpoint; it accepts tensors, state dicts and plain containers. " +
      "Re-save with torch.save({'model': model.state_dict()}) or convert to safetensors",
  ),
  UnsupportedFormat: code("NET6008", "error", "a checkpoint variant netc does not read", FORMATS_HINT),
  UnsupportedDType: code(
    "NET6009",
    "error",
    "a tensor element type netc does not support",
    "supported: float32, float16, bfloat16, float64, int64, int32, int8, uint8, bool",
  ),
  BadTensor: code(
    "NET6010",
    "error",
    "a tensor whose shape, strides or offset are invalid or overflow",
    "the checkpoint is damaged, or was not written by torch.save",
  ),
  StorageOutOfBounds: code(
    "NET6011",
    "error",
    "a tensor or storage that reaches past the data stored for it",
    "the checkpoint is damaged or incomplete; copy or download it again",
  ),
  BadSafetensors: code(
    "NET6012",
    "error",
    "a safetensors header that is malformed or inconsistent",
    "the file is damaged, or was not written by a safetensors writer",
  ),
  StateDictNotFound: code(
    "NET6013",
    "error",
    "a checkpoint without the requested state dict",
    "`netc weights inspect <file>` shows what the checkpoint holds; choose the dict with the mapping's subdict",
  ),
  AmbiguousStateDict: code(
    "NET6014",
    "error",
    "a checkpoint holding several state dicts, none chosen",
    'choose one with a rule in the model: `weights { subdict "model" }`',
  ),
  WriteFailed: code(
    "NET6015",
    "error",
    "a weight file that cannot be written",
    "check that the output folder exists and is writable",
  ),
  CorruptCheckpoint: code(
    "NET6016",
    "error",
    "a checkpoint whose parts do not agree",
    "the file is damaged; copy or download it again",
  ),
  OverBudget: code(
    "NET6017",
    "error",
    "a checkpoint beyond netc's reading budgets (tensors, views of one storage, elements, values)",
    "a checkpoint this size or this shared is not a model's weights; if it is, save the state dict alone with torch.save or as safetensors",
  ),
  OpaqueTensor: code(
    "NET6018",
    "error",
    "a tensor the model needs that depends on a Python object netc does not rebuild",
    "netc never runs code from a checkpoint; re-save the tensor as a plain torch tensor (torch.save({'model': model.state_dict()})) or as safetensors",
  ),
  BadShardIndex: code(
    "NET6019",
    "error",
    "a sharded checkpoint's index that is malformed or disagrees with its shards",
    "the index (model.safetensors.index.json or pytorch_model.bin.index.json) maps each key to a shard file in its own folder",
  ),

  MissingWeight: code(
    "NET6020",
    "error",
    "a declared weight that the checkpoint does not provide",
    "map the checkpoint key with a `weights { rename ... }` rule, or pass --allow-missing to draw it at random (seeded)",
  ),
  UnexpectedTensor: code(
    "NET6021",
    "error",
    "a checkpoint tensor that no declared weight takes",
    "strip or rename its prefix with a `weights { ... }` rule, or pass --allow-unexpected to ignore it",
  ),
  ShapeMismatch: code("NET6022", "error", "a checkpoint tensor whose shape differs from the declared weight"),
  DTypeMismatch: code(
    "NET6023",
    "error",
    "a checkpoint tensor whose element type cannot be converted implicitly",
    "add a cast transform to convert it explicitly",
  ),
  DTypeConverted: code("NET6024", "note", "a checkpoint tensor converted to the declared element type"),
  UnusedWeightLoaded: code(
    "NET6025",
    "note",
    "a weight loaded from the checkpoint that the forward computation never reads",
  ),
  BadMappingRule: code(
    "NET6026",
    "error",
    "a weight mapping rule that is invalid or matches nothing",
    "rules apply in order (subdict, strip, rename, transforms and drops, prefix); transforms name tensors as renamed",
  ),
  KeyCollision: code(
    "NET6027",
    "error",
    "two checkpoint tensors mapped onto the same weight path",
    "make the renames distinct, or strip fewer prefixes",
  ),
  DroppedByRule: code("NET6028", "note", "checkpoint tensors a `drop` or `drop_mismatched` rule leaves out"),
  UnmatchedRule: code(
    "NET6029",
    "warning",
    "a `strip` or `rename` rule that matches no key of the checkpoints it applies to",
    "`netc weights inspect <file>` lists the checkpoint's keys; remove the rule, or correct its name",
  ),
  UnknownWeightSet: code(
    "NET6030",
    "warning",
    "a `--weights name=file` whose name is not, but nearly is, one of the model's `weights <name> { }` sets",
    "a name that is not a set only puts the file's tensors under `name.`",
  ),
  ChangedWhileRead: code(
    "NET6050",
    "error",
    "a checkpoint that changed (was cut short, rewritten) while netc was streaming its tensors into an output",
    "nothing was written; let whatever writes the checkpoint finish, then compile again",
  ),
} as const;

/** The error every reader throws: a single diagnostic without a span (the problem lies in a file, not in .net source). */
export function weightError(
  info: CodeInfo,
  message: string,
  extra: { span?: Span; related?: RelatedInfo[]; hint?: string } = {},
): DiagnosticError {
  return new DiagnosticError([makeDiagnostic(info, message, extra.span, extra)]);
}

/**
 * Runs `work`, turning anything but a DiagnosticError (an fs error, a failed allocation, a bug tripped by bad data)
 * into a diagnostic naming `file`, so that callers only ever see diagnostics.
 */
export function withDiagnostics<T>(
  file: string,
  doing: string,
  work: () => T,
  info: CodeInfo = WeightCodes.ReadFailed,
): T {
  try {
    return work();
  } catch (e) {
    if (e instanceof DiagnosticError) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw weightError(info, `${file}: ${doing} failed: ${reason}`);
  }
}
