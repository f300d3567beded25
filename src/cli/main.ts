// The `netc` command line. Exit codes: 0 success, 1 diagnostics about the input, 2 usage errors.
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { DiagnosticError, SourceMap } from "../diagnostics/diagnostics.js";
import type { WeightsImportOptions } from "./commands/weights.js";
import { collect, EXIT_USAGE, ExitError, report } from "./io.js";
import { VERSION } from "../util/version.js";

/** A command's action, imported when the command runs: `netc --version` or `netc check` loads no backend. */
function lazy<M, A extends unknown[]>(
  load: () => Promise<M>,
  pick: (m: M) => (...args: A) => void | Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args) => pick(await load())(...args);
}

/** The same, for commands whose first argument is a model: a reference model's name (`ifdd`) becomes its file. */
function lazyWithModel<M, R extends unknown[]>(
  load: () => Promise<M>,
  pick: (m: M) => (model: string, ...rest: R) => void | Promise<void>,
): (model: string, ...rest: R) => Promise<void> {
  return async (model, ...rest) => {
    const { resolveModelArgument } = await import("../models.js");
    return pick(await load())(resolveModelArgument(model), ...rest);
  };
}

const weightsModule = () => import("./commands/weights.js");

/** A commander parser for a whole-number option of at least `min` (commander reports the error as usage). */
function integer(min: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`expected a whole number of at least ${min}, got '${text}'`);
    return n;
  };
}

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1 << 10,
  kib: 1 << 10,
  m: 1 << 20,
  mib: 1 << 20,
  g: 1 << 30,
  gib: 1 << 30,
};

/** `4MiB`, `512KiB`, `1048576`: a whole number of bytes, with an optional binary unit. */
function byteSize(text: string): number {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? BYTE_UNITS[m[2].toLowerCase()] : undefined;
  const n = m && unit !== undefined ? Number(m[1]) * unit : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw new InvalidArgumentError(`expected a size such as 4MiB, 512KiB or 1048576, got '${text}'`);
  return n;
}

export function program(): Command {
  const cli = new Command("netc")
    .description("Compiler for .net model graphs: ONNX and WebGPU (WGSL) targets, PyTorch weight import")
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();

  const setOption = () =>
    new Option("--set <name=value>", "set a model parameter or input dimension (repeatable)")
      .argParser(collect)
      .default([]);
  const weightsOption = () =>
    new Option(
      "--weights <[name=]file>",
      "a checkpoint (.pth, .pth.tar, .safetensors); repeatable; name= picks the model's `weights name { }` " +
        "rules and prefix",
    )
      .argParser(collect)
      .default([]);

  const verboseOption = () =>
    new Option("--verbose", "the whole weight report, not only its counts and the first lines of each list")
      .default(false)
      .conflicts("quiet");
  const quietOption = () =>
    new Option("--quiet", "no weight report and no weight notes (errors and warnings are still printed)").default(
      false,
    );

  cli
    .command("compile <file>")
    .description("compile a .net model")
    .addOption(new Option("--target <target>", "output kind").choices(["onnx", "wgsl"]).default("onnx"))
    .requiredOption("-o, --output <path>", "output file (onnx) or folder (wgsl)")
    .addOption(
      new Option("--precision <precision>", "WGSL storage precision (f16 needs shader-f16)")
        .choices(["f32", "f16"])
        .default("f32"),
    )
    .addOption(setOption())
    .addOption(weightsOption())
    .option("--opset <n>", "ONNX opset, 17 to 23 (Gelu from 20, Attention from 23)", integer(0), 17)
    .option(
      "--max-batch <n>",
      "WGSL: the largest batch a bundle with a symbolic batch axis runs (default 8)",
      integer(1),
    )
    .option("--shard-size <size>", "WGSL: bytes per weight shard, e.g. 4MiB (the default), 512KiB or 1048576", byteSize)
    .option(
      "--no-fallback",
      "WGSL: leave out model.onnx, the ONNX copy loadModel runs with onnxruntime-web where WebGPU cannot",
    )
    .option("--seed <n>", "seed for random weights when no checkpoint is given", integer(0), 0)
    .option("--debug-outputs", "add every `tap` as an extra graph output", false)
    .option(
      "--tap <names>",
      "add these intermediates as extra graph outputs: <layer path>/<let name>, a layer path, or a `tap` " +
        "(comma-separated, repeatable)",
      collect,
      [],
    )
    .option(
      "--deploy",
      "ONNX for deployment: weights stored in the layout their kernel reads (no runtime Transpose; checkpoint " +
        "names in the metadata)",
      false,
    )
    .option(
      "--onnxruntime-ops",
      "ONNX for onnxruntime: its contrib ops where they are faster (attention as com.microsoft MultiHeadAttention, " +
        "which never holds the scores in memory); the model then runs in onnxruntime only",
      false,
    )
    .option(
      "--override <file>",
      "a state dict whose tensors replace loaded weights of the same name (repeatable)",
      collect,
      [],
    )
    .option("--allow-missing", "weights the checkpoint lacks are random instead of an error", false)
    .option("--allow-unexpected", "checkpoint tensors the model does not declare are warnings instead of errors", false)
    .addOption(
      new Option(
        "--external-data [file]",
        "ONNX: store the weights as external data in a side file beside the model (default <output>.data); " +
          "models over 2 GiB always do",
      ).conflicts("singleFile"),
    )
    .option("--single-file", "ONNX: keep every weight inside the model file (an error for models over 2 GiB)", false)
    .option(
      "--threads <n>",
      "ONNX: threads that draw or read the weights ahead of the writer (default: the CPUs, at most 8; 0: none)",
      integer(0),
    )
    .option("--progress", "show progress on stderr even when it is not a terminal", false)
    .addOption(verboseOption())
    .addOption(quietOption())
    .action(
      lazyWithModel(
        () => import("./commands/compile.js"),
        (m) => m.compileCommand,
      ),
    );

  cli
    .command("check <file>")
    .description("report diagnostics without writing anything")
    .addOption(setOption())
    .addOption(weightsOption())
    .option("--allow-missing", "with --weights: weights the checkpoint lacks are warnings instead of errors", false)
    .option("--allow-unexpected", "with --weights: checkpoint tensors the model does not declare are warnings", false)
    .addOption(new Option("--format <format>", "diagnostics format").choices(["text", "json"]).default("text"))
    .action(
      lazyWithModel(
        () => import("./commands/check.js"),
        (m) => m.checkCommand,
      ),
    );

  cli
    .command("fmt <files...>")
    .description("rewrite .net files in the canonical format")
    .option("--check", "only report files that are not formatted (exit 1)", false)
    .action(
      lazy(
        () => import("./commands/fmt.js"),
        (m) => m.fmtCommand,
      ),
    );

  cli
    .command("lsp")
    .description("the language server for editors (Language Server Protocol over stdin/stdout)")
    .option("--stdio", "talk over stdin/stdout (the only transport; accepted because editor clients pass it)", true)
    .action(
      lazy(
        () => import("./commands/lsp.js"),
        (m) => m.lspCommand,
      ),
    );

  cli
    .command("run <model>")
    .description("run a compiled .onnx, a WGSL bundle folder (on WebGPU through Dawn), or a .net on .npy inputs")
    .option("-i, --input <name=file.npy>", "an input tensor (repeatable)", collect, [])
    .option("-o, --output <dir>", "folder for the output .npy files")
    .addOption(setOption())
    .addOption(weightsOption())
    .option(
      "--override <file>",
      "a state dict whose tensors replace loaded weights of the same name (repeatable)",
      collect,
      [],
    )
    .option("--threads <n>", "intra-op threads", integer(1), 2)
    .option("--debug-outputs", "also write every `tap` (for .net inputs)", false)
    .option(
      "--tap <names>",
      "also write these intermediates of a .net model: <layer path>/<let name>, a layer path, or a `tap` " +
        "(comma-separated, repeatable)",
      collect,
      [],
    )
    .option("--profile", "for a WGSL bundle: time every kernel with GPU timestamps and list the slowest", false)
    .addOption(
      new Option(
        "--device <device>",
        "for ONNX: onnxruntime's CPU, its CUDA execution provider, or CUDA where available (see docs/cli.md)",
      )
        .choices(["cpu", "cuda", "auto"])
        .default("cpu"),
    )
    .addOption(verboseOption())
    .addOption(quietOption())
    .action(
      lazyWithModel(
        () => import("./commands/run.js"),
        (m) => m.runCommand,
      ),
    );

  const datasetOptions = (command: Command) =>
    command
      .addOption(setOption())
      .addOption(weightsOption())
      .option(
        "--override <file>",
        "a state dict whose tensors replace loaded weights of the same name (repeatable)",
        collect,
        [],
      )
      .option("--batch <n>", "clips per run (their test-time views run together)", integer(1), 1)
      .option("--sessions <n>", "onnxruntime sessions running batches at the same time", integer(1), 1)
      .option("--threads <n>", "intra-op threads per session", integer(1), 2)
      .addOption(
        new Option(
          "--device <device>",
          "for ONNX: onnxruntime's CPU, its CUDA execution provider, or CUDA where available",
        )
          .choices(["cpu", "cuda", "auto"])
          .default("cpu"),
      )
      .option(
        "--root <dir>",
        "folder that relative clip paths in manifests are resolved against (default: the manifest's folder)",
      )
      .addOption(verboseOption())
      .addOption(quietOption());

  datasetOptions(
    cli
      .command("infer <model> <clips...>")
      .description(
        "score clips (frame folders, videos, a folder of clip folders, CSV/JSON manifests) with the model's own " +
          "preprocessing; one JSON line per clip, resumable",
      )
      .requiredOption("-o, --output <results.jsonl>", "results file; clips already scored in it are skipped"),
  ).action(
    lazyWithModel(
      () => import("./commands/infer.js"),
      (m) => m.inferCommand,
    ),
  );

  datasetOptions(
    cli
      .command("eval <model>")
      .description(
        "WAR, UAR, per-class recall and the confusion matrix of a model on labelled clips; one row per --clips " +
          "manifest (fold) and their mean",
      )
      .option(
        "--clips <manifest>",
        "a CSV/JSON manifest with labels (repeatable: one fold each; required)",
        collect,
        [],
      )
      .option("-o, --output <results.jsonl>", "keep the per-clip results here (and resume from them)")
      .option("--svg <file.svg>", "the confusion matrix as a picture")
      .option("--json <file.json>", "the metrics as JSON")
      .option("--label-base <n>", "the number of the first class in numeric labels (DFEW's CSVs: 1)", integer(0), 0),
  ).action(
    lazyWithModel(
      () => import("./commands/eval.js"),
      (m) => m.evalCommand,
    ),
  );

  const exporter = cli.command("export").description("hand a model to a serving engine");
  exporter
    .command("triton <model>")
    .description(
      "write a Triton Inference Server model (config.pbtxt, 1/model.onnx, labels.txt) into a model repository",
    )
    .requiredOption(
      "-o, --output <model_repository>",
      "the model repository folder (it must exist; the model goes into <name>/)",
    )
    .option("--name <name>", "the model's name in the repository (default: the file's name)")
    .option("--max-batch <n>", "max_batch_size when the batch axis is symbolic", integer(1), 8)
    .addOption(
      new Option("--instance <kind>", "where Triton runs instances: KIND_GPU or KIND_CPU")
        .choices(["gpu", "cpu"])
        .default("gpu"),
    )
    .addOption(setOption())
    .addOption(weightsOption())
    .option(
      "--override <file>",
      "a state dict whose tensors replace loaded weights of the same name (repeatable)",
      collect,
      [],
    )
    .option("--opset <n>", "ONNX opset, 17 to 23", integer(0), 17)
    .option("--seed <n>", "seed for random weights when no checkpoint is given", integer(0), 0)
    .addOption(verboseOption())
    .addOption(quietOption())
    .action(
      lazyWithModel(
        () => import("./commands/export.js"),
        (m) => m.exportTritonCommand,
      ),
    );

  cli
    .command("inspect <model>")
    .description("inputs, outputs, parameter count, MACs and the op histogram of a .net or .onnx model")
    .addOption(setOption())
    .option("--json", "machine-readable output", false)
    .action(
      lazyWithModel(
        () => import("./commands/inspect.js"),
        (m) => m.inspectCommand,
      ),
    );

  cli
    .command("graph <file>")
    .description(
      "a picture of the model's blocks (nested boxes) and tensors (edges labelled with shapes), as SVG or DOT",
    )
    .option("-o, --output <file>", "output file: .svg or .dot (default: DOT on stdout)")
    .addOption(
      new Option("--format <format>", "picture format (default: from the output's extension)").choices(["svg", "dot"]),
    )
    .option("--depth <n|all>", "levels of blocks to open; deeper blocks are one box each; 'all' draws every op", "2")
    .addOption(setOption())
    .action(
      lazyWithModel(
        () => import("./commands/graph.js"),
        (m) => m.graphCommand,
      ),
    );

  cli
    .command("models")
    .description(
      "the reference models shipped with netc, usable by name (netc compile ifdd ...), with their parameters " +
        "and weight sets",
    )
    .option("--json", "machine-readable output", false)
    .action(
      lazy(
        () => import("./commands/models.js"),
        (m) => m.modelsCommand,
      ),
    );

  const weights = cli.command("weights").description("inspect and convert checkpoints");
  weights
    .command("inspect <checkpoint>")
    .description("the tree of keys, shapes and dtypes in a checkpoint")
    .action(lazy(weightsModule, (m) => m.weightsInspectCommand));
  weights
    .command("import <checkpoints...>")
    .description("map checkpoints ([name=]file, as --weights) onto a model's weights and write one safetensors file")
    .requiredOption("--model <file.net>", "the model whose weights to fill")
    .requiredOption("-o, --output <file.safetensors>", "output file")
    .addOption(setOption())
    .option("--allow-missing", "missing weights are warnings", false)
    .option("--allow-unexpected", "unexpected checkpoint tensors are warnings", false)
    .addOption(verboseOption())
    .addOption(quietOption())
    .action(
      lazy(weightsModule, (m) => async (checkpoints: string[], opts: WeightsImportOptions) => {
        const { resolveModelArgument } = await import("../models.js");
        return m.weightsImportCommand(checkpoints, { ...opts, model: resolveModelArgument(opts.model) });
      }),
    );
  return cli;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof ExitError) return e.exitCode;
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    if (e instanceof DiagnosticError) {
      try {
        report(e.diagnostics, new SourceMap());
      } catch (inner) {
        if (inner instanceof ExitError) return inner.exitCode;
      }
      return 1;
    }
    // A bug in netc, not bad input: say so plainly.
    process.stderr.write(
      `netc: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\nPlease report this ` +
        `with the input that caused it.\n`,
    );
    return 70;
  }
}
