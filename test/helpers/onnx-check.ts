// Runs the reference ONNX checker (python3-onnx's onnx.checker.check_model with full_check=True) over a batch of
// model files in one Python process, since starting Python and importing onnx dominates the cost.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";

const PYTHON = "/usr/bin/python3";

const SCRIPT = `
import json, sys
import onnx
out = []
for path in sys.argv[1:]:
    try:
        # External data (large models) stays on disk: the checks concern the graph and the tensors' types and shapes.
        m = onnx.load(path, load_external_data=False)
        opset = max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
        if m.ir_version > onnx.IR_VERSION or opset > onnx.defs.onnx_opset_version():
            newer = "IR %d / opset %d is newer than onnx %s checks" % (m.ir_version, opset, onnx.__version__)
            out.append({"path": path, "skipped": newer})
            continue
        if any(t.data_location == onnx.TensorProto.EXTERNAL for t in m.graph.initializer):
            # The checker looks for external data beside the model only when given its path; the full check's
            # shape inference needs no tensor data (its path form would rewrite the file).
            onnx.checker.check_model(path)
            onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
        else:
            onnx.checker.check_model(m, full_check=True)
        out.append({"path": path})
    except Exception as e:
        out.append({"path": path, "error": "%s: %s" % (type(e).__name__, e)})
print(json.dumps(out))
`;

export interface CheckOutcome {
  path: string;
  error?: string;
  /** Set when the model is newer than the installed checker understands. */
  skipped?: string;
}

let available: boolean | undefined;

export function onnxCheckerAvailable(): boolean {
  available ??= spawnSync(PYTHON, ["-c", "import onnx"], { stdio: "ignore" }).status === 0;
  return available;
}

export function checkOnnxFiles(paths: readonly string[]): CheckOutcome[] {
  if (paths.length === 0) return [];
  const r = spawnSync(PYTHON, ["-c", SCRIPT, ...paths], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`the ONNX checker did not run: ${r.stderr}`);
  return JSON.parse(r.stdout) as CheckOutcome[];
}

/** Collects the models a test file emits, to check them all at the end. */
export class ModelBatch {
  readonly dir = mkdtempSync(join(tmpdir(), "netc-onnx-"));
  readonly paths: string[] = [];

  add(name: string, bytes: Uint8Array): string {
    const path = join(this.dir, `${this.paths.length}-${name.replace(/[^A-Za-z0-9_.-]+/g, "_")}.onnx`);
    writeFileSync(path, bytes);
    this.paths.push(path);
    return path;
  }

  addFile(path: string): void {
    this.paths.push(path);
  }
}

const MISSING = "python3-onnx is not installed (apt-get install -y python3-onnx), so the reference checker is skipped";

/** Declares the test that runs the checker over everything `batch` collected; place it last in its file. */
export function checkerTest(batch: ModelBatch): void {
  const title = "every emitted model passes onnx.checker.check_model(full_check=True)";
  if (!onnxCheckerAvailable()) {
    it.skip(`${title}: ${MISSING}`, () => {});
    return;
  }
  it(title, () => {
    expect(batch.paths.length).toBeGreaterThan(0);
    const failures = checkOnnxFiles(batch.paths).filter((o) => o.error !== undefined);
    expect(failures).toEqual([]);
  }, 60_000);
}
