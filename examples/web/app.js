// The page's logic: load a netc WGSL bundle with loadModel (WebGPU where the browser has what the bundle needs, else
// the bundle's ONNX fallback on onnxruntime-web), run it on a clip and draw the softmax scores as bars, named by the
// labels the model declares (its `preprocess { labels = [...] }`). The clip is the server's /clip.npy when it has one (else a synthetic clip), or frames
// the user picks, preprocessed like IFDD's DFEW loader: RGB in [0, 1], resized and centre-cropped, no mean/std.
import { loadModel } from "netc/runtime";

const $ = (id) => document.getElementById(id);
const ms = (t) => (t < 100 ? `${t.toFixed(1)} ms` : t < 10_000 ? `${Math.round(t)} ms` : `${(t / 1000).toFixed(1)} s`);

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

/** What the WebGPU adapter calls itself. */
function deviceName(device) {
  const info = device.adapterInfo ?? {};
  return info.description || [info.vendor, info.architecture].filter(Boolean).join(" ") || "WebGPU adapter";
}

/** The video input [1, 3, T, H, W] of an IFDD-like model. */
function videoShape(slot) {
  const [, channels, frames, height, width] = slot.shape;
  if (slot.shape.length !== 5 || channels !== 3)
    throw new Error(`the model's input ${slot.name} is [${slot.shape}], this page needs a video [1, 3, T, H, W]`);
  return { frames, height, width };
}

/** A little-endian float32 .npy in C order (what numpy.save writes for such an array). */
function parseNpy(buffer) {
  const bytes = new Uint8Array(buffer);
  if (String.fromCharCode(...bytes.subarray(1, 6)) !== "NUMPY") throw new Error("clip.npy is not a .npy file");
  const wide = bytes[6] >= 2;
  const headerLength = wide ? new DataView(buffer).getUint32(8, true) : new DataView(buffer).getUint16(8, true);
  const start = (wide ? 12 : 10) + headerLength;
  const header = new TextDecoder().decode(bytes.subarray(wide ? 12 : 10, start));
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header))
    throw new Error(`clip.npy must be little-endian float32 in C order (header ${header.trim()})`);
  const shape = header
    .match(/'shape':\s*\(([^)]*)\)/)?.[1]
    .split(",")
    .filter((s) => s.trim())
    .map(Number);
  if (!shape) throw new Error(`clip.npy has no shape in its header (${header.trim()})`);
  return { shape, data: new Float32Array(buffer.slice(start)) };
}

/** A soft blob drifting across the frames: something to look at when the server has no clip. */
function syntheticClip({ frames, height, width }) {
  const data = new Float32Array(3 * frames * height * width);
  for (let t = 0; t < frames; t++) {
    const cx = 0.3 + (0.4 * t) / Math.max(frames - 1, 1);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const d2 = (x / width - cx) ** 2 + (y / height - 0.45) ** 2;
        const blob = Math.exp(-d2 * 18);
        const rgb = [0.25 + 0.7 * blob, 0.3 + 0.45 * blob, 0.55 + 0.2 * blob - 0.2 * (y / height)];
        for (let c = 0; c < 3; c++) data[((c * frames + t) * height + y) * width + x] = rgb[c];
      }
  }
  return { data, description: `synthetic clip, ${frames} frames of ${width}x${height}` };
}

async function sampleClip(shape) {
  const response = await fetch("clip.npy");
  if (!response.ok) return syntheticClip(shape);
  const { shape: given, data } = parseNpy(await response.arrayBuffer());
  const want = [1, 3, shape.frames, shape.height, shape.width];
  if (given.join() !== want.join() && [1, ...given].join() !== want.join())
    throw new Error(`clip.npy is [${given}], the model takes [${want}]`);
  return { data, description: `clip.npy, ${shape.frames} frames of ${shape.width}x${shape.height}` };
}

/**
 * T frames spread evenly over the picked images (in natural name order), each scaled so that its shorter side fits
 * the model (the browser's high-quality smoothing stands in for the official bicubic resize) and centre-cropped.
 */
async function clipFromFiles(files, { frames, height, width }) {
  const sorted = [...files].sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.imageSmoothingQuality = "high";
  const data = new Float32Array(3 * frames * height * width);
  for (let t = 0; t < frames; t++) {
    const bitmap = await createImageBitmap(sorted[Math.floor(((t + 0.5) * sorted.length) / frames)]);
    const scale = Math.max(width / bitmap.width, height / bitmap.height);
    const [sw, sh] = [width / scale, height / scale];
    ctx.drawImage(bitmap, (bitmap.width - sw) / 2, (bitmap.height - sh) / 2, sw, sh, 0, 0, width, height);
    bitmap.close();
    const rgba = ctx.getImageData(0, 0, width, height).data;
    for (let i = 0; i < width * height; i++)
      for (let c = 0; c < 3; c++) data[(c * frames + t) * height * width + i] = rgba[4 * i + c] / 255;
  }
  const picked = sorted.length === frames ? `${frames} frames` : `${frames} frames sampled from ${sorted.length}`;
  return { data, description: `${picked}, resized to ${width}x${height}` };
}

function drawStrip(clip, { frames, height, width }) {
  const strip = $("strip");
  strip.replaceChildren();
  strip.style.setProperty("--frames", frames);
  const plane = height * width;
  for (let t = 0; t < frames; t++) {
    const canvas = Object.assign(document.createElement("canvas"), { width, height, title: `frame ${t + 1}` });
    const image = new ImageData(width, height);
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) image.data[4 * i + c] = 255 * clip.data[(c * frames + t) * plane + i];
      image.data[4 * i + 3] = 255;
    }
    canvas.getContext("2d").putImageData(image, 0, 0);
    strip.append(canvas);
  }
  $("clip-info").textContent = clip.description;
}

function softmax(logits) {
  const top = Math.max(...logits);
  const exps = Array.from(logits, (v) => Math.exp(v - top));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** One row per class, best first, named by the model's labels; each row keeps the exact score in data-score. */
function drawScores(logits, declared) {
  const labels = declared?.length === logits.length ? declared : Array.from(logits, (_, i) => `class ${i}`);
  const rows = softmax(logits)
    .map((score, i) => ({ label: labels[i], score }))
    .sort((a, b) => b.score - a.score)
    .map(({ label, score }) => {
      const li = document.createElement("li");
      Object.assign(li.dataset, { label, score: String(score) });
      li.innerHTML = `<span class="label"></span><span class="track"><span class="fill"></span></span><span class="value"></span>`;
      li.querySelector(".label").textContent = label;
      li.querySelector(".fill").style.width = `${(100 * score).toFixed(2)}%`;
      li.querySelector(".value").textContent = `${(100 * score).toFixed(1)}%`;
      return li;
    });
  $("bars").replaceChildren(...rows);
}

async function main() {
  const started = performance.now();
  let downloaded = started;
  // Progress as the bytes arrive and the pipelines compile (the two overlap: each weight shard goes to the GPU as it
  // arrives); every file but the manifest stays in Cache Storage, so a revisit fetches none of them.
  const mb = (n) => (n / 2 ** 20).toFixed(1);
  let bytesSeen = 0;
  const model = await loadModel(new URL("bundle/", location.href), {
    cache: true,
    onProgress: (p) => {
      if (p.loadedBytes !== bytesSeen) downloaded = performance.now();
      bytesSeen = p.loadedBytes;
      const cached = p.cachedBytes > 0 ? ` (${mb(p.cachedBytes)} MB from the cache)` : "";
      const pipelines = p.totalPipelines > 0 ? `, pipelines ${p.compiledPipelines} of ${p.totalPipelines}` : "";
      setStatus(`Loading the model: ${mb(p.loadedBytes)} of ${mb(p.totalBytes)} MB${cached}${pipelines}…`);
    },
  });
  $("t-load").textContent = ms(downloaded - started);
  $("t-pipelines").textContent = ms(performance.now() - downloaded);
  const { manifest } = model;
  $("adapter").textContent =
    model.backend === "webgpu" ? deviceName(model.device) : `${model.backend}: ${model.reason}`;
  document.body.dataset.backend = model.backend;
  const [input, output] = [model.inputs[0], model.outputs[0]];
  const shape = videoShape(input);
  const runs = model.backend === "webgpu" ? `${manifest.kernels.length} kernels` : "its ONNX fallback";
  $("model-info").textContent =
    `${manifest.model}: ${runs}, input ${input.name} [${input.shape.join(", ")}], ${manifest.precision}`;

  let clip;
  let first = true;
  const classify = async () => {
    setStatus("Running…");
    document.body.dataset.state = "running";
    const began = performance.now();
    const outputs = await model.run({ [input.name]: clip.data });
    const took = performance.now() - began;
    if (first) $("t-first").textContent = ms(took);
    first = false;
    $("t-run").textContent = ms(took);
    drawScores(outputs[output.name].data, manifest.preprocess?.labels);
    setStatus(`Done: ${clip.description}.`);
    document.body.dataset.state = "done";
  };
  const fail = (e) => {
    setStatus(`Error: ${e.message ?? e}`, true);
    document.body.dataset.state = "error";
  };

  clip = await sampleClip(shape);
  drawStrip(clip, shape);
  await classify();
  $("again").disabled = false;
  $("again").onclick = () => classify().catch(fail);
  $("frames").onchange = async (event) => {
    const files = event.target.files;
    if (!files?.length) return;
    try {
      clip = await clipFromFiles(files, shape);
      drawStrip(clip, shape);
      await classify();
    } catch (e) {
      fail(e);
    }
  };
}

main().catch((e) => {
  setStatus(`Error: ${e.message ?? e}`, true);
  document.body.dataset.state = "error";
});
