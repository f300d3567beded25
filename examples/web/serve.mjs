// A tiny static server for the example page, on 127.0.0.1 only: the page itself, a compiled WGSL bundle at
// /bundle/, netc's browser runtime at /netc/ (what the page's import map points "netc/runtime" at) and, when
// given, a clip at /clip.npy, and onnxruntime-web's browser files at /ort/ (the page's fallback where WebGPU cannot run
// the bundle, imported only then). Every response carries Content-Length and an ETag (a revisit costs a 304, not the
// bytes) and honours a byte Range. A bundle's content-named files (weight shards, the shader file, the ONNX
// fallback: `<stem>-<16 hex digits of their SHA-256>.<ext>`) never change under their names and are sent
// `immutable` for a year; everything else (manifest.json, the page, the runtime) `no-cache`, so a recompiled
// bundle is seen at once and its unchanged files are not fetched again.
//
//   node serve.mjs <bundle-dir> [--clip clip.npy] [--port 8080]
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HERE = dirname(fileURLToPath(import.meta.url));
const TYPES = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".json": "application/json",
  ".wgsl": "text/plain",
  ".css": "text/css",
  ".mjs": "text/javascript",
  ".wasm": "application/wasm",
};

/** A bundle file named by its content hash (see netc's backends/wgsl/bundle.ts). */
const CONTENT_NAMED = /^\/bundle\/(weights-[0-9a-f]{16}\.bin|shaders-[0-9a-f]{16}\.wgsl|model-[0-9a-f]{16}\.onnx)$/;

/** `path` inside `root`, or undefined when the URL tries to leave it or names no file. */
function fileUnder(root, path) {
  const file = resolve(root, `.${decodeURIComponent(path)}`);
  if (relative(root, file).startsWith("..") || !existsSync(file) || !statSync(file).isFile()) return undefined;
  return file;
}

/**
 * Reads netc's runtime modules (`runtime/*.js` and the `util/*.js` they import). Inside the netc repository, from
 * its TypeScript sources with the types stripped (so the page always runs the current runtime, built or not);
 * anywhere else, from the installed package's build.
 */
async function runtimeReader() {
  const sources = resolve(HERE, "../../src");
  if (existsSync(join(sources, "runtime/index.ts"))) {
    const { default: ts } = await import("typescript");
    const options = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 };
    return (path) => {
      const file = fileUnder(sources, path.replace(/\.js$/, ".ts"));
      return file && ts.transpileModule(readFileSync(file, "utf8"), { compilerOptions: options }).outputText;
    };
  }
  let entry;
  try {
    entry = fileURLToPath(import.meta.resolve("netc/runtime"));
  } catch {
    throw new Error("netc is not installed: npm install netc");
  }
  const root = dirname(dirname(entry)); // .../dist/src, holding runtime/ and util/
  return (path) => {
    const file = fileUnder(root, path);
    return file && readFileSync(file);
  };
}

/** onnxruntime-web's dist folder (its ES modules and wasm files), or undefined when it is not installed. */
function ortDist() {
  try {
    return dirname(fileURLToPath(import.meta.resolve("onnxruntime-web")));
  } catch {
    return undefined;
  }
}

/** A strong ETag: the body's hash, so an unchanged file revalidates with a 304 whatever its time stamp. */
const etagOf = (body) => `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` as [start, end] (inclusive) inside `size`; null when unsatisfiable. */
function rangeOf(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  const [start, end] =
    m[1] === ""
      ? [Math.max(0, size - Number(m[2])), size - 1]
      : [Number(m[1]), m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1)];
  return start <= end && start < size ? [start, end] : null;
}

/** Sends `body` with its length and ETag; a matching If-None-Match gets 304, a Range 206 (or 416). */
function send(req, res, body, type, cacheControl) {
  const bytes = Buffer.from(body);
  const etag = etagOf(bytes);
  const headers = { "content-type": type, etag, "cache-control": cacheControl, "accept-ranges": "bytes" };
  if (req.headers["if-none-match"] === etag) return void res.writeHead(304, headers).end();
  const range = req.headers.range;
  if (range) {
    const span = rangeOf(range, bytes.length);
    if (!span) return void res.writeHead(416, { ...headers, "content-range": `bytes */${bytes.length}` }).end();
    const [start, end] = span;
    return void res
      .writeHead(206, {
        ...headers,
        "content-length": end - start + 1,
        "content-range": `bytes ${start}-${end}/${bytes.length}`,
      })
      .end(bytes.subarray(start, end + 1));
  }
  res.writeHead(200, { ...headers, "content-length": bytes.length }).end(bytes);
}

/** Starts the server; resolves once it listens, with its URL. */
export async function serveExample({ bundle, clip, port = 8080 }) {
  if (!existsSync(join(bundle, "manifest.json")))
    throw new Error(`${bundle} is not a WGSL bundle (no manifest.json): compile one with netc compile --target wgsl`);
  if (clip && !existsSync(clip)) throw new Error(`${clip} does not exist`);
  const readRuntime = await runtimeReader();
  const bundleRoot = resolve(bundle);
  const ortRoot = ortDist();
  const bodyOf = (path) => {
    if (path === "/") return readFileSync(join(HERE, "index.html"));
    if (path === "/app.js") return readFileSync(join(HERE, "app.js"));
    if (path === "/clip.npy" && clip) return readFileSync(clip);
    if (path.startsWith("/bundle/"))
      return ((file) => file && readFileSync(file))(fileUnder(bundleRoot, path.slice("/bundle".length)));
    if (ortRoot && /^\/ort\/[\w.-]+\.(mjs|wasm)$/.test(path))
      return ((file) => file && readFileSync(file))(fileUnder(ortRoot, path.slice("/ort".length)));
    if (/^\/netc\/(runtime|util)\/[\w.-]+\.js$/.test(path)) return readRuntime(path.slice("/netc".length));
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    let body;
    try {
      body = bodyOf(path);
    } catch (e) {
      return void res.writeHead(400, { "content-type": "text/plain" }).end(`cannot serve ${path}: ${e.message}\n`);
    }
    if (body === undefined)
      return void res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${path}\n`);
    const type = path === "/" ? "text/html" : (TYPES[extname(path)] ?? "application/octet-stream");
    send(req, res, body, type, CONTENT_NAMED.test(path) ? "public, max-age=31536000, immutable" : "no-cache");
  });
  await new Promise((done, fail) => server.once("error", fail).listen(port, "127.0.0.1", done));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const usage = "usage: node serve.mjs <bundle-dir> [--clip clip.npy] [--port 8080]";
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: { clip: { type: "string" }, port: { type: "string", default: "8080" } },
    });
    if (args.positionals.length !== 1) throw new Error("expected one bundle folder");
    if (!/^\d+$/.test(args.values.port)) throw new Error(`--port takes a number, not ${args.values.port}`);
  } catch (e) {
    console.error(`error: ${e.message}\n${usage}`);
    process.exit(2);
  }
  serveExample({ bundle: args.positionals[0], clip: args.values.clip, port: Number(args.values.port) }).then(
    ({ url }) => console.log(`serving the example on ${url}`),
    (e) => {
      console.error(`error: ${e.message}`);
      process.exit(1);
    },
  );
}
