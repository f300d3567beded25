// Diagnostic codes of netc infer, eval and export triton (NET8030-NET8049: command line and files).
import type { CodeInfo } from "./codes.js";
import type { Severity } from "./diagnostics.js";

const code = (c: string, severity: Severity, title: string, hint?: string): CodeInfo => ({
  code: c,
  severity,
  title,
  hint,
});

export const DatasetCodes = {
  ClipUnreadable: code(
    "NET8030",
    "warning",
    "a clip (frame folder, video or manifest row) that cannot be read; recorded in the results and the run goes on",
  ),
  FrameUndecodable: code(
    "NET8031",
    "warning",
    "a frame that is not a PNG or JPEG image netc can decode; recorded in the results and the run goes on",
    "frames are PNG or JPEG files; convert others first",
  ),
  FfmpegMissing: code(
    "NET8032",
    "warning",
    "a video clip where ffmpeg is not installed; recorded in the results and the run goes on",
    "install ffmpeg (apt install ffmpeg), or extract frames into a folder per clip",
  ),
  BadManifest: code(
    "NET8033",
    "error",
    "a clips manifest (CSV or JSON) that cannot be read: its syntax, a missing column, a bad value",
  ),
  NotVideoModel: code(
    "NET8034",
    "error",
    "a model whose input is not a video [B, C, T, H, W] or [B, T, C, H, W] of fixed frames and size",
    'infer and eval feed clips to a video input; declare `preprocess { input = "..." }` if the model has several',
  ),
  PreprocessMismatch: code(
    "NET8035",
    "error",
    "a `preprocess` declaration that disagrees with the model's input or output (frames, size, label count)",
  ),
  BadPreprocessMetadata: code(
    "NET8036",
    "error",
    "a compiled model whose preprocessing record (ONNX metadata netc.preprocess, bundle manifest preprocess) is " +
      "malformed",
  ),
  BadResults: code(
    "NET8037",
    "error",
    "an existing results file (JSONL) that is not what netc infer writes",
    "name a new output file, or remove the broken one",
  ),
  ClipsFailed: code(
    "NET8038",
    "warning",
    "how many clips failed (the first are shown as their own warnings); each is recorded in the results with " +
      "its error, the others were scored",
    "a rerun with the same -o tries the failed clips again and skips the scored ones",
  ),
  NoLabels: code(
    "NET8039",
    "error",
    "netc eval on clips without labels",
    "give a manifest with a label column (CSV: path,label)",
  ),
  UnknownLabel: code(
    "NET8040",
    "error",
    "a label that is not one of the model's classes (names from its preprocess labels, or 0-based indexes)",
  ),
  NoPredictions: code("NET8041", "error", "an evaluation in which no clip could be scored"),
  TritonUnsupported: code("NET8042", "error", "a model feature Triton's model configuration cannot express"),
} as const;
