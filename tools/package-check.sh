#!/usr/bin/env bash
# Packs netc and uses the tarball the way a new user would, outside this repository: installs it into a scratch
# project from the npm registry only (ONNXRUNTIME_NODE_INSTALL unset: nothing may be downloaded from elsewhere),
# runs the installed CLI (reference models by name, check, compile, run with and without onnxruntime-node),
# type-checks strict consumers of the library API and of the runtime against the shipped .d.ts files
# (skipLibCheck false), and bundles a browser entry that uses netc/runtime with esbuild (no Node built-ins, no
# native packages). Called by .ci/run; run it by hand with tools/package-check.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/netc-package-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
unset ONNXRUNTIME_NODE_INSTALL ONNXRUNTIME_NODE_INSTALL_CUDA npm_config_onnxruntime_node_install
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

step() { printf '\n== %s\n' "$*"; }
fail() {
  echo "package-check: $*" >&2
  exit 1
}
dev_version() { node -p "require('$ROOT/package.json').devDependencies['$1']"; }

step "npm pack (prepack builds dist/)"
cd "$ROOT"
TARBALL="$WORK/$(npm pack --silent --pack-destination "$WORK" | tail -n 1)"
tar tzf "$TARBALL" >"$WORK/files.txt"
for f in package/LICENSE package/README.md package/dist/src/cli/bin.js package/dist/src/index.d.ts package/dist/src/runtime/index.js \
  package/dist/src/util/read-ahead-worker.js \
  package/stdlib/nn.net package/models/ifdd.net package/models/variants/ifdd_topk.net; do
  grep -qx "$f" "$WORK/files.txt" || fail "the tarball lacks $f"
done
! grep -E '\.map$|^package/src/|^package/test/' "$WORK/files.txt" || fail "the tarball ships source maps or sources"
echo "$(wc -l <"$WORK/files.txt") files, $(du -k "$TARBALL" | cut -f1) KiB"

step "npm install <tarball> into a scratch project"
mkdir "$WORK/app"
cd "$WORK/app"
echo '{ "name": "netc-package-check", "private": true, "type": "module" }' >package.json
cp "$ROOT/examples/tiny.net" .
npm install "$TARBALL"
[ ! -e node_modules/onnxruntime-node ] || fail "onnxruntime-node was installed although it is an optional peer"
[ ! -e node_modules/webgpu ] || fail "webgpu was installed although it is an optional peer"
echo "installed: $(du -sh node_modules | cut -f1) in node_modules"

step "the installed CLI"
npx netc --version
npx netc models | grep -q '^ifdd (IFDD)' || fail "netc models does not list ifdd"
npx netc check tiny.net
npx netc check ifdd # by name; the README step below compiles it
# The read-ahead threads' program is found beside the installed modules (else warning NET8013).
npx netc compile tiny.net -o tiny.onnx 2>&1 | tee "$WORK/compile.txt"
! grep -q NET8013 "$WORK/compile.txt" || fail "the installed netc compiled without its read-ahead threads"
npx netc inspect tiny.onnx
npx netc compile tiny.net --target wgsl --set B=1 -o tiny-wgsl
node --input-type=module -e '
  import { writeNpyFile } from "netc";
  writeNpyFile("frames.npy", { dtype: "f32", shape: [2, 8, 64], data: Float32Array.from({ length: 1024 }, (_, i) => Math.sin(i)) });'

step "without onnxruntime-node and webgpu: a diagnostic naming the package"
expect_missing() {
  local package="$1"
  shift
  if npx netc "$@" 2>"$WORK/err.txt"; then fail "netc $* ran without $package"; fi
  cat "$WORK/err.txt"
  grep -q "NET8007" "$WORK/err.txt" && grep -q "npm install $package" "$WORK/err.txt" || fail "netc $* did not say how to install $package"
}
expect_missing onnxruntime-node run tiny.onnx -i frames=frames.npy
expect_missing webgpu run tiny-wgsl -i frames=frames.npy

step "with onnxruntime-node (CPU only)"
npm install --onnxruntime-node-install=skip "onnxruntime-node@$(dev_version onnxruntime-node)" >/dev/null
npx netc run tiny.onnx -i frames=frames.npy -o out
[ -f out/logits.npy ] || fail "netc run wrote no out/logits.npy"
npx netc run tiny.onnx -i frames=frames.npy --device auto 2>&1 | tee "$WORK/auto.txt"
if [ ! -e node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so ]; then
  grep -q "note: --device auto: .*running on the CPU" "$WORK/auto.txt" || fail "--device auto did not note the CPU fallback"
  if npx netc run tiny.onnx -i frames=frames.npy --device cuda 2>"$WORK/err.txt"; then fail "--device cuda ran without CUDA"; fi
  cat "$WORK/err.txt"
  grep -q "NET5005" "$WORK/err.txt" || fail "--device cuda without CUDA is not NET5005"
fi

step "strict consumers type-check against the shipped declarations"
npm install --save-dev "typescript@$(dev_version typescript)" "@types/node@$(dev_version @types/node)" "esbuild@$(dev_version esbuild)" >/dev/null
cat >node-consumer.ts <<'EOF'
import { compile, compileFile, type HostTensor, importWeights, inspect, listReferenceModels, renderDiagnostics, run } from "netc";
const source = "model M(n: int = 4)(x: f32[B, n]) -> (y: f32[B, n]) {\n  return relu(x)\n}\n";
const onnx = compile(source, { file: "m.net" });
if (!onnx.onnx) throw new Error(renderDiagnostics(onnx.diagnostics, onnx.sources));
const wgsl = compile(source, { target: "wgsl", overrides: { B: "1" } });
const x: HostTensor = { dtype: "f32", shape: [1, 4], data: new Float32Array([-1, 2, -3, 4]) };
const outputs: Record<string, HostTensor> = await run(onnx.onnx, { x });
const written = compileFile("tiny.net", "tiny2.onnx", { seed: 1 });
const summary = inspect(source);
const models: string[] = listReferenceModels().map((m) => m.name);
const imported = importWeights(source, []);
console.log(Object.keys(outputs), wgsl.bundle?.manifest.model, written.diagnostics.length, summary.onnx?.nodes, models, imported.diagnostics);
EOF
cat >runtime-node-consumer.ts <<'EOF'
import { WgslModel } from "netc/runtime";
import { createNodeDevice, readBundleDir } from "netc/runtime/node";
const bundle = readBundleDir("tiny-wgsl");
const gpu = await createNodeDevice(bundle.manifest);
const model = await WgslModel.create(gpu.device, bundle);
const { logits } = await model.run({ frames: new Float32Array(8 * 64) });
console.log(logits.shape);
model.destroy();
gpu.release();
EOF
cat >browser.ts <<'EOF'
import { loadBundle, requestDeviceFor, WgslModel } from "netc/runtime";
const bundle = await loadBundle("/tiny-wgsl/");
const adapter = await navigator.gpu.requestAdapter();
if (!adapter) throw new Error("no WebGPU");
const device = await requestDeviceFor(adapter, bundle.manifest);
const model = await WgslModel.create(device, bundle);
const { logits } = await model.run({ frames: new Float32Array(1 * 8 * 64) });
document.body.textContent = `${logits.shape.join("x")}: ${Array.from(logits.data as Float32Array).join(" ")}`;
EOF
cat >tsconfig.node.json <<'EOF'
{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "lib": ["ES2022"], "types": ["node"],
  "strict": true, "skipLibCheck": false, "noEmit": true }, "files": ["node-consumer.ts"] }
EOF
cat >tsconfig.runtime-node.json <<'EOF'
{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "lib": ["ES2022", "DOM"], "types": ["node"],
  "strict": true, "skipLibCheck": false, "noEmit": true }, "files": ["runtime-node-consumer.ts"] }
EOF
cat >tsconfig.browser.json <<'EOF'
{ "compilerOptions": { "target": "ES2022", "module": "ESNext", "moduleResolution": "Bundler", "lib": ["ES2022", "DOM"], "types": [],
  "strict": true, "skipLibCheck": false, "noEmit": true }, "files": ["browser.ts"] }
EOF
npx tsc -p tsconfig.node.json
npx tsc -p tsconfig.runtime-node.json
npx tsc -p tsconfig.browser.json
echo "the library (lib ES2022, no DOM), the Node runtime and the browser runtime (lib DOM) type-check"

step "a browser bundle of netc/runtime: no Node built-ins, no native packages"
npx esbuild browser.ts --bundle --platform=browser --format=esm --metafile=meta.json --outfile=browser.js --log-level=warning
node --input-type=module -e '
  import { readFileSync } from "node:fs";
  const inputs = Object.keys(JSON.parse(readFileSync("meta.json", "utf8")).inputs);
  const bad = inputs.filter((p) => /^node:|onnxruntime|node_modules\/webgpu\/|\.node$/.test(p));
  if (bad.length) throw new Error("the browser bundle pulls in " + bad.join(", "));
  const code = readFileSync("browser.js", "utf8");
  if (/\brequire\(|from "node:|import\("node:/.test(code)) throw new Error("the browser bundle refers to Node modules");
  console.log(inputs.length + " modules, " + code.length + " bytes, all browser-safe");'

step "examples/node/README.md's own-project block, against the tarball"
mkdir "$WORK/example"
cd "$WORK/example"
echo '{ "name": "netc-example", "private": true, "type": "module" }' >package.json
cp "$ROOT/examples/node/classify.ts" "$ROOT/examples/node/clip.ts" .
node -e 'const c = JSON.parse(require("fs").readFileSync(0, "utf8")); delete c.compilerOptions.paths; console.log(JSON.stringify(c, null, 2))' \
  <"$ROOT/examples/node/tsconfig.json" >tsconfig.json
awk '/^In a project of your own/ { own = 1 } own && /^```sh$/ { block = 1; next } block && /^```$/ { exit } block { print }' \
  "$ROOT/examples/node/README.md" | sed "s#^npm install netc #npm install $TARBALL #" >setup.sh
grep -q "npm install $TARBALL" setup.sh || fail "examples/node/README.md has no 'npm install netc' line in its own-project block"
cat setup.sh
bash -euo pipefail setup.sh
node --input-type=module -e '
  import { writeNpyFile } from "netc";
  const n = 3 * 16 * 224 * 224;
  writeNpyFile("clip.npy", { dtype: "f32", shape: [1, 3, 16, 224, 224], data: Float32Array.from({ length: n }, (_, i) => (Math.sin(i) + 1) / 2) });'
npx tsx classify.ts ifdd.onnx clip.npy --json | tee classify.json
node -e 'const r = JSON.parse(require("fs").readFileSync("classify.json", "utf8")); if (r.scores.length !== 7) throw new Error("expected 7 scores")'
[ -f ifdd-wgsl/manifest.json ] || fail "the README's block wrote no ifdd-wgsl bundle"

step "package check passed"
