// `netc models`: the reference models shipped with netc, with their parameters, inputs, outputs and weight sets.
import { listReferenceModels } from "../../models.js";

export function modelsCommand(opts: { json: boolean }): void {
  const models = listReferenceModels();
  if (opts.json) {
    const plain = models.map(({ path: _path, ...m }) => m);
    return void process.stdout.write(`${JSON.stringify(plain, null, 2)}\n`);
  }
  const lines: string[] = [];
  for (const m of models) {
    lines.push(`${m.name} (${m.model}): ${m.summary}`);
    const params = m.parameters.map((p) => `${p.name}: ${p.type}${p.default !== undefined ? ` = ${p.default}` : ""}`);
    lines.push(`  parameters: ${params.join(", ") || "none"}`);
    lines.push(`  inputs:     ${m.inputs.join(", ")}`);
    lines.push(`  outputs:    ${m.outputs.join(", ")}`);
    const sets = m.weightSets.map((s) =>
      s === "default" ? "default (--weights <file>)" : `${s} (--weights ${s}=<file>)`,
    );
    lines.push(`  weights:    ${sets.join(", ") || "default (--weights <file>)"}`);
  }
  lines.push("", "Use a name where a .net file goes: netc compile ifdd --weights <checkpoint> -o ifdd.onnx");
  process.stdout.write(`${lines.join("\n")}\n`);
}
