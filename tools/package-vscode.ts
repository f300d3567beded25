// Packages editors/vscode as netc-<version>.vsix (the VS Code extension): installs the extension folder's own
// dependencies when missing (they are not netc's), bundles the client with vscode-languageclient into one file with
// esbuild (so the .vsix needs no node_modules), copies the TextMate grammar and the licence in, and runs
// @vscode/vsce. Usage: npx tsx tools/package-vscode.ts [--out folder]   (default: the repository's root)
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const EXTENSION = join(ROOT, "editors", "vscode");
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

export async function packageVscode(outFolder: string = ROOT): Promise<string> {
  const manifest = JSON.parse(readFileSync(join(EXTENSION, "package.json"), "utf8")) as { version: string };
  if (!existsSync(join(EXTENSION, "node_modules", "vscode-languageclient")) || !existsSync(vsceBin()))
    execFileSync(NPM, ["ci", "--no-audit", "--no-fund"], { cwd: EXTENSION, stdio: "inherit" });
  await build({
    entryPoints: [join(EXTENSION, "src", "extension.ts")],
    outfile: join(EXTENSION, "dist", "extension.js"),
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node18",
    external: ["vscode"],
    minify: true,
    logLevel: "warning",
  });
  mkdirSync(join(EXTENSION, "syntaxes"), { recursive: true });
  copyFileSync(join(ROOT, "editors", "netc.tmLanguage.json"), join(EXTENSION, "syntaxes", "netc.tmLanguage.json"));
  copyFileSync(join(ROOT, "LICENSE"), join(EXTENSION, "LICENSE"));
  mkdirSync(outFolder, { recursive: true });
  const out = join(resolve(outFolder), `netc-${manifest.version}.vsix`);
  execFileSync(
    process.execPath,
    [vsceBin(), "package", "--no-dependencies", "--allow-missing-repository", "--out", out],
    { cwd: EXTENSION, stdio: ["ignore", "inherit", "inherit"] },
  );
  return out;
}

function vsceBin(): string {
  return join(EXTENSION, "node_modules", "@vscode", "vsce", "vsce");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf("--out");
  packageVscode(at > 0 ? resolve(process.argv[at + 1]) : ROOT).then(
    (out) => console.log(`wrote ${out}`),
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
