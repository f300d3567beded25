// Turns a folder of frame images (PNG, JPEG) into IFDD's input [1, 3, T, H, W], preprocessed the way the official
// DFEW loader does: RGB, /255, bicubic resize, clamp to [0, 1], no mean/std normalisation. Frames that are not
// square are centre-cropped after the resize.
import { readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";

/** A problem with the user's input: printed as `error: message` plus the hint, never as a stack trace. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The model's video input: `[1, 3, frames, height, width]`. */
export interface VideoShape {
  frames: number;
  height: number;
  width: number;
}

export interface Clip {
  data: Float32Array;
  /** How the clip was made, for the report. */
  description: string;
}

export interface RgbImage {
  width: number;
  height: number;
  /** Channel planes R, G, B in [0, 1], each height x width, row-major. */
  planes: [Float32Array, Float32Array, Float32Array];
}

const IMAGE_EXTENSIONS = new Set([".png", ".jpg", ".jpeg"]);

/** Reads the model's input shape from an ONNX/bundle signature such as `["B", 3, 16, 224, 224]`. */
export function videoShape(shape: readonly (number | string)[]): VideoShape {
  const [, channels, frames, height, width] = shape;
  if (shape.length !== 5 || channels !== 3 || ![frames, height, width].every((d) => typeof d === "number"))
    throw new InputError(
      `the model's input is [${shape.join(", ")}], this example needs a video [B, 3, T, H, W] with fixed T, H and W`,
      "compile an IFDD-like model (models/ifdd.net)",
    );
  return { frames: frames as number, height: height as number, width: width as number };
}

/** Decodes one PNG or JPEG file (recognised by its first bytes) to RGB planes in [0, 1]; alpha is ignored. */
export function decodeImage(path: string): RgbImage {
  const bytes = readFileSync(path);
  let width: number, height: number, rgba: Uint8Array;
  try {
    if (bytes.subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47])))
      ({ width, height, data: rgba } = PNG.sync.read(bytes));
    else if (bytes[0] === 0xff && bytes[1] === 0xd8)
      ({ width, height, data: rgba } = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true }));
    else throw new Error("neither PNG nor JPEG data");
  } catch (e) {
    throw new InputError(`cannot decode ${path}: ${(e as Error).message}`, "frames must be PNG or JPEG images");
  }
  const planes: RgbImage["planes"] = [
    new Float32Array(width * height),
    new Float32Array(width * height),
    new Float32Array(width * height),
  ];
  for (let i = 0; i < width * height; i++) for (let c = 0; c < 3; c++) planes[c][i] = rgba[4 * i + c] / 255;
  return { width, height, planes };
}

/** The bicubic kernel with a = -0.5, as PIL and torch's antialiased resize use. */
function cubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/**
 * Source taps and weights of `count` output samples, starting at output index `first`, of an axis resized from
 * `inSize` to `outSize`. When shrinking, the kernel widens with the scale (antialiasing), as in PIL and torchvision.
 */
function resampleTaps(
  inSize: number,
  outSize: number,
  first: number,
  count: number,
): { start: number; weights: Float64Array }[] {
  const scale = inSize / outSize;
  const stretch = Math.max(scale, 1);
  const support = 2 * stretch;
  const taps = [];
  for (let i = first; i < first + count; i++) {
    const center = (i + 0.5) * scale;
    const start = Math.max(Math.floor(center - support + 0.5), 0);
    const end = Math.min(Math.floor(center + support + 0.5), inSize);
    const weights = new Float64Array(end - start);
    let sum = 0;
    for (let j = start; j < end; j++) sum += weights[j - start] = cubic((j - center + 0.5) / stretch);
    for (let j = 0; j < weights.length; j++) weights[j] /= sum;
    taps.push({ start, weights });
  }
  return taps;
}

/**
 * Resizes the shorter side to the model's size (bicubic, like torchvision's `Resize(224)`), centre-crops to
 * height x width (a no-op for square frames) and clamps to [0, 1]. A frame already at the model's size is unchanged.
 */
export function resizeAndCrop(image: RgbImage, height: number, width: number): RgbImage {
  const scale = Math.max(height / image.height, width / image.width);
  const resizedH = Math.max(height, Math.floor(image.height * scale));
  const resizedW = Math.max(width, Math.floor(image.width * scale));
  const rows = resampleTaps(image.height, resizedH, Math.round((resizedH - height) / 2), height);
  const cols = resampleTaps(image.width, resizedW, Math.round((resizedW - width) / 2), width);
  const planes = image.planes.map((plane) => {
    const wide = new Float32Array(image.height * width); // columns resampled first, then rows
    for (let y = 0; y < image.height; y++)
      cols.forEach(({ start, weights }, x) => {
        let v = 0;
        for (let k = 0; k < weights.length; k++) v += weights[k] * plane[y * image.width + start + k];
        wide[y * width + x] = v;
      });
    const out = new Float32Array(height * width);
    rows.forEach(({ start, weights }, y) => {
      for (let x = 0; x < width; x++) {
        let v = 0;
        for (let k = 0; k < weights.length; k++) v += weights[k] * wide[(start + k) * width + x];
        out[y * width + x] = Math.min(1, Math.max(0, v));
      }
    });
    return out;
  }) as RgbImage["planes"];
  return { width, height, planes };
}

/** The PNG/JPEG files of a folder in natural order (frame2 before frame10). */
export function frameFiles(dir: string): string[] {
  const names = readdirSync(dir).filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase()));
  if (names.length === 0) throw new InputError(`${dir} holds no .png, .jpg or .jpeg frames`);
  return names.sort((a, b) => a.localeCompare(b, "en", { numeric: true })).map((n) => join(dir, n));
}

/**
 * T frames spread evenly over the folder's frames (DFEW's 16-frame clips were sampled from the videos this way;
 * a folder of exactly T frames is used as is), preprocessed and laid out as [1, 3, T, H, W].
 */
export function clipFromFrames(dir: string, shape: VideoShape): Clip {
  const files = frameFiles(dir);
  const { frames, height, width } = shape;
  const data = new Float32Array(3 * frames * height * width);
  const sizes = new Set<string>();
  for (let t = 0; t < frames; t++) {
    const image = decodeImage(files[Math.floor(((t + 0.5) * files.length) / frames)]);
    sizes.add(`${image.width}x${image.height}`);
    const { planes } = resizeAndCrop(image, height, width);
    for (let c = 0; c < 3; c++) data.set(planes[c], (c * frames + t) * height * width);
  }
  const used = files.length === frames ? `${frames} frames` : `${frames} frames sampled from ${files.length}`;
  return { data, description: `${used} (${[...sizes].join(", ")} -> ${width}x${height})` };
}
