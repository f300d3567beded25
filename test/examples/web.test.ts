// examples/web end to end: its server (a child process, as a user starts it) serves the page, a reduced IFDD bundle
// and a clip; headless Chromium runs it on WebGPU, and the bars must show onnxruntime's scores for the same graph.
// Then frames picked in the page's file input go the same way.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { afterAll, describe, expect, it } from "vitest";
import { encodeNpy } from "../../src/util/npy.js";
import { random } from "../helpers/ir.js";
import { CLIP_SHAPE, expectScores, reducedIfdd, referenceScores, writeBundle } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const WGSL_TOLERANCE = 1e-3;

const playwright = await import("playwright-core").catch(() => undefined);
const why = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is missing (apt-get install chromium)`
  : !playwright
    ? "playwright-core is not installed"
    : undefined;

/** Starts `node examples/web/serve.mjs` on a free port; resolves with its URL once it listens. */
function startServer(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["examples/web/serve.mjs", ...args, "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const seen = (chunk: Buffer) => {
      output += chunk;
      const url = /on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1];
      if (url) resolve({ url, child });
    };
    child.stdout.on("data", seen);
    child.stderr.on("data", seen);
    child.on("exit", (code) => reject(new Error(`serve.mjs exited with ${code}: ${output}`)));
  });
}

interface PageResult {
  state: string;
  status: string;
  clipInfo: string;
  rows: { label: string; score: number; width: string; text: string }[];
  timings: string[];
}

type Page = Awaited<ReturnType<Awaited<ReturnType<NonNullable<typeof playwright>["chromium"]["launch"]>>["newPage"]>>;

async function readPage(page: Page): Promise<PageResult> {
  return page.evaluate(() => ({
    state: document.body.dataset.state ?? "",
    status: document.getElementById("status")!.textContent ?? "",
    clipInfo: document.getElementById("clip-info")!.textContent ?? "",
    rows: [...document.querySelectorAll<HTMLElement>("#bars li")].map((li) => ({
      label: li.dataset.label!,
      score: Number(li.dataset.score),
      width: li.querySelector<HTMLElement>(".fill")!.style.width,
      text: li.querySelector(".value")!.textContent ?? "",
    })),
    timings: ["t-load", "t-device", "t-pipelines", "t-first", "t-run"].map(
      (id) => document.getElementById(id)!.textContent ?? "",
    ),
  }));
}

/** The bars show each score as a width and a percentage, best first, matching onnxruntime's scores. */
function expectBars(result: PageResult, want: ReadonlyMap<string, number>): void {
  expect(result.state, result.status).toBe("done");
  expectScores(result.rows, want, WGSL_TOLERANCE);
  for (const row of result.rows) {
    expect(row.width).toBe(`${(100 * row.score).toFixed(2)}%`);
    expect(row.text).toBe(`${(100 * row.score).toFixed(1)}%`);
  }
  for (const t of result.timings) expect(t).toMatch(/^\d+(\.\d)? m?s$/);
}

describe.skipIf(why)(`examples/web in headless Chromium${why ? ` (skipped: ${why})` : ""}`, () => {
  let server: ChildProcess | undefined;
  afterAll(() => server?.kill());

  it("shows onnxruntime's scores for the server's clip and for picked frames", async () => {
    const model = reducedIfdd();
    const bundle = writeBundle(model);
    const clip = random("f32", CLIP_SHAPE, 31, 0, 1);
    const clipFile = join(model.dir, "clip.npy");
    writeFileSync(clipFile, encodeNpy(clip));
    const started = await startServer([bundle, "--clip", clipFile]);
    server = started.child;

    const browser = await playwright!.chromium.launch({ executablePath: CHROMIUM, args: ["--enable-unsafe-webgpu"] });
    try {
      const page = await browser.newPage();
      await page.goto(started.url);
      await page.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state ?? ""), undefined, {
        timeout: 120_000,
      });
      expectBars(await readPage(page), await referenceScores(model, clip.data as Float32Array));

      // Frames at the model's size go through the canvas unscaled, so the page's clip is exactly their pixels.
      const [, , frames, height, width] = CLIP_SHAPE;
      const pixels = random("u8", [frames, height, width, 3], 32, 0, 256).data as Uint8Array;
      const files = Array.from({ length: frames }, (_, t) => {
        const png = new PNG({ width, height });
        for (let i = 0; i < width * height; i++) {
          png.data.set(pixels.subarray(3 * (t * width * height + i), 3 * (t * width * height + i) + 3), 4 * i);
          png.data[4 * i + 3] = 255;
        }
        return { name: `frame${t + 1}.png`, mimeType: "image/png", buffer: PNG.sync.write(png) };
      });
      const expected = new Float32Array(3 * frames * height * width);
      for (let t = 0; t < frames; t++)
        for (let i = 0; i < width * height; i++)
          for (let c = 0; c < 3; c++)
            expected[(c * frames + t) * width * height + i] = pixels[3 * (t * width * height + i) + c] / 255;
      await page.setInputFiles("#frames", files.reverse()); // the page orders them by name
      await page.waitForFunction(
        () =>
          document.getElementById("clip-info")!.textContent!.includes("resized") &&
          document.body.dataset.state !== "running",
        undefined,
        { timeout: 60_000 },
      );
      const picked = await readPage(page);
      expect(picked.clipInfo).toContain(`${frames} frames`);
      expectBars(picked, await referenceScores(model, expected));
    } finally {
      await browser.close();
    }
  }, 180_000);
});
