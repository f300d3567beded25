// `netc graph <file.net> -o model.svg|model.dot [--depth N|all] [--set ...]`: a picture of the model's block structure.
import { extname } from "node:path";
import { compileToGraph } from "../../driver.js";
import { sourceFilePath } from "../../util/source-paths.js";
import { SourceMap } from "../../diagnostics/diagnostics.js";
import { programBlockTree } from "../../graph/blocks.js";
import { graphToDot, type PictureDepth } from "../../graph/dot.js";
import { renderSvg } from "../../graph/render.js";
import { writeAll, writeFileOutput } from "../../util/output.js";
import { parseSets, readSource, report, usage } from "../io.js";

export interface GraphOptions {
  output?: string;
  format?: "svg" | "dot";
  depth: string;
  set: string[];
}

export function parseDepth(text: string): PictureDepth {
  if (text === "all") return "all";
  if (!/^\d+$/.test(text) || Number(text) < 1) usage(`--depth expects a level of 1 or more, or 'all', got '${text}'`);
  return Number(text);
}

const FORMAT_BY_EXTENSION: Record<string, "svg" | "dot"> = { ".svg": "svg", ".dot": "dot", ".gv": "dot" };

function outputFormat(opts: GraphOptions): "svg" | "dot" {
  if (opts.format) return opts.format;
  if (!opts.output) return "dot";
  const format = FORMAT_BY_EXTENSION[extname(opts.output).toLowerCase()];
  if (!format)
    usage(`cannot tell the picture format from '${opts.output}': name it .svg or .dot, or pass --format svg|dot`);
  return format;
}

export async function graphCommand(file: string, opts: GraphOptions): Promise<void> {
  const depth = parseDepth(opts.depth);
  const format = outputFormat(opts);
  const front = compileToGraph(readSource(file, new SourceMap()), { file, overrides: parseSets(opts.set) });
  report(
    front.diagnostics.filter((d) => d.severity === "error"),
    front.sources,
  );
  const graph = front.graph!;
  const dot = graphToDot(graph, programBlockTree(graph, front.program!), depth);
  const text = format === "svg" ? await renderSvg(dot) : dot;
  if (opts.output === undefined) return void process.stdout.write(text);
  writeFileOutput(
    opts.output,
    [file, ...(front.program?.files.map((f) => sourceFilePath(f.file)) ?? [])],
    "the picture",
    (fd) => writeAll(fd, Buffer.from(text, "utf8")),
  );
  process.stderr.write(`wrote ${opts.output}\n`);
}
