// Writes the pictures the docs show (docs/images/*.svg) with `netc graph`'s own code.
// Run: npx tsx tools/gen-doc-images.ts (test/docs/images.test.ts fails when a picture is stale).
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compileToGraph } from "../src/driver.js";
import { programBlockTree } from "../src/graph/blocks.js";
import { graphToDot, type PictureDepth } from "../src/graph/dot.js";
import { renderSvg } from "../src/graph/render.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "../..");

/** Each picture: the model it draws and the depth, as `netc graph <model> --depth <depth> -o docs/images/<name>`. */
export const DOC_IMAGES: { name: string; model: string; depth: PictureDepth }[] = [
  { name: "tiny.svg", model: "examples/tiny.net", depth: 2 },
  { name: "ifdd.svg", model: "models/ifdd.net", depth: 3 },
];

export async function docImage(model: string, depth: PictureDepth): Promise<string> {
  const front = compileToGraph(readFileSync(join(ROOT, model), "utf8"), { file: join(ROOT, model) });
  if (!front.graph) throw new Error(`${model} does not compile`);
  return renderSvg(graphToDot(front.graph, programBlockTree(front.graph, front.program!), depth));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const { name, model, depth } of DOC_IMAGES)
    writeFileSync(join(ROOT, "docs/images", name), await docImage(model, depth));
}
