// DOT to SVG with Graphviz compiled to WebAssembly (@viz-js/viz): no native binaries, no network.
import { instance } from "@viz-js/viz";

/** Renders DOT text as an SVG document. Throws on DOT that Graphviz rejects: ours never should, so that is a bug. */
export async function renderSvg(dot: string): Promise<string> {
  const viz = await instance();
  const result = viz.render(dot, { format: "svg" });
  if (result.status !== "success")
    throw new Error(`Graphviz rejected the generated DOT: ${result.errors.map((e) => e.message).join("; ")}`);
  return result.output;
}
