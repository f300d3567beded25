// The reference models shipped with netc (models/*.net, models/variants/*.net), addressable by name: `netc compile
// ifdd` means models/ifdd.net. Listing them only parses the files (no elaboration), so `netc models` is quick.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, isAbsolute, join, relative } from "node:path";
import type * as A from "./dsl/1-parse/ast.js";
import { parseSource } from "./dsl/1-parse/parse.js";
import { packageFolder } from "./util/package-folder.js";

export interface ReferenceModelParameter {
  name: string;
  /** The type as written (`int`, `list<int>`). */
  type: string;
  /** The default as written, if any. */
  default?: string;
}

export interface ReferenceModel {
  /** The name to give netc (`ifdd`, `ifdd_topk`). */
  name: string;
  /** The .net file. */
  path: string;
  /** The `model` declared in it. */
  model: string;
  /** The first line of the file's header comment. */
  summary: string;
  /** Model parameters, settable with `--set name=value` (or `overrides`). */
  parameters: ReferenceModelParameter[];
  inputs: string[];
  outputs: string[];
  /** The file's `weights { }` sets: "default" for the unnamed one, else the name to give as `--weights name=<file>`. */
  weightSets: string[];
}

/** The models folder shipped with the package (models/ beside src/ or dist/src/). */
export const referenceModelsDir = (): string => packageFolder("models", "ifdd.net");

function modelFiles(): string[] {
  const root = referenceModelsDir();
  const netFiles = (dir: string) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith(".net"))
          .sort()
          .map((f) => join(dir, f))
      : [];
  return [...netFiles(root), ...netFiles(join(root, "variants"))];
}

const nameOf = (path: string) => basename(path, ".net");

function describe(path: string): ReferenceModel | undefined {
  const text = readFileSync(path, "utf8");
  const { ast } = parseSource(path, text);
  const model = ast.items.find((i): i is A.ModelDecl => i.kind === "Model");
  if (!model) return undefined;
  const source = (n: A.NodeBase) => text.slice(n.span.start, n.span.end);
  const header = /^\/\/\s*(.*)$/m.exec(text.split("\n").find((l) => l.startsWith("//")) ?? "");
  return {
    name: nameOf(path),
    path,
    model: model.name.name,
    summary: header?.[1].trim() ?? "",
    parameters: model.config.map((p) => ({
      name: p.name.name,
      type: source(p.type),
      ...(p.default ? { default: source(p.default) } : {}),
    })),
    inputs: model.inputs.map(source),
    outputs: model.outputs.map(source),
    weightSets: model.body
      .filter((s): s is A.WeightsStmt => s.kind === "Weights")
      .map((s) => s.name?.name ?? "default"),
  };
}

/** Every reference model, in file order. */
export function listReferenceModels(): ReferenceModel[] {
  return modelFiles()
    .map(describe)
    .filter((m): m is ReferenceModel => m !== undefined);
}

/** The .net file of the reference model `name`, or undefined. */
export function referenceModelPath(name: string): string | undefined {
  return modelFiles().find((f) => nameOf(f) === name);
}

/**
 * A command's model argument as a file: a path as given, or, for a bare name that is no file (`ifdd`), the
 * reference model of that name, relative to the working folder so diagnostics and metadata carry no machine path.
 */
export function resolveModelArgument(arg: string): string {
  if (existsSync(arg) || /[\\/]/.test(arg) || arg.includes(".")) return arg;
  const path = referenceModelPath(arg);
  if (!path) return arg;
  const rel = relative(process.cwd(), path);
  return isAbsolute(rel) ? path : rel;
}
