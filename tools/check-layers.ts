// The dependency check of `npm run lint:deps` (and so of `npm test`): every file under src/ belongs to one layer of
// LAYERS (the longest folder prefix that holds it), and may import only files of its own layer or of a layer in an
// earlier rank. Two checks, each with its own message: folder cycles between the top-level folders of src/ (the
// structural smell the layering exists to prevent), and imports that point up (or sideways, within a rank).
// docs/architecture.md explains the order. Run: npx tsx tools/check-layers.ts [--src <folder>]
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/**
 * The layers, bottom first: a rank's layers may import every layer of an earlier rank, not each other.
 * A layer is a folder or a file of src/ ("" is the files directly in src/: the pipeline driver and the library API).
 */
export const LAYERS: readonly (readonly string[])[] = [
  ["diagnostics"],
  ["util"],
  ["dsl/1-parse"],
  ["dsl/signatures"],
  ["dsl/einops-pattern.ts", "dsl/preprocess-spec.ts"],
  ["runtime"],
  ["dsl/format", "dsl/2-analyze"],
  ["compiler/ir"],
  ["compiler/3-elaborate"],
  ["weights"],
  ["backends/onnx", "backends/wgsl", "graph"],
  ["dataset"],
  ["export"],
  [""],
  ["lsp"],
  ["cli"],
];

export interface Violation {
  kind: "cycle" | "upward";
  message: string;
}

interface Import {
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith(".ts") ? [path] : [];
  });
}

/** Every relative import of every file (static, dynamic, `import("...")` types, re-exports), as paths under src/. */
function importsOf(src: string): Import[] {
  const out: Import[] = [];
  for (const file of sourceFiles(src)) {
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith(".")) continue;
      const target = resolve(dirname(file), ref.fileName).replace(/\.js$/, ".ts");
      out.push({ from: posix(relative(src, file)), to: posix(relative(src, target)) });
    }
  }
  return out;
}

const posix = (p: string) => p.split(sep).join("/");

/** The layer holding a file: the longest layer that is the file or a folder above it. */
function layerOf(file: string, layers: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const l of layers) {
    const holds = l === "" ? !file.includes("/") : file === l || file.startsWith(`${l}/`);
    if (holds && (best === undefined || l.length > best.length)) best = l;
  }
  return best;
}

const topFolder = (file: string) => (file.includes("/") ? file.slice(0, file.indexOf("/")) : "(src)");

/** Strongly connected components of more than one folder, by Tarjan's algorithm. */
function cycles(edges: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

export function checkLayers(src: string, ranks: readonly (readonly string[])[] = LAYERS): Violation[] {
  const rankOf = new Map(ranks.flatMap((layers, r) => layers.map((l) => [l, r] as const)));
  const layers = [...rankOf.keys()];
  const imports = importsOf(src);
  const violations: Violation[] = [];

  const folderEdges = new Map<string, Set<string>>();
  const why = new Map<string, string>();
  for (const { from, to } of imports) {
    const [a, b] = [topFolder(from), topFolder(to)];
    if (a === b) continue;
    if (!folderEdges.has(a)) folderEdges.set(a, new Set());
    folderEdges.get(a)!.add(b);
    if (!why.has(`${a} ${b}`)) why.set(`${a} ${b}`, `${from} imports ${to}`);
  }
  for (const component of cycles(folderEdges)) {
    const inside = new Set(component);
    const examples = component.flatMap((a) =>
      [...(folderEdges.get(a) ?? [])].filter((b) => inside.has(b)).map((b) => `    ${why.get(`${a} ${b}`)}`),
    );
    violations.push({
      kind: "cycle",
      message: `folder cycle between ${component.join(", ")}:\n${examples.join("\n")}`,
    });
  }

  for (const { from, to } of imports) {
    const [a, b] = [layerOf(from, layers), layerOf(to, layers)];
    if (a === undefined || b === undefined) {
      violations.push({
        kind: "upward",
        message: `${a === undefined ? from : to} is in no layer of tools/check-layers.ts`,
      });
      continue;
    }
    if (a === b || rankOf.get(b)! < rankOf.get(a)!) continue;
    const name = (l: string) => (l === "" ? "src/" : l.endsWith(".ts") ? `src/${l}` : `src/${l}/`);
    violations.push({
      kind: "upward",
      message:
        `${from} imports ${to}: ${name(a)} may not import ${name(b)}, which is ` +
        `${rankOf.get(b) === rankOf.get(a) ? "beside" : "above"} it`,
    });
  }
  return violations;
}

function main(): void {
  const args = process.argv.slice(2);
  const at = args.indexOf("--src");
  const src = at >= 0 ? resolve(args[at + 1]) : resolve(fileURLToPath(import.meta.url), "../../src");
  const violations = checkLayers(src);
  for (const v of violations) process.stderr.write(`${v.kind === "cycle" ? "cycle" : "layer"}: ${v.message}\n`);
  if (violations.length) {
    process.stderr.write(
      `${violations.length} dependency violation${violations.length === 1 ? "" : "s"} (the layer order is in ` +
        `docs/architecture.md)\n`,
    );
    process.exitCode = 1;
  } else process.stdout.write(`src/: no folder cycles, no upward imports (${LAYERS.flat().length} layers)\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
