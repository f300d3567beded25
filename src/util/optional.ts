// The heavy runtimes are optional peer dependencies (onnxruntime-node, webgpu), and so are the frame decoders of
// netc infer and eval (pngjs, jpeg-js): loaded on first use, so the rest of netc works without them, and a missing one
// is a diagnostic that names the package and how to install it.
import { CliCodes, makeDiagnostic } from "../diagnostics/codes.js";
import { DiagnosticError } from "../diagnostics/diagnostics.js";

export type OptionalPackage = "onnxruntime-node" | "webgpu" | "pngjs" | "jpeg-js";

const INSTALL: Record<OptionalPackage, string> = {
  "onnxruntime-node":
    "npm install onnxruntime-node --onnxruntime-node-install=skip (the CPU build; for CUDA see 'Running on " +
    "CUDA' in docs/cli.md)",
  webgpu: "npm install webgpu",
  pngjs: "npm install pngjs",
  "jpeg-js": "npm install jpeg-js",
};

type Loader = (name: OptionalPackage) => Promise<unknown>;

const importPackage: Loader = (name) => import(name);
let loader: Loader = importPackage;

/** Replaces how optional packages are imported (tests simulate a missing one); no argument restores `import()`. */
export function setOptionalPackageLoader(replacement?: Loader): void {
  loader = replacement ?? importPackage;
}

const isNotFound = (e: unknown, name: string) => {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return (
    (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && String((e as Error).message).includes(name)
  );
};

/** Imports `name` for `purpose` ("netc run on an .onnx model"); throws a NET8007 DiagnosticError when it is absent. */
export async function loadOptional<T>(name: OptionalPackage, purpose: string): Promise<T> {
  try {
    return (await loader(name)) as T;
  } catch (e) {
    const message = isNotFound(e, name)
      ? `${purpose} needs the ${name} package, which is not installed`
      : `${purpose} needs the ${name} package, which is installed but cannot be loaded: ` +
        `${(e as Error).message.split("\n")[0]}`;
    throw new DiagnosticError([
      makeDiagnostic(CliCodes.PackageMissing, message, undefined, { hint: `install it: ${INSTALL[name]}` }),
    ]);
  }
}
