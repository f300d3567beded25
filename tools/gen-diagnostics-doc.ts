// Writes docs/diagnostics.md from the code tables and the golden diagnostic cases: every code with its meaning, its
// default hint and an example of real output, from a bad `.net` file (test/diagnostics/cases) or, for codes that
// need checkpoints, bundles or options, from a command line (test/diagnostics/commands). Codes no input to netc
// can produce are listed in UNREACHABLE with the reason, which the reference prints instead of an example.
// Run: npx tsx tools/gen-diagnostics-doc.ts (test/docs/diagnostics-doc.test.ts fails when the file is stale).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CODE_AREAS } from "../src/diagnostics/all-codes.js";
import { commandArgs, commandLine, COMMANDS, parseExpected } from "../test/diagnostics/command-cases.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "../..");
const CASES = join(ROOT, "test/diagnostics/cases");

/** Codes without an example, and why no input to netc produces them. */
export const UNREACHABLE: Readonly<Record<string, string>> = {
  NET4001: "It reports an inconsistent IR graph, which the front end never builds: seeing it means a bug in netc.",
  NET6025:
    "netc's commands list these weights in the weight report they print (\"loaded but never used by the " +
    'forward", see weight-loaded-unused in test/diagnostics/commands), so they leave the note out; the ' +
    "library's compile() returns it.",
  NET6050:
    "It needs a checkpoint that changes while netc streams it into an output (another program still writing it, " +
    "or replacing it); a golden case runs netc on files that stay put. test/weights/streamed.test.ts cuts a " +
    "checkpoint while its tensors are written.",
  NET7003: "Every IR operation has a WGSL kernel today; the check guards operations added later.",
  NET7005: "Only the library's `compileWgsl` with a `maxTotalBytes` budget reports it; `netc` sets no budget.",
  NET7009:
    "Only the library's `compileWgsl` reports it; `netc` rejects any `--precision` other than f32 and f16 as a " +
    "usage error first.",
  NET7013:
    "It needs a GPU run that stalls past NETC_GPU_TIMEOUT_MS (two minutes by default); the golden cases run " +
    "without a GPU. test/safety/bundle.test.ts and test/wgsl/runtime.test.ts (a stalled WgslModel.run with " +
    "timeoutMs) check the time limit.",
  NET7040:
    "It happens in a browser (the runtime's loadModel where WebGPU cannot run a bundle compiled with " +
    "--no-fallback); netc's commands run bundles on Node's WebGPU, never through loadModel. " +
    "test/examples/fallback.test.ts shows it.",
  NET7041:
    "It happens in a browser or app without onnxruntime-web when loadModel falls back; netc's commands never " +
    "fall back. test/examples/fallback-without-ort.test.ts shows it with the package made unimportable.",
  NET7060:
    "It comes from running a bundle (WgslModel.run, or the ONNX fallback's run) on inputs at a batch outside 1 to " +
    "the bundle's maximum; the golden cases run without a GPU, and netc's commands never run the fallback. " +
    "test/wgsl/fallback-inputs.test.ts shows it on both.",
  NET8013:
    "It needs netc's writer without the read-ahead threads' program beside it (a bundle that leaves " +
    "read-ahead-worker.js out) or a program that cannot load; the golden cases run netc as it is installed. " +
    "test/onnx/read-ahead-start.test.ts bundles the writer without it, and copies the sources where tsx is missing.",
  NET8032:
    "It depends on the machine: a video clip gives it only where ffmpeg is not installed, and the golden cases " +
    "must read the same everywhere. test/dataset/video.test.ts shows it by pointing NETC_FFMPEG at a program " +
    "that does not exist.",
  NET8060:
    "Only `netc lsp` reports it, for a document open in the editor (whose text it is sent, not a file it reads); " +
    "the command line refuses such a file as NET8010. test/lsp/editing.test.ts opens one.",
  NET8070:
    "Only `netc lsp` reports it, for a checkpoint its `netc.weights` setting names (the command line reports the " +
    "reader's own error, NET6001-NET6019). test/lsp/weights.test.ts shows it for a cut and an absent file.",
  NET8071: "Only `netc lsp` reports it, for the editor's `netc.weights` setting. test/lsp/weights.test.ts shows it.",
  NET8007:
    "It needs an installation without an optional peer package (onnxruntime-node or webgpu), which this " +
    "repository's own tests always have: test/cli/optional-packages.test.ts simulates one, and " +
    "tools/package-check.sh shows both from a real install.",
};

interface Example {
  /** Where the example comes from, for the reader who wants to run it. */
  source: string;
  /** The command line, for command cases. */
  command?: string;
  /** The rendered diagnostics (and whatever netc printed around them). */
  text: string;
}

function examples(): Example[] {
  const fromFiles = readdirSync(CASES)
    .filter((f) => f.endsWith(".expected"))
    .sort()
    .map((f) => ({
      source: `test/diagnostics/cases/${f.replace(/\.expected$/, ".net")}`,
      text: readFileSync(join(CASES, f), "utf8"),
    }));
  const fromCommands = readdirSync(COMMANDS)
    .filter((f) => f.endsWith(".args"))
    .sort()
    .map((f) => ({
      source: `test/diagnostics/commands/${f}`,
      command: commandLine(commandArgs(readFileSync(join(COMMANDS, f), "utf8"))),
      text: parseExpected(readFileSync(join(COMMANDS, f.replace(/\.args$/, ".expected")), "utf8")).stderr,
    }));
  // A `.net` file alone is the simpler example, so it wins when both show a code.
  return [...fromFiles, ...fromCommands];
}

const mentions = (text: string, code: string) => text.includes(` ${code}:`);

export function diagnosticsDoc(): string {
  const all = examples();
  const lines = [
    "# Diagnostics reference",
    "",
    "Generated by `tools/gen-diagnostics-doc.ts` from the code tables and the golden cases in `test/diagnostics/cases`",
    "(bad `.net` files) and `test/diagnostics/commands` (command lines; `$TMP` is a temporary folder).",
    "Every diagnostic has a stable code, a severity, a message, a location (`file:line:col`) where there is a source,",
    "notes pointing at related places, and a hint.",
    "",
  ];
  for (const { area, codes } of CODE_AREAS) {
    lines.push(`## ${area}`, "");
    for (const info of Object.values(codes)) {
      lines.push(`### ${info.code} (${info.severity})`, "", `${info.title[0].toUpperCase()}${info.title.slice(1)}.`);
      if (info.hint) lines.push("", `Fix: ${info.hint}`);
      const example = all.find((e) => mentions(e.text, info.code));
      if (example) {
        const block = example.text.split("\n\n").find((b) => mentions(b, info.code))!;
        const shown = example.command ? `$ ${example.command}\n${block.trimEnd()}` : block.trimEnd();
        lines.push("", `Example (\`${example.source}\`):`, "", "```", shown, "```");
      } else if (UNREACHABLE[info.code]) {
        lines.push("", `No example: ${UNREACHABLE[info.code]}`);
      }
      lines.push("");
    }
  }
  return lines.join("\n");
}

/** Codes with neither an example nor a reason in UNREACHABLE, and UNREACHABLE codes that do have an example. */
export function exampleCoverage(): { missing: string[]; reachableAfterAll: string[] } {
  const all = examples();
  const codes = CODE_AREAS.flatMap((a) => Object.values(a.codes).map((c) => c.code));
  const shown = (code: string) => all.some((e) => mentions(e.text, code));
  return {
    missing: codes.filter((c) => !shown(c) && !UNREACHABLE[c]),
    reachableAfterAll: Object.keys(UNREACHABLE).filter(shown),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(join(ROOT, "docs/diagnostics.md"), diagnosticsDoc());
}
