// Stable diagnostic codes, as data. Ranges:
//   NET1xxx syntax (lexer, parser)          NET2xxx names and static checks (binder, checker)
//   NET3xxx types, shapes and elaboration   NET4xxx IR verifier and passes
//   NET5xxx ONNX backend                    NET6xxx weights and checkpoints (weight-codes.ts)
//   NET7xxx WGSL backend                    NET8xxx command line and files
import type { Diagnostic, Fix, RelatedInfo, Severity, Span } from "./diagnostics.js";

export interface CodeInfo {
  readonly code: string;
  readonly severity: Severity;
  /** One line saying what the code means, for the diagnostics reference. */
  readonly title: string;
  /** The default hint, used when a diagnostic gives none of its own. */
  readonly hint?: string;
}

export function makeDiagnostic(
  info: CodeInfo,
  message: string,
  span?: Span,
  extra: { related?: RelatedInfo[]; hint?: string; fixes?: Fix[] } = {},
): Diagnostic {
  return {
    code: info.code,
    severity: info.severity,
    message,
    span,
    related: extra.related ?? [],
    hint: extra.hint ?? info.hint,
    ...(extra.fixes ? { fixes: extra.fixes } : {}),
  };
}

const code = (c: string, severity: Severity, title: string, hint?: string): CodeInfo => ({
  code: c,
  severity,
  title,
  hint,
});

export const SyntaxCodes = {
  InvalidCharacter: code(
    "NET1001",
    "error",
    "a character that cannot start any token",
    "remove the character; strings use double quotes",
  ),
  UnterminatedString: code(
    "NET1002",
    "error",
    "a string literal without its closing quote",
    'close the string with " on the same line',
  ),
  UnexpectedToken: code("NET1003", "error", "the parser expected something else here"),
  UnterminatedComment: code("NET1004", "error", "a /* comment without its closing */"),
  BadNumber: code("NET1005", "error", "a number literal that cannot be represented"),
  UnknownEscape: code(
    "NET1006",
    "error",
    'a backslash escape that string literals do not define (they know \\\\ \\" \\n \\t \\r)',
    'write \\\\ for a backslash, or use a raw string r"...", which keeps backslashes as written (as regular ' +
      "expressions want)",
  ),
  TooDeep: code(
    "NET1007",
    "error",
    "brackets, operators or blocks nested deeper than the compiler accepts",
    "name parts of the expression with `let`, or move nested code into a fn",
  ),
} as const;

export const CheckCodes = {
  UnknownName: code("NET2001", "error", "a name that is not defined in scope"),
  DuplicateDefinition: code(
    "NET2002",
    "error",
    "two definitions with the same name in one scope",
    "rename one of them",
  ),
  UnknownBlock: code("NET2003", "error", "a call of a block or builtin that does not exist"),
  WrongArity: code("NET2004", "error", "a call with the wrong number of arguments"),
  UnknownArgument: code("NET2005", "error", "a named argument the callee does not declare"),
  MissingArgument: code("NET2006", "error", "a required argument is not given"),
  DuplicateArgument: code("NET2007", "error", "an argument given twice"),
  ImportNotFound: code("NET2008", "error", "an imported file that cannot be read"),
  NoModel: code("NET2010", "error", "a compiled file without a model", "add `model Name(...) { ... }` or import one"),
  MultipleModels: code(
    "NET2011",
    "error",
    "more than one model in the compiled files",
    "keep one model per compiled file",
  ),
  MisplacedStatement: code("NET2012", "error", "a statement where it is not allowed"),
  LiftStep: code(
    "NET2013",
    "error",
    "a lift step that does not follow the lifting scheme",
    "an update adds to the approximation (`approx += U(...)`); a predict subtracts from the detail (`detail -= " +
      "P(...)`)",
  ),
  MissingReturn: code("NET2014", "error", "a block whose body does not end in a return"),
  UnusedParameter: code(
    "NET2015",
    "warning",
    "weights that the forward computation never reads",
    "remove them, or keep them if a checkpoint holds them (they are reported, not loaded into the graph)",
  ),
  UnknownOverride: code("NET2016", "error", "a --set for a parameter the model does not have"),
  UnusedLayer: code(
    "NET2017",
    "warning",
    "a layer that is declared but never called",
    "call it, or remove it if no checkpoint holds its weights",
  ),
  ImportNotNet: code(
    "NET2018",
    "error",
    "an import of a file that is not a `.net` source",
    "import `.net` files only; the standard library is `std/nn.net`",
  ),
  UnusedMarkRead: code(
    "NET2060",
    "warning",
    "a layer or param marked `unused` whose weights the forward computation reads",
    "remove `unused`: the mark is for weights only a checkpoint needs",
  ),
  UnusedMarkEmpty: code(
    "NET2061",
    "warning",
    "a layer marked `unused` that declares no weights",
    "remove `unused`: it marks weights a checkpoint holds, and this layer has none",
  ),
  UnknownWeightsRule: code("NET2020", "error", "a rule of a `weights { }` block whose verb netc does not know"),
  BadWeightsRule: code(
    "NET2021",
    "error",
    "a rule of a `weights { }` block with the wrong number or kinds of arguments",
  ),
  PatternSyntax: code(
    "NET2040",
    "error",
    "an einops pattern (`rearrange`, `repeat`, `reduce`) that cannot be parsed",
    'a pattern is `input axes -> output axes`, e.g. "b c (t h) w -> (b t) c h w"',
  ),
  PatternUnknownAxis: code(
    "NET2041",
    "error",
    "an einops axis (or a given axis size) that one side of the pattern lacks",
  ),
  PatternDuplicateAxis: code(
    "NET2042",
    "error",
    "an axis named twice on one side of an einops pattern",
    "name each axis once per side",
  ),
  PatternCannotInfer: code(
    "NET2043",
    "error",
    "an einops axis whose size cannot be inferred from the input shape and the given sizes",
  ),
  UnknownReduction: code("NET2044", "error", "a `reduce` with a reduction other than mean, sum, max, min or prod"),
} as const;

export const ShapeCodes = {
  TypeMismatch: code("NET3001", "error", "a value of the wrong kind (tensor, int, list, ...)"),
  ShapeMismatch: code("NET3002", "error", "tensor shapes that do not agree"),
  DTypeMismatch: code(
    "NET3003",
    "error",
    "tensor element types that do not agree",
    "convert explicitly with cast(x, f32)",
  ),
  RankMismatch: code("NET3004", "error", "a tensor of the wrong rank"),
  BadAxis: code("NET3005", "error", "an axis outside the tensor's rank"),
  NotDivisible: code("NET3006", "error", "a dimension division that does not come out exact"),
  BadDimension: code("NET3007", "error", "a dimension that is negative, zero where not allowed, or too large"),
  AssertionFailed: code("NET3008", "error", "a compile-time assert that does not hold"),
  NotCompileTime: code("NET3009", "error", "a value needed at compile time depends on tensor data"),
  IndexOutOfRange: code("NET3010", "error", "a list or tuple index outside its length"),
  BadArgument: code("NET3011", "error", "an argument value outside what the operation accepts"),
  RecursionLimit: code(
    "NET3012",
    "error",
    "blocks that instantiate themselves without end, or expressions nested too deep through block calls",
  ),
  TooLarge: code("NET3013", "error", "a tensor or loop too large to compile"),
  DivisionByZero: code("NET3014", "error", "a compile-time division by zero"),
  Printed: code(
    "NET3016",
    "note",
    "a value shown by `print(...)` while the model is elaborated (tensors by their type)",
  ),
  PatternShapeMismatch: code("NET3030", "error", "an einops pattern that does not fit the input's (symbolic) shape"),
  BlockNotChecked: code(
    "NET3020",
    "note",
    "a block that no model uses and that `netc check` cannot elaborate on symbolic sizes (it needs concrete " +
      "values), so it is checked only where it is used",
    'see "What netc check checks" in docs/language.md',
  ),
  BadWeightName: code(
    "NET3015",
    "error",
    "a computed weight name (`param w: ... named <string>`) that is not one path segment",
    "a weight name is a non-empty string without '.'; nest weights under a path with `layer`",
  ),
} as const;

export const IrCodes = {
  VerifierFailed: code(
    "NET4001",
    "error",
    "the IR verifier found an inconsistent graph (a compiler bug)",
    "please report it with the .net file",
  ),
} as const;

export const OnnxCodes = {
  Unsupported: code(
    "NET5001",
    "error",
    "an operation the ONNX backend cannot lower at the chosen opset",
    "bind symbolic sizes at compile time with --set, or try a newer --opset",
  ),
  BadOpset: code("NET5002", "error", "an opset the backend does not support"),
  RuntimeFailed: code("NET5004", "error", "onnxruntime failed to load or run the model"),
  DeviceUnavailable: code(
    "NET5005",
    "error",
    "a --device whose onnxruntime execution provider this machine lacks",
    "see 'Running on CUDA' in docs/cli.md, or use --device auto to fall back to the CPU",
  ),
  UnsafeExternalData: code(
    "NET5006",
    "error",
    "an ONNX model whose external data names a file outside its folder, a special file, or bytes past a file's end",
    "keep external data files beside the model, as `netc compile` writes them",
  ),
} as const;

export const CliCodes = {
  FileNotFound: code("NET8001", "error", "an input file that cannot be read"),
  BadNpy: code("NET8002", "error", "a .npy file that cannot be parsed"),
  BadInputBinding: code("NET8003", "error", "a --input that does not match the model's inputs"),
  WriteFailed: code(
    "NET8004",
    "error",
    "an output file that cannot be written",
    "check that the output folder exists and is writable",
  ),
  NotFormatted: code("NET8006", "error", "a file that `netc fmt` would change", "run `netc fmt <file>` to rewrite it"),
  PackageMissing: code(
    "NET8007",
    "error",
    "a command that needs an optional package (onnxruntime-node, webgpu) that is not installed",
  ),
  OutputIsInput: code(
    "NET8008",
    "error",
    "an output path that is one of the command's inputs, or a folder holding one",
    "write the output to another path",
  ),
  OutputNotReplaceable: code(
    "NET8009",
    "error",
    "an output path holding something netc did not write (a folder that is not a bundle, a special file, the " +
      "working folder)",
    "name a new file or folder for the output",
  ),
  NotRegularFile: code(
    "NET8010",
    "error",
    "an input path that is not a regular file of bounded size (a folder, FIFO, device or /proc file)",
    "pass the path of an ordinary file",
  ),
  NotText: code(
    "NET8011",
    "error",
    "a source file that is not UTF-8 text",
    "a .net source is UTF-8 text without NUL bytes",
  ),
  UnknownTap: code(
    "NET8020",
    "error",
    "a --tap that names no tensor of the model",
    "name a tensor as <layer path>/<let name> (the model's own as <let name>), a layer's output as its path, or " +
      "a `tap`",
  ),
  ThreadsCapped: code("NET8012", "note", "a --threads above the machine's cores, lowered to the number of cores"),
  ReadAheadUnavailable: code(
    "NET8013",
    "warning",
    "ONNX weights made on the writer's thread alone because the read-ahead threads could not start or load their " +
      "program (util/read-ahead-worker.js, beside util/read-ahead.js), or one stopped in the middle of a piece: " +
      "the output is the same, only slower",
    "a bundle of netc's writer must ship read-ahead-worker.js, with the modules it imports, in its own folder; " +
      "--threads 0 asks for no threads (and no warning)",
  ),
  SingleFileTooLarge: code(
    "NET8050",
    "error",
    "a model asked for as one ONNX file (--single-file) that is larger than one protobuf can hold (2 GiB)",
    "leave out --single-file: netc then writes the weights as ONNX external data beside the model (<model>.data)",
  ),
  LspDocumentTooLarge: code(
    "NET8060",
    "error",
    "a document open in the editor that is larger than netc reads (16 MiB): the language server does not analyse it",
    "split the file; netc check refuses it as well (NET8010)",
  ),
  LspCheckpointUnreadable: code(
    "NET8070",
    "warning",
    "a checkpoint that the editor's `netc.weights` setting pairs with a model but the language server cannot read: " +
      "the model's weights are not checked against it",
    "fix the path in the netc.weights setting (relative to the workspace folder), or the file",
  ),
  LspBadWeightsSetting: code(
    "NET8071",
    "warning",
    "a `netc.weights` setting that is not a map from .net paths or globs to checkpoint files (a string or a list of " +
      "strings, each `[name=]file` as --weights)",
    'e.g. "netc.weights": { "models/*.net": "checkpoints/model.pth" }',
  ),
} as const;
