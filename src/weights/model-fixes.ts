// Fixes a checkpoint suggests to the model's source (the language server offers them as quick fixes): a
// `weights { }` rule that maps an unexpected checkpoint tensor onto a missing weight, and a default for a model
// parameter whose value a checkpoint shape gives. Edits come out as `netc fmt` writes the code.
import type * as A from "../dsl/1-parse/ast.js";
import type { Fix, SourceMap } from "../diagnostics/diagnostics.js";
import type { SuggestedRule } from "./mapping.js";

/** One level of `netc fmt`'s indentation. */
const INDENT = "  ";

/** The whitespace that starts the line holding `offset`. */
function indentAt(text: string, offset: number): string {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

const lineOf = (text: string, offset: number) => text.slice(0, offset).split("\n").length;

/** The fix that writes `rule` into the model's `weights { }` block (or its named set's), making the block if absent. */
export function addWeightRuleFix(model: A.ModelDecl, sources: SourceMap, rule: SuggestedRule): Fix | undefined {
  const file = model.span.file;
  const text = sources.text(file);
  if (text === undefined) return undefined;
  const title = `Add \`${rule.text}\` to \`weights${rule.set ? ` ${rule.set}` : ""} { }\``;
  const at = (start: number, end: number, insert: string): Fix => ({
    title,
    edits: [{ span: sources.span(file, start, end), text: insert }],
  });
  const block = model.body.find(
    (s): s is A.WeightsStmt => s.kind === "Weights" && (s.name?.name ?? undefined) === rule.set,
  );
  if (block) {
    const last = block.rules.at(-1);
    const closeLine = lineOf(text, block.span.end - 1);
    // A block written one rule a line (as `netc fmt` writes one with rules): the rule goes on a line after the last.
    if (last && lineOf(text, last.span.end) < closeLine && lineOf(text, block.rules[0].span.start) > block.span.line)
      return at(last.span.end, last.span.end, `\n${indentAt(text, last.span.start)}${rule.text}`);
    const outer = indentAt(text, block.span.start);
    const rules = [...block.rules.map((r) => text.slice(r.span.start, r.span.end)), rule.text];
    const head = `weights${block.name ? ` ${block.name.name}` : ""} {`;
    return at(
      block.span.start,
      block.span.end,
      `${head}\n${rules.map((r) => `${outer}${INDENT}${r}\n`).join("")}${outer}}`,
    );
  }
  const [first] = model.body;
  const headerEnd = (model.outputs.at(-1) ?? model.inputs.at(-1) ?? model.name).span.end;
  const brace = text.indexOf("{", headerEnd);
  const lineEnd = text.indexOf("\n", brace);
  if (!first || brace < 0 || lineEnd < 0 || lineEnd >= first.span.start) return undefined;
  const indent = indentAt(text, first.span.start);
  const head = `weights${rule.set ? ` ${rule.set}` : ""} {`;
  return at(lineEnd + 1, lineEnd + 1, `${indent}${head}\n${indent}${INDENT}${rule.text}\n${indent}}\n`);
}

/** The fix that gives the model parameter `name` the default `value` (`dim: int` becomes `dim: int = 768`). */
export function parameterDefaultFix(
  model: A.ModelDecl,
  sources: SourceMap,
  name: string,
  value: number,
): Fix | undefined {
  const param = model.config.find((p) => p.name.name === name);
  if (!param || param.default) return undefined;
  const end = param.type.span.end;
  return {
    title: `Give '${name}' the default ${value}`,
    edits: [{ span: sources.span(param.span.file, end, end), text: ` = ${value}` }],
  };
}
