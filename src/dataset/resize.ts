// Resizing float image planes as torch does: with `antialias` the kernel widens when shrinking and weights are
// renormalised at the borders (torch's `antialias=True`, PIL's algorithm, bicubic a = -0.5); without it,
// F.interpolate(align_corners=False) (bicubic a = -0.75, edge taps clamped). `nearest` is F.interpolate's
// legacy nearest (source index floor(i * in / out)).
import type { PreprocessSpec } from "../dsl/preprocess-spec.js";
import type { RgbImage } from "./frames.js";

/** For each output sample: the source indexes it reads and their weights. */
interface Taps {
  index: Int32Array[];
  weight: Float64Array[];
}

function cubic(x: number, a: number): number {
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

const triangle = (x: number) => Math.max(0, 1 - Math.abs(x));

function antialiasedTaps(inSize: number, outSize: number, filter: (x: number) => number, support: number): Taps {
  const scale = inSize / outSize;
  const stretch = Math.max(scale, 1);
  const reach = support * stretch;
  const taps: Taps = { index: [], weight: [] };
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const start = Math.max(Math.trunc(center - reach + 0.5), 0);
    const end = Math.min(Math.trunc(center + reach + 0.5), inSize);
    const index = new Int32Array(end - start);
    const weight = new Float64Array(end - start);
    let sum = 0;
    for (let j = start; j < end; j++) {
      index[j - start] = j;
      sum += weight[j - start] = filter((j - center + 0.5) / stretch);
    }
    if (sum !== 0) for (let k = 0; k < weight.length; k++) weight[k] /= sum;
    taps.index.push(index);
    taps.weight.push(weight);
  }
  return taps;
}

function interpolateTaps(inSize: number, outSize: number, mode: PreprocessSpec["interpolation"]): Taps {
  const scale = inSize / outSize;
  const clampIndex = (j: number) => Math.min(Math.max(j, 0), inSize - 1);
  const taps: Taps = { index: [], weight: [] };
  for (let i = 0; i < outSize; i++) {
    if (mode === "nearest") {
      taps.index.push(Int32Array.of(Math.min(Math.floor(i * scale), inSize - 1)));
      taps.weight.push(Float64Array.of(1));
    } else if (mode === "bilinear") {
      const src = Math.max((i + 0.5) * scale - 0.5, 0);
      const i0 = Math.floor(src);
      const f = src - i0;
      taps.index.push(Int32Array.of(clampIndex(i0), clampIndex(i0 + 1)));
      taps.weight.push(Float64Array.of(1 - f, f));
    } else {
      const src = (i + 0.5) * scale - 0.5;
      const i0 = Math.floor(src);
      const t = src - i0;
      taps.index.push(Int32Array.of(clampIndex(i0 - 1), clampIndex(i0), clampIndex(i0 + 1), clampIndex(i0 + 2)));
      taps.weight.push(Float64Array.of(cubic(t + 1, -0.75), cubic(t, -0.75), cubic(1 - t, -0.75), cubic(2 - t, -0.75)));
    }
  }
  return taps;
}

function tapsFor(inSize: number, outSize: number, spec: Pick<PreprocessSpec, "interpolation" | "antialias">): Taps {
  if (spec.antialias && spec.interpolation !== "nearest")
    return spec.interpolation === "bilinear"
      ? antialiasedTaps(inSize, outSize, triangle, 1)
      : antialiasedTaps(inSize, outSize, (x) => cubic(x, -0.5), 2);
  return interpolateTaps(inSize, outSize, spec.interpolation);
}

const tapCache = new Map<string, Taps>();

function cachedTaps(inSize: number, outSize: number, spec: Pick<PreprocessSpec, "interpolation" | "antialias">): Taps {
  const key = `${inSize}:${outSize}:${spec.interpolation}:${spec.antialias}`;
  let taps = tapCache.get(key);
  if (!taps) {
    if (tapCache.size > 256) tapCache.clear();
    tapCache.set(key, (taps = tapsFor(inSize, outSize, spec)));
  }
  return taps;
}

/** The image resized to height x width (columns first, then rows); the same image when the size is unchanged. */
export function resizeImage(
  image: RgbImage,
  height: number,
  width: number,
  spec: Pick<PreprocessSpec, "interpolation" | "antialias">,
): RgbImage {
  if (image.height === height && image.width === width) return image;
  const cols = cachedTaps(image.width, width, spec);
  const rows = cachedTaps(image.height, height, spec);
  const planes = image.planes.map((plane) => {
    const wide = new Float32Array(image.height * width);
    for (let y = 0; y < image.height; y++) {
      const row = y * image.width;
      for (let x = 0; x < width; x++) {
        const [index, weight] = [cols.index[x], cols.weight[x]];
        let v = 0;
        for (let k = 0; k < index.length; k++) v += weight[k] * plane[row + index[k]];
        wide[y * width + x] = v;
      }
    }
    const out = new Float32Array(height * width);
    for (let y = 0; y < height; y++) {
      const [index, weight] = [rows.index[y], rows.weight[y]];
      for (let x = 0; x < width; x++) {
        let v = 0;
        for (let k = 0; k < index.length; k++) v += weight[k] * wide[index[k] * width + x];
        out[y * width + x] = v;
      }
    }
    return out;
  }) as RgbImage["planes"];
  return { width, height, planes };
}

/**
 * The size after `resize`: exact `[H, W]`, or the shorter side set to `side` (torchvision's Resize(int), truncating).
 */
export function resizedSize(
  image: { width: number; height: number },
  resize: PreprocessSpec["resize"],
): { height: number; width: number } {
  if (resize === undefined) return { height: image.height, width: image.width };
  if (Array.isArray(resize)) return { height: resize[0], width: resize[1] };
  return image.height <= image.width
    ? { height: resize, width: Math.max(1, Math.trunc((resize * image.width) / image.height)) }
    : { height: Math.max(1, Math.trunc((resize * image.height) / image.width)), width: resize };
}

/** Python's round(): halves go to the even neighbour (torchvision's center_crop uses it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A height x width window of the image at (top, left); the caller keeps it inside. */
export function cropImage(image: RgbImage, top: number, left: number, height: number, width: number): RgbImage {
  if (top === 0 && left === 0 && height === image.height && width === image.width) return image;
  const planes = image.planes.map((plane) => {
    const out = new Float32Array(height * width);
    for (let y = 0; y < height; y++)
      out.set(plane.subarray((top + y) * image.width + left, (top + y) * image.width + left + width), y * width);
    return out;
  }) as RgbImage["planes"];
  return { width, height, planes };
}
