// The file names the language server shows (an import's diagnostics, the file an import was looked for at, an
// unreadable checkpoint) are relative to the workspace folder holding the model, else to the model's folder: never
// to the folder the editor happened to start the server in.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { linearCheckpoint } from "./checkpoints.js";
import { Client, type LspDiagnostic, uri } from "./client.js";

const ROOT = resolve(__dirname, "../..");

const MODEL =
  'import "std/nn.net"\nimport "../lib/bad.net"\n\nmodel M(dim: int = 4)(x: f32[B, dim]) -> f32[B, 3] {\n' +
  "  layer head = Linear(dim, 3)\n  return head(x)\n}\n";

const HEAD =
  'import "std/nn.net"\n\nmodel M(dim: int = 4)(x: f32[B, dim]) -> f32[B, 3] {\n' +
  "  layer head = Linear(dim, 3)\n  return head(x)\n}\n";

let tmp: string;

/** A workspace: models/model.net imports lib/bad.net, whose own import cannot be read. */
function workspace(folder: string): string {
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(folder, path)), { recursive: true });
    writeFileSync(join(folder, path), text);
  };
  write("models/model.net", MODEL);
  write("lib/bad.net", 'import "gone.net"\n');
  return join(folder, "models/model.net");
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "netc-lsp-names-"));
  mkdirSync(join(tmp, "elsewhere"));
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const firstLine = (message: string) => message.split("\n")[0];

interface Shown {
  messages: string[];
  related: string[];
}

/**
 * What a server started in `cwd` shows for the model at `model`: its diagnostics' messages and the uris of their
 * related locations. `folders` are the workspace folders the client names (none: it names none).
 */
async function shown(
  cwd: string,
  folders: string[],
  model: string,
  text = MODEL,
  weights: Record<string, string> = { "**/*.net": "../ckpt/absent.safetensors" },
): Promise<Shown> {
  const before = process.cwd();
  process.chdir(cwd);
  try {
    const client = new Client();
    await client.connection.request("initialize", {
      processId: null,
      rootUri: folders.length ? uri(folders[0]) : null,
      ...(folders.length ? { workspaceFolders: folders.map((f) => ({ uri: uri(f), name: f })) } : {}),
      capabilities: {},
      initializationOptions: { weights },
    });
    client.connection.notify("initialized", {});
    const found = (await client.diagnostics(client.open(model, text), 1)) as (LspDiagnostic & {
      relatedInformation?: { location: { uri: string } }[];
    })[];
    await client.connection.request("shutdown", null);
    return {
      messages: found.map((d) => d.message),
      related: found.flatMap((d) => (d.relatedInformation ?? []).map((r) => r.location.uri)),
    };
  } finally {
    process.chdir(before);
  }
}

describe("file names the server shows", () => {
  it("are relative to the workspace folder holding the model, wherever the server was started", async () => {
    const folder = join(tmp, "ws");
    const model = workspace(folder);
    const fromRepo = await shown(ROOT, [folder], model);
    expect(await shown(join(tmp, "elsewhere"), [folder], model)).toEqual(fromRepo);
    expect(await shown(folder, [folder], model)).toEqual(fromRepo);
    expect(fromRepo.messages.map(firstLine)).toEqual([
      "lib/bad.net:1:8: cannot read 'gone.net' (looked at lib/gone.net)",
      expect.stringMatching(/^the checkpoint \.\.\/ckpt\/absent\.safetensors \(netc\.weights\) cannot be read/),
    ]);
    expect(fromRepo.related).toEqual([uri(join(folder, "lib/bad.net"))]);
    // The reader's own message names the file it could not open as the model's names are, too.
    expect(fromRepo.messages[1]).toContain("../ckpt/absent.safetensors:");
    expect(fromRepo.messages.join("\n")).not.toContain(tmp);
  });

  it("name a checkpoint in the weight report as the model's files are", async () => {
    const folder = join(tmp, "ws-weights");
    const model = join(folder, "models/head.net");
    mkdirSync(dirname(model), { recursive: true });
    writeFileSync(model, HEAD);
    linearCheckpoint(join(folder, "ckpt/head.safetensors"), "fc");
    const weights = { "**/*.net": "ckpt/head.safetensors" };
    const fromRepo = await shown(ROOT, [folder], model, HEAD, weights);
    expect(await shown(join(tmp, "elsewhere"), [folder], model, HEAD, weights)).toEqual(fromRepo);
    expect(fromRepo.messages.some((m) => m.includes("ckpt/head.safetensors"))).toBe(true);
    expect(fromRepo.messages.join("\n")).not.toContain(tmp);
  });

  it("are relative to the innermost of several folders", async () => {
    const outer = join(tmp, "outer");
    const model = workspace(join(outer, "inner"));
    const { messages } = await shown(join(tmp, "elsewhere"), [outer, join(outer, "inner")], model);
    expect(firstLine(messages[0])).toBe("lib/bad.net:1:8: cannot read 'gone.net' (looked at lib/gone.net)");
  });

  it("are relative to the model's folder when no workspace folder holds it", async () => {
    const model = workspace(join(tmp, "loose"));
    const other = join(tmp, "ws-other");
    mkdirSync(other, { recursive: true });
    for (const folders of [[other], []]) {
      const fromRepo = await shown(ROOT, folders, model);
      expect(await shown(join(tmp, "elsewhere"), folders, model)).toEqual(fromRepo);
      expect(firstLine(fromRepo.messages[0])).toBe(
        "../lib/bad.net:1:8: cannot read 'gone.net' (looked at ../lib/gone.net)",
      );
      expect(fromRepo.related).toEqual([uri(join(tmp, "loose/lib/bad.net"))]);
      // The setting's paths: relative to the first folder, or (with none) to the model's folder.
      const checkpoint = folders.length ? "../../ckpt/absent.safetensors" : "../ckpt/absent.safetensors";
      expect(fromRepo.messages[1]).toContain(`the checkpoint ${checkpoint} (netc.weights)`);
    }
  });
});
