// The packaged VS Code extension in a real VS Code: code-server (VS Code's own workbench and extension host, served
// to a browser) installs the .vsix, headless Chromium (Debian's, driven by playwright-core) opens models/ifdd.net,
// hovers a name with the mouse and reads the shape in the hover widget, types an error and reads it in the Problems
// panel and as a squiggle, deletes it and sees it go, applies a quick fix; then opens a small model that the folder's
// netc.weights pairs with a checkpoint whose names do not match, rewrites the checkpoint on disk and sees the errors
// go without an edit (VS Code's file watcher, registered by the server). VS Code's desktop build and
// @vscode/test-electron/test-web download VS Code from Microsoft's servers, which this machine cannot reach;
// code-server ships VS Code in its npm package. It is installed into a cache folder outside the repository (not a
// netc dependency), pinned below.
// Usage: npx tsx tools/vscode-e2e.ts [--vsix file] [--screenshot file.png]
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { writeSafetensors } from "../src/weights/safetensors.js";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
/** The last code-server whose engines accept Node 20 (4.103 needs 22, 4.133 needs 24); it bundles VS Code 1.100.3. */
export const CODE_SERVER_VERSION = "4.100.3";
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
/** The file opened, and the line whose names are hovered and edited (found by its text, not by its number). */
export const MODEL = "models/ifdd.net";
export const PROBE_LINE = "let cls = x[:, :, :1, :]";
const STEP_TIMEOUT_MS = 120_000;
/** A Linear(4, 3) model, and the checkpoint the workspace folder's netc.weights pairs with it. */
const WATCHED = "models/watched.net";
const WATCHED_CHECKPOINT = "ckpt/watched.safetensors";
const WATCHED_TEXT =
  'import "std/nn.net"\n\nmodel M()(x: f32[B, 4]) -> f32[B, 3] {\n  layer head = Linear(4, 3)\n  return head(x)\n}\n';

/** A checkpoint of a Linear(4, 3) whose tensors are `<layer>.weight` and `<layer>.bias` (zeros). */
function writeLinearCheckpoint(path: string, layer: string): void {
  writeSafetensors(
    path,
    new Map([
      [`${layer}.weight`, { dtype: "f32" as const, shape: [3, 4], data: new Float32Array(12) }],
      [`${layer}.bias`, { dtype: "f32" as const, shape: [3], data: new Float32Array(3) }],
    ]),
  );
}

/** A step of the scenario that did not reach what it waited for; the message names the step. */
export class VscodeStepError extends Error {
  constructor(step: string, detail: string) {
    super(`VS Code end-to-end, step "${step}": ${detail}`);
  }
}

export function defaultCache(): string {
  return process.env.NETC_VSCODE_E2E_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "netc");
}

function run(step: string, command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): void {
  try {
    execFileSync(command, args, { cwd, env: { ...process.env, ...env }, stdio: "pipe", maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { status?: number; stderr?: Buffer; stdout?: Buffer };
    const tail = `${err.stdout ?? ""}${err.stderr ?? ""}`.trim().split("\n").slice(-15).join("\n");
    throw new VscodeStepError(step, `${command} ${args.join(" ")} failed (exit ${err.status})\n${tail}`);
  }
}

/**
 * code-server installed under `cache` (once; later calls reuse it): its npm package with scripts off, since its
 * postinstall would fetch ripgrep from GitHub; then what that postinstall does, minus the downloads: VS Code's
 * server dependencies (pinned by the package's shrinkwrap) and the native modules the server loads built from
 * source (argon2 for code-server, spdlog for logs, native-watchdog for the extension host; node-pty, the
 * terminal's, is left unbuilt: the scenario opens no terminal). Returns code-server's entry script.
 */
export function installCodeServer(cache: string = defaultCache()): string {
  const home = join(cache, `code-server-${CODE_SERVER_VERSION}`);
  const entry = join(home, "node_modules", "code-server", "out", "node", "entry.js");
  if (existsSync(join(home, "ready"))) return entry;
  const partial = `${home}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  writeFileSync(join(partial, "package.json"), '{ "private": true }\n');
  const quiet = ["--no-audit", "--no-fund", "--ignore-scripts"];
  run("install code-server", NPM, ["install", ...quiet, `code-server@${CODE_SERVER_VERSION}`], partial);
  run("build argon2", NPM, ["rebuild", "argon2"], partial, { npm_config_build_from_source: "true" });
  const vscode = join(partial, "node_modules", "code-server", "lib", "vscode");
  run("install VS Code's server modules", NPM, ["install", ...quiet, "--omit=dev"], vscode);
  run("build VS Code's native modules", NPM, ["rebuild", "@vscode/spdlog", "native-watchdog"], vscode);
  // VS Code looks up some modules in node_modules.asar (code-server's postinstall makes the same link).
  symlinkSync("node_modules", join(vscode, "node_modules.asar"));
  writeFileSync(join(partial, "ready"), `code-server ${CODE_SERVER_VERSION}\n`);
  rmSync(home, { recursive: true, force: true });
  renameSync(partial, home);
  return entry;
}

/** The Problems status item's error and warning counts. */
export interface ProblemCounts {
  errors: number;
  warnings: number;
}

/** What the editor showed. */
export interface VscodeObservations {
  vscodeVersion: string;
  /** The language mode in the status bar once the file is open. */
  languageMode: string;
  /** `netc check --format json` on the same file: the counts the Problems status must show before and after. */
  expected: ProblemCounts;
  /** Milliseconds from opening the file to the first hover with a shape (the server's start and first analysis). */
  firstHoverMs: number;
  hoverText: string;
  /** The Problems panel's row for the typed error, and the status bar's counts with it. */
  problemRow: string;
  countsWithError: ProblemCounts;
  squigglesWithError: number;
  /** Milliseconds from the last keystroke to the error in the status bar, and from the fix to its removal. */
  editToErrorMs: number;
  fixToClearMs: number;
  countsAfterFix: ProblemCounts;
  squigglesAfterFix: number;
  /** The edited line as saved to disk (Ctrl+S once the status bar had cleared). */
  lineAfterFix: string;
  /** The quick fix offered for `xz` (did you mean 'x'?), and what its application left. */
  quickFixTitle: string;
  countsAfterQuickFix: ProblemCounts;
  lineAfterQuickFix: string;
  /** models/watched.net open against a checkpoint named `fc.*`; then the counts once it is rewritten as `head.*`. */
  countsWithOldCheckpoint: ProblemCounts;
  countsAfterCheckpointRewrite: ProblemCounts;
  rewriteToClearMs: number;
}

export interface ScenarioOptions {
  vsix: string;
  screenshot?: string;
  cache?: string;
  log?: (line: string) => void;
}

/** Installs code-server if needed, then runs the scenario against a scratch copy of models/ifdd.net. */
export async function runVscodeScenario(options: ScenarioOptions): Promise<VscodeObservations> {
  const log = options.log ?? (() => {});
  const entry = installCodeServer(options.cache);
  const work = mkdtempSync(join(tmpdir(), "netc-vscode-e2e-"));
  let server: ChildProcess | undefined;
  try {
    const workspace = join(work, "workspace");
    mkdirSync(join(workspace, "models"), { recursive: true });
    cpSync(join(ROOT, MODEL), join(workspace, MODEL));
    writeFileSync(join(workspace, WATCHED), WATCHED_TEXT);
    mkdirSync(join(workspace, ".vscode"));
    mkdirSync(join(workspace, "ckpt"));
    writeLinearCheckpoint(join(workspace, WATCHED_CHECKPOINT), "fc");
    const folderSettings = { "netc.weights": { [WATCHED]: WATCHED_CHECKPOINT } };
    writeFileSync(join(workspace, ".vscode", "settings.json"), JSON.stringify(folderSettings, null, 2));
    const netc = writeNetcCommand(work);
    const expected = checkCounts(netc, workspace);
    const dirs = writeEditorSettings(work, netc);
    const cli = [entry, "--config", dirs.config, "--user-data-dir", dirs.userData, "--extensions-dir", dirs.extensions];
    // code-server keeps its logs and heartbeat under XDG_DATA_HOME: in the scratch folder, not the user's home.
    const env = { XDG_DATA_HOME: join(work, "data"), XDG_CONFIG_HOME: join(work, "config") };
    run("install the .vsix", process.execPath, [...cli, "--install-extension", resolve(options.vsix)], work, env);
    const started = await startCodeServer(cli, workspace, env);
    server = started.process;
    log(`code-server on port ${started.port}`);
    const vscodeVersion = JSON.parse(
      readFileSync(join(entry, "..", "..", "..", "lib", "vscode", "package.json"), "utf8"),
    ).version;
    const observations = await drive(started.port, workspace, expected, options.screenshot, log);
    return { vscodeVersion, expected, ...observations };
  } finally {
    // code-server runs in its own process group (its extension host and `netc lsp` included): end all of it.
    if (server?.pid) {
      try {
        process.kill(-server.pid, "SIGTERM");
      } catch {}
    }
    rmSync(work, { recursive: true, force: true });
  }
}

/** `netc.path` must name one executable: a script starting this checkout's CLI from source. */
function writeNetcCommand(work: string): string {
  const script = join(work, "netc");
  const tsx = join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
  const bin = join(ROOT, "src", "cli", "bin.ts");
  writeFileSync(script, `#!/bin/sh\nexec "${process.execPath}" "${tsx}" "${bin}" "$@"\n`, { mode: 0o755 });
  return script;
}

function checkCounts(netc: string, workspace: string): ProblemCounts {
  let out: string;
  try {
    out = execFileSync(netc, ["check", MODEL, "--format", "json"], { cwd: workspace, encoding: "utf8" });
  } catch (e) {
    out = String((e as { stdout?: string }).stdout ?? "");
  }
  let diagnostics: { severity: string }[];
  try {
    diagnostics = JSON.parse(out).diagnostics;
  } catch {
    throw new VscodeStepError(
      "netc check",
      `'netc check ${MODEL} --format json' printed no JSON: '${out.slice(0, 200)}'`,
    );
  }
  const count = (severity: string) => diagnostics.filter((d) => d.severity === severity).length;
  return { errors: count("error"), warnings: count("warning") };
}

function writeEditorSettings(work: string, netc: string) {
  const userData = join(work, "user-data");
  const extensions = join(work, "extensions");
  const config = join(work, "code-server.yaml");
  mkdirSync(join(userData, "User"), { recursive: true });
  mkdirSync(extensions);
  // Port 0: the system picks a free one; code-server prints it.
  writeFileSync(config, "bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n");
  const settings = {
    "netc.path": netc,
    "security.workspace.trust.enabled": false,
    "workbench.startupEditor": "none",
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "workbench.tips.enabled": false,
    // code-server saves after a delay by default: the scratch copy must stay as typed, unsaved.
    "files.autoSave": "off",
    "files.hotExit": "off",
  };
  writeFileSync(join(userData, "User", "settings.json"), JSON.stringify(settings, null, 2));
  return { userData, extensions, config };
}

function startCodeServer(
  cli: string[],
  workspace: string,
  env: NodeJS.ProcessEnv,
): Promise<{ process: ChildProcess; port: number }> {
  const args = [...cli, "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", workspace];
  const child = spawn(process.execPath, args, {
    detached: true,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => fail("no 'HTTP server listening' line in 60 s"), 60_000);
    const fail = (why: string) => {
      clearTimeout(timer);
      if (child.pid) process.kill(-child.pid, "SIGTERM");
      reject(new VscodeStepError("start code-server", `${why}\n${output.slice(-2000)}`));
    };
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolvePort({ process: child, port: Number(m[1]) });
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("exit", (code) => fail(`exited with ${code}`));
  });
}

/** The 1-based line and column of `needle` in the model (the first line holding `line`). */
export function positionOf(line: string, needle: string): { line: number; column: number } {
  const lines = readFileSync(join(ROOT, MODEL), "utf8").split("\n");
  const index = lines.findIndex((l) => l.includes(line));
  if (index < 0) throw new VscodeStepError("find the probe line", `${MODEL} no longer has '${line}'`);
  return { line: index + 1, column: lines[index].indexOf(line) + line.indexOf(needle) + 1 };
}

/** The Problems status item's counts ("No Problems", "Warnings: 3", "Errors: 1, Warnings: 3"). */
async function problemCounts(page: Page): Promise<ProblemCounts> {
  const label = (await page.locator("#status\\.problems").getAttribute("aria-label")) ?? "";
  const count = (kind: string) => Number(new RegExp(`${kind}: (\\d+)`).exec(label)?.[1] ?? 0);
  return { errors: count("Errors"), warnings: count("Warnings") };
}

async function waitFor<T>(step: string, what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const why = last instanceof Error ? ` (last error: ${last.message.split("\n")[0]})` : "";
  throw new VscodeStepError(step, `${what} did not happen in ${STEP_TIMEOUT_MS / 1000} s${why}`);
}

async function goTo(page: Page, at: { line: number; column: number }): Promise<void> {
  await page.keyboard.press("Control+G");
  await page.locator(".quick-input-widget input").waitFor();
  await page.keyboard.type(`${at.line}:${at.column}`);
  await page.keyboard.press("Enter");
}

/**
 * The buffer's line as VS Code writes it on Ctrl+S. The rendered line is no witness of the text: inlay hints are
 * drawn inside it, and VS Code shortens them ("…") as it sees fit. The new modification time shows the save happened.
 */
async function saveAndReadLine(page: Page, file: string, line: number): Promise<string> {
  const before = statSync(file).mtimeMs;
  await page.keyboard.press("Control+S");
  await waitFor("save the file", "the file written by Ctrl+S", async () =>
    statSync(file).mtimeMs !== before ? true : undefined,
  );
  return readFileSync(file, "utf8").split("\n")[line - 1].trim();
}

/** The hover widget and the lines around it, from the editor's left edge. */
async function shoot(page: Page, path: string): Promise<void> {
  const hover = await page.locator(".monaco-hover:not(.hidden)").first().boundingBox();
  const editor = await page.locator(".monaco-editor").first().boundingBox();
  if (!hover || !editor) throw new VscodeStepError("screenshot", "the hover or the editor has no box");
  const y = Math.max(editor.y, hover.y - 60);
  const bottom = Math.min(editor.y + editor.height, hover.y + hover.height + 110);
  const width = Math.min(editor.width, hover.x + hover.width + 80 - editor.x);
  await page.screenshot({ path, clip: { x: editor.x, y, width, height: bottom - y } });
}

const sameCounts = (a: ProblemCounts, b: ProblemCounts) => a.errors === b.errors && a.warnings === b.warnings;

async function drive(
  port: number,
  workspace: string,
  expected: ProblemCounts,
  screenshot: string | undefined,
  log: (line: string) => void,
): Promise<Omit<VscodeObservations, "vscodeVersion" | "expected">> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // This machine's network is closed: Chromium's own background connections are turned off.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  let step = "open the workbench";
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await waitFor(step, "the workbench", async () =>
      (await page.locator(".monaco-workbench").count()) ? 1 : undefined,
    );

    step = `open ${MODEL}`;
    await page.getByRole("treeitem", { name: "models" }).click({ timeout: STEP_TIMEOUT_MS });
    await page.getByRole("treeitem", { name: "ifdd.net" }).click({ timeout: STEP_TIMEOUT_MS });
    await page.locator(".monaco-editor .view-lines").first().waitFor({ timeout: STEP_TIMEOUT_MS });
    const opened = Date.now();
    // Plain Text until the extension host has read the installed extensions' languages.
    const mode = page.locator("#status\\.editor\\.mode");
    const languageMode = await waitFor(step, "the language mode 'netc' (the extension's)", async () =>
      (await mode.textContent())?.trim() === "netc" ? "netc" : undefined,
    );
    log(`${MODEL} open, language mode ${languageMode}`);

    // The mouse on `cls`, retried while the server starts (no hover, or one without a shape, until it answers).
    step = "hover a name";
    const cls = positionOf(PROBE_LINE, "cls");
    await goTo(page, { line: cls.line, column: cls.column + 1 });
    const hoverText = await waitFor(step, "a hover with an f32[...] shape", async () => {
      const cursor = await page.locator(".monaco-editor .cursor").first().boundingBox();
      if (!cursor) return undefined;
      await page.mouse.move(cursor.x - 40, cursor.y - 60);
      await page.mouse.move(cursor.x + 3, cursor.y + cursor.height / 2);
      const hover = page.locator(".monaco-hover:not(.hidden) .hover-contents").first();
      await hover.waitFor({ timeout: 3000 });
      await page.waitForTimeout(300);
      // Playwright's innerText (not the DOM property) keeps the hover's line breaks.
      // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator, not a DOM node
      const text = await page.locator(".monaco-hover:not(.hidden)").first().innerText();
      return /f32\[/.test(text) ? text : undefined;
    });
    const firstHoverMs = Date.now() - opened;
    log(`hover after ${firstHoverMs} ms: ${hoverText.split("\n")[0]}`);
    if (screenshot) await shoot(page, screenshot);

    step = "diagnostics of the opened file";
    await waitFor(step, `the status bar showing netc check's ${JSON.stringify(expected)}`, async () =>
      sameCounts(await problemCounts(page), expected) ? true : undefined,
    );

    // An unknown name typed before `x`, then deleted: the error appears and goes with no save.
    step = "type an error";
    await page.mouse.move(5, 500);
    const x = positionOf(PROBE_LINE, "x[");
    await goTo(page, x);
    await page.keyboard.type("zz");
    const typed = Date.now();
    const countsWithError = await waitFor(step, "an error in the status bar", async () => {
      const counts = await problemCounts(page);
      return counts.errors > 0 ? counts : undefined;
    });
    const editToErrorMs = Date.now() - typed;
    const squigglesWithError = await waitFor(step, "an error squiggle in the editor", async () => {
      const count = await page.locator(".squiggly-error").count();
      return count > 0 ? count : undefined;
    });
    await page.keyboard.press("Control+Shift+M");
    const problemRow = await waitFor(step, "the error's row in the Problems panel", async () => {
      const rows = await page.locator(".markers-panel .monaco-list-row").allInnerTexts();
      return rows.find((r) => r.includes("zzx"));
    });
    if (!/NET\d{4}/.test(problemRow)) throw new VscodeStepError(step, `no NETxxxx code in the row '${problemRow}'`);
    log(`error after ${editToErrorMs} ms: ${problemRow.replace(/\n/g, " ")}`);

    step = "fix the error";
    await page.locator(".view-line", { hasText: /zzx/ }).first().click();
    await goTo(page, { line: x.line, column: x.column + 2 });
    await page.keyboard.press("Backspace");
    await page.keyboard.press("Backspace");
    const fixed = Date.now();
    const countsAfterFix = await waitFor(step, `the status bar back to ${JSON.stringify(expected)}`, async () => {
      const counts = await problemCounts(page);
      return sameCounts(counts, expected) ? counts : undefined;
    });
    const fixToClearMs = Date.now() - fixed;
    const squigglesAfterFix = await waitFor(step, "the squiggle gone", async () =>
      (await page.locator(".squiggly-error").count()) === 0 ? 0 : undefined,
    );
    log(`cleared after ${fixToClearMs} ms`);
    const lineAfterFix = await saveAndReadLine(page, join(workspace, MODEL), x.line);

    // A misspelling with a did-you-mean hint, repaired by the quick fix the server offers (Ctrl+. on it).
    step = "apply a quick fix";
    await goTo(page, { line: x.line, column: x.column + 1 });
    await page.keyboard.type("z");
    await waitFor(step, "the error for 'xz' in the Problems panel", async () => {
      const rows = await page.locator(".markers-panel .monaco-list-row").allInnerTexts();
      return rows.some((r) => r.includes("'xz' is not defined")) ? true : undefined;
    });
    await goTo(page, { line: x.line, column: x.column + 1 });
    const quickFix = await waitFor(step, "a quick fix in the Ctrl+. menu", async () => {
      await page.keyboard.press("Control+.");
      // The menu opens on its first fix; a pointer block over the page takes clicks: Enter applies the fix.
      const item = page.locator(".action-widget .monaco-list-row.focused", { hasText: /Change to/ }).first();
      await item.waitFor({ timeout: 3000 });
      return item;
    });
    const quickFixTitle = ((await quickFix.textContent()) ?? "").trim();
    await page.keyboard.press("Enter");
    const countsAfterQuickFix = await waitFor(step, `the status bar back to ${JSON.stringify(expected)}`, async () => {
      const counts = await problemCounts(page);
      return sameCounts(counts, expected) ? counts : undefined;
    });
    const lineAfterQuickFix = await saveAndReadLine(page, join(workspace, MODEL), x.line);
    log(`quick fix '${quickFixTitle}' applied: ${lineAfterQuickFix}`);

    // A model whose checkpoint (the folder's netc.weights) names its weights `fc.*`: errors; the checkpoint
    // rewritten on disk as `head.*`: they go, with no edit (the server had VS Code watch the file).
    step = "a checkpoint rewritten on disk";
    await page.getByRole("treeitem", { name: "watched.net" }).click({ timeout: STEP_TIMEOUT_MS });
    const countsWithOldCheckpoint = await waitFor(step, `the weight errors of ${WATCHED}`, async () => {
      const counts = await problemCounts(page);
      return counts.errors > expected.errors ? counts : undefined;
    });
    writeLinearCheckpoint(join(workspace, WATCHED_CHECKPOINT), "head");
    const rewritten = Date.now();
    const countsAfterCheckpointRewrite = await waitFor(step, "the weight errors gone", async () => {
      const counts = await problemCounts(page);
      return counts.errors === expected.errors ? counts : undefined;
    });
    const rewriteToClearMs = Date.now() - rewritten;
    const [before, after] = [countsWithOldCheckpoint.errors, countsAfterCheckpointRewrite.errors];
    log(`checkpoint rewritten: errors ${before} -> ${after} in ${rewriteToClearMs} ms`);
    return {
      languageMode,
      firstHoverMs,
      hoverText,
      problemRow,
      countsWithError,
      squigglesWithError,
      editToErrorMs,
      fixToClearMs,
      countsAfterFix,
      squigglesAfterFix,
      lineAfterFix,
      quickFixTitle,
      countsAfterQuickFix,
      lineAfterQuickFix,
      countsWithOldCheckpoint,
      countsAfterCheckpointRewrite,
      rewriteToClearMs,
    };
  } catch (e) {
    if (e instanceof VscodeStepError) throw e;
    throw new VscodeStepError(step, e instanceof Error ? e.message.split("\n")[0] : String(e));
  } finally {
    await browser.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const option = (name: string) => {
    const at = process.argv.indexOf(name);
    return at > 0 ? resolve(process.argv[at + 1]) : undefined;
  };
  const main = async () => {
    let vsix = option("--vsix");
    const scratch = vsix ? undefined : mkdtempSync(join(tmpdir(), "netc-vsix-"));
    try {
      if (!vsix) {
        const { packageVscode } = await import("./package-vscode.js");
        vsix = await packageVscode(scratch);
      }
      const seen = await runVscodeScenario({ vsix, screenshot: option("--screenshot"), log: console.log });
      console.log(JSON.stringify(seen, null, 2));
    } finally {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    }
  };
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
