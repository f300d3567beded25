// `netc check <file.net>`: diagnostics only. Elaborates the model (with --set) when the file has one.
import { compileToGraph } from "../../driver.js";
import { SourceMap } from "../../diagnostics/diagnostics.js";
import { defaultStyle, parseSets, readSource, report } from "../io.js";

export interface CheckOptions {
  set: string[];
  format: "text" | "json";
}

export function checkCommand(file: string, opts: CheckOptions): void {
  const text = readSource(file, new SourceMap());
  const r = compileToGraph(text, {
    file,
    overrides: parseSets(opts.set),
    requireModel: false,
    noteUncheckedBlocks: true,
  });
  report(r.diagnostics, r.sources, { ...defaultStyle(), format: opts.format });
  if (opts.format === "text") process.stderr.write(`${file}: ok\n`);
}
